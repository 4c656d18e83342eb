// Package bqtest is a local stand-in for Google BigQuery's REST API v2, faithful enough that the
// real client, cloud.google.com/go/bigquery, can be pointed at it in tests:
//
//	srv := bqtest.Start(t, bqtest.Options{Project: "proj", PollsToDone: 2})
//	client, err := bigquery.NewClient(ctx, "proj", srv.ClientOptions()...)
//
// ClientOptions is option.WithEndpoint(srv.Endpoint()) (URL + "/bigquery/v2/", trailing slash
// included: the client resolves "projects/..." against it), option.WithoutAuthentication() and an
// option.WithHTTPClient for the test server. The first two alone also work. Media uploads need
// nothing more: the client always sends them to <scheme>://<endpoint host>/upload/bigquery/v2/...,
// whatever the endpoint's path, and this server answers there. An endpoint given without a path
// (URL alone) works too: metadata calls then arrive at /projects/..., which is also served.
//
// The same server answers a minimal Cloud Storage JSON API for loads from Cloud Storage: point
// google.golang.org/api/storage/v1 at StorageEndpoint() (URL + "/storage/v1/"; uploads go to
// URL + "/upload/storage/v1/", where the client sends them by itself), or use
// StorageClientOptions, and create buckets with CreateBucket.
//
// Data lives in an in-memory DuckDB (SET TimeZone = 'UTC', one thread): a dataset is a DuckDB
// schema, a table a DuckDB table, a view a DuckDB view. Column types: INTEGER/INT64 → BIGINT, STRING → VARCHAR,
// BOOLEAN/BOOL → BOOLEAN, NUMERIC → DECIMAL(38, 9), FLOAT/FLOAT64 → DOUBLE, TIMESTAMP → TIMESTAMPTZ,
// DATE → DATE, DATETIME → TIMESTAMP, TIME → TIME, BYTES → BLOB, RECORD → STRUCT, REPEATED x → x[]
// (never NULL), REQUIRED → NOT NULL. Server.Query and Server.DB give tests direct access (tables
// are "dataset"."table").
//
// # Emulated
//
//   - datasets: insert (409 duplicate when it exists), get, list, patch (description, labels,
//     friendly name), delete (deleteContents).
//   - tables: insert (409 duplicate; schema, description and column descriptions, time
//     partitioning on a DATE/TIMESTAMP/DATETIME column, up to 4 clustering columns, labels; views
//     with view.query), get (schema, numRows, partitioning, clustering, descriptions, etag; a
//     view's schema is its query's), list, patch (add NULLABLE or REPEATED columns, relax REQUIRED
//     to NULLABLE as BigQuery allows, change descriptions, clustering, partition expiration, a
//     view's query; refused with 400 invalid: removing a column, changing a type, adding a
//     REQUIRED column, NULLABLE → REQUIRED, changing the partitioning; If-Match etags → 412),
//     delete; tabledata.list.
//   - jobs.insert of load jobs with the data uploaded with the job (uploadType=multipart, and
//     uploadType=resumable: session initiation answered with a Location header, then chunks with
//     Content-Range, "X-GUploader-No-308" honoured, retried chunks accepted) or read from Cloud
//     Storage (configuration.load.sourceUris: one or several gs://bucket/object, no wildcards),
//     and of query jobs; jobs.get; jobs.query; jobs.getQueryResults (paging with maxResults,
//     pageToken, startIndex); jobs.cancel. A client-chosen job ID that exists is answered 409 "Already Exists: Job
//     project:LOCATION.id" (reason duplicate); an unknown job 404 notFound.
//   - job states: PENDING in the insert's answer, then one step per jobs.get (or getQueryResults)
//     until Options.PollsToDone polls have been made: RUNNING, ..., DONE. A load job's effect
//     happens atomically (one DuckDB transaction) when it turns DONE; a job never polled never
//     runs. Failures are reported as BigQuery does: status.errorResult and status.errors.
//   - load jobs: sourceFormat PARQUET; writeDisposition WRITE_APPEND (default), WRITE_TRUNCATE,
//     WRITE_EMPTY (fails "duplicate" on a non-empty table); createDisposition CREATE_IF_NEEDED
//     (default; the table takes the explicit schema or the file's, and the job's partitioning,
//     clustering and destinationTableProperties) and CREATE_NEVER (fails notFound);
//     parquetOptions.enableListInference; an explicit schema; schemaUpdateOptions
//     ALLOW_FIELD_ADDITION and ALLOW_FIELD_RELAXATION. The file is decoded with
//     arrow/go/v17/parquet and checked against the table the way BigQuery does; a mismatch ends
//     the job DONE with errorResult reason "invalid" and a message naming the column:
//     "Provided Schema does not match Table p:d.t. Cannot add fields (field: x)" for a column the
//     table lacks, "... Field x has changed type from NUMERIC to FLOAT" for a type mismatch
//     (Parquet types map as BigQuery maps them: INT32/INT64 → INTEGER, BYTE_ARRAY UTF8 → STRING,
//     BOOLEAN, DOUBLE/FLOAT → FLOAT, DECIMAL(p,s) → NUMERIC when p-s ≤ 29 and s ≤ 9 else
//     BIGNUMERIC, TIMESTAMP(MILLIS|MICROS|NANOS, adjusted to UTC) → TIMESTAMP and not adjusted →
//     DATETIME, DATE, TIME, plain BYTE_ARRAY → BYTES, a LIST → REPEATED element with list
//     inference and RECORD without), "... Field x has changed mode from NULLABLE to REPEATED" for
//     a list into a scalar column, "... Field x is missing in new schema" for a REQUIRED column
//     missing from the file, "... Field x has changed mode from REQUIRED to NULLABLE" for an
//     OPTIONAL Parquet column into a REQUIRED column (as BigQuery does when the job gives no
//     schema; with an explicit schema the data is checked instead: "Required field x cannot be
//     null"), and NULL elements in lists. Rows are then inserted with read_parquet. A load from
//     Cloud Storage reads its objects as they are when the job runs (turns DONE): a missing
//     bucket or object ends the job notFound ("Not found: URI gs://..."), a denied
//     storage.objects.get accessDenied, files with different columns invalid; every file is
//     checked as above, and deleting or replacing the objects afterwards changes nothing.
//     statistics.load reports inputFiles and inputFileBytes.
//   - quotas: load jobs per destination table per UTC day of Options.Now
//     (Options.LoadJobsPerTablePerDay, default 1500); every load job created counts, failed ones
//     too; beyond it jobs.insert answers 403 quotaExceeded "Quota exceeded: Your table exceeded
//     quota for imports or query appends per table...". Counters: LoadJobs, LoadJobsByDay,
//     JobInserts (every attempt), JobIDs, Jobs, FaultsFired.
//   - queries (jobs.query, query jobs): GoogleSQL is rewritten for DuckDB: `project.dataset.table`,
//     `dataset.table` and `project`.`dataset`.`table` become "dataset"."table", "double-quoted"
//     strings become 'single-quoted', backslash escapes are resolved, # comments become --, named
//     (@name) and positional (?) scalar query parameters are bound; defaultDataset resolves
//     unqualified names. Everything DuckDB and GoogleSQL share works (joins, QUALIFY, window
//     functions, CTEs, aggregates, t.*). Results come back in BigQuery's REST shape: a schema and
//     rows of {"f":[{"v":...}]}, INTEGER/NUMERIC/FLOAT as strings (NUMERIC in canonical form:
//     "105.15"), TIMESTAMP as integer microseconds when formatOptions.useInt64Timestamp is set (the
//     Go client always sets it) and as floating-point seconds ("1.7091963E9") otherwise, DATE as
//     "2006-01-02", REPEATED as [{"v":...}], RECORD as {"f":[...]}.
//   - IAM, as far as a test needs to take permissions away: Server.DenyPermissions removes
//     permissions from the caller (who otherwise has them all); tables.testIamPermissions
//     (Table.IAM().TestPermissions in the client) answers the permissions asked for that are not
//     denied, and datasets.get (bigquery.datasets.get), tables.insert (bigquery.tables.create),
//     tables.patch (bigquery.tables.update) and jobs.insert (bigquery.jobs.create; for a load job
//     also bigquery.tables.updateData on its destination) are answered 403 accessDenied with
//     BigQuery's message when their permission is denied.
//   - Cloud Storage (JSON API v1, same server): buckets.get (location, 404 for a bucket that
//     CreateBucket did not create), buckets.testIamPermissions (the permissions asked for that
//     DenyPermissions did not take away; 404 for a missing bucket); objects.insert with
//     uploadType=media, multipart (the metadata part names the object) and resumable (the same
//     session protocol as jobs.insert's, the session URI under /upload/storage/v1/), CRC32C and
//     MD5 checked when the client sends them (metadata crc32c/md5Hash, or X-Goog-Hash on the
//     last chunk), ifGenerationMatch (412 conditionNotMet), an existing object replaced by a new
//     generation; objects.get (metadata, or the data with alt=media); objects.delete (204; 404
//     when missing). Object names may contain slashes (sent escaped as %2F). Permissions checked
//     when denied: storage.buckets.get, storage.objects.create (and .delete to replace),
//     storage.objects.delete, storage.objects.get (answered 403 forbidden). Counters:
//     ObjectUploads, ObjectDeletes, StorageRequests; Objects and ObjectData show the contents.
//   - errors in BigQuery's envelope: {"error":{"code","message","errors":[{"domain","reason",
//     "message","location"}],"status"}}; messages never quote row values.
//   - faults, injected deterministically (InjectFault, Options.FaultHook) and counted
//     (FaultsFired): see FaultKind.
//
// # Not emulated
//
// Authentication and IAM policies (every request is accepted unless DenyPermissions took its
// permission away; getIamPolicy and setIamPolicy are not served); projects other than Options.Project;
// streaming inserts (tabledata.insertAll) and the Storage Read/Write APIs; formats other than
// Parquet; wildcard source URIs; the rest of Cloud Storage (bucket creation and listing through
// the API, object listing, copy, compose, rewrite, ACLs, lifecycle rules, the XML API, the
// location rules between buckets and datasets); copy and extract jobs; dry runs; legacy SQL; query
// destination tables, DML, DDL and scripts (a query is one SELECT); BigQuery-only SQL functions and
// types (BIGNUMERIC, JSON, GEOGRAPHY, INTERVAL, RANGE columns are refused); array and struct query
// parameters; partition decorators and partition pruning (partitioning and clustering are stored
// and returned, not used); table expiration; the 10 MB response limit; job listing and deletion;
// routines, models, row access policies. WRITE_TRUNCATE replaces the rows but keeps the table's
// schema. RECORD columns are stored and queried; loading them requires the file's struct fields in
// the table's order.
//
// # How the Go client polls
//
// bigquery.Job.Wait on a load job calls jobs.get, then sleeps a random duration in (0, 1s], then
// (0, 2s], ... (gax backoff, initial 1s, multiplier 2, max 30s) until DONE. With PollsToDone 2 a
// Wait costs one pause (0.5 s on average, at most 1 s). Tests that want speed poll
// Job.Status in a loop instead: every call advances the job, so PollsToDone calls are enough and
// nothing sleeps. Query jobs are awaited with jobs.getQueryResults (backoff 50 ms × 1.3).
// Client-side retries: jobs.insert without media (query jobs, and load jobs from Cloud Storage,
// with a job ID) and jobs.get, jobs.query, tables.patch and tables.insert retry 5xx,
// backendError and rateLimitExceeded by themselves (pause (0, 1s], then doubling); a jobs.insert
// WITH media (load jobs) is never retried by the client: the caller sees the 503 or 403 and must
// retry itself with the same job ID, and handle 409 by fetching the job (Client.JobFromID).
// Chunks of a resumable upload (jobs.insert's or objects.insert's) are retried by the client's
// uploader (5xx, 429, dropped connections); the Cloud Storage client (storage/v1) does not retry
// the first request of an upload, nor objects.delete.
package bqtest
