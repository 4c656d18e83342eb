// Package load puts transform's Arrow records into a warehouse and keeps ccsync's bookkeeping:
// the checkpoints of committed windows and the run log.
//
// # Batches
//
// A Batch is the unit of loading: the rows of a set of windows, written as one Parquet file per
// table a source's batch loads (its data tables and the quarantine, schemas.LoadTables(); tables
// without rows have no file), plus one Checkpoint per window. Every row of a batch carries the batch's _run_id and _batch_id (Write checks it). The same files serve both
// warehouses: DuckDB reads them with read_parquet, BigQuery loads them with load jobs, so their
// encoding is chosen for BigQuery: decimal128(38, 9) → DECIMAL(38, 9) (NUMERIC), timestamp[us,
// UTC] → TIMESTAMP(MICROS, UTC) (TIMESTAMP), date32 → DATE, repeated columns → three-level LIST
// (REPEATED, with list inference). A batch is built, closed, committed, then removed:
//
//	b, err := load.NewBatch(tmp, runID, batchID, mem)
//	err = b.Write("transactions", rec) // as many times as needed, any table
//	b.AddCheckpoint(load.Checkpoint{Source: "crowdchange", Stream: "date", WindowStart: s, WindowEnd: e})
//	err = sink.Commit(ctx, b)
//	err = b.Remove()
//
// # The DuckDB sink
//
// DuckDB is the embedded warehouse (a single file). OpenDuckDB creates the tables of package
// schemas, evolves existing ones additively (a new column is added as nullable; a column whose type
// changed is refused) and (re)creates the `*_current` views. Every connection uses the UTC time
// zone.
//
// DuckDB lets one process write a file and excludes every other process meanwhile, so the sink
// holds the file only while an operation runs (a commit, a run-log row, a query): a long backfill
// leaves it free between its commits. Readers (`status`, `query`, `verify`) use
// OpenDuckDBReadOnly, which never creates the file (ErrNoWarehouse) and lets DuckDB refuse every
// change (ErrReadOnly). Whoever finds the file held by another process retries for up to
// config.DuckDB.LockWait. Closing the file checkpoints its write-ahead log into the file (DuckDB
// does so when the last connection closes), so a reader opens a file without a log to replay.
//
// # Errors name no values
//
// A warehouse's error about the data it loads can quote a row value (a donor's name or e-mail):
// both sinks strip quoted material and values from such messages (valueFree, scrubValues) and name
// the table, the batch and the column instead.
//
// # Atomicity
//
// DuckDB.Commit loads every file of a batch and inserts its checkpoints in one transaction: after a
// failure, or a crash (DuckDB's write-ahead log only ever holds committed transactions), the
// warehouse holds either the whole batch with its checkpoints or nothing of it, and the next run
// re-reads the windows that were not committed. Committing a batch that is already committed is a
// no-op.
//
// # The BigQuery sink
//
// BigQuery is the production warehouse. OpenBigQuery fails fast, before anything is extracted,
// with an error wrapping ErrWarehouseUnavailable when the dataset is missing (the message gives
// the `bq mk` command), cannot be read or written (it names the roles to grant: checked with
// tables.testIamPermissions when every table exists) or the client has no credentials. It
// creates the tables of package schemas that do not exist (partitioned by day on
// transaction_date, clustered, described column by column), patches existing ones additively
// under their etag (a new column is added NULLABLE, even when the schema says REQUIRED; a
// REQUIRED column the schema relaxed becomes NULLABLE; descriptions and clustering follow the
// schema), refuses a column whose type or repetition changed before changing anything, and
// creates or updates the `*_current` views. bq-endpoint or BIGQUERY_EMULATOR_HOST point it at an
// emulator without authentication.
//
// Rows reach BigQuery by load jobs only: free, atomic per table, and without the quotas and
// costs of DML (there is no MERGE, no UPDATE, no streaming insert). Commit starts one load job per
// table with rows (at most four at a time): the batch's Parquet file, uploaded with the job,
// WRITE_APPEND, CREATE_NEVER, with the explicit schema of package schemas and list inference.
// With a staging bucket, each file is first uploaded to gs://BUCKET/ccsync/<batch>/<table>.parquet
// and loaded from there; the files are deleted after the commit.
//
// Job IDs are chosen by ccsync, not BigQuery: ccsync-<batch>-<table>-<attempt> (the run ID
// first when the batch ID does not start with it), restricted to [A-Za-z0-9_-]. An ID names at
// most one job, ever, so:
//
//   - a jobs.insert that failed transiently (5xx, backendError, rateLimitExceeded, "too many
//     table update operations", a connection lost) is sent again with the same ID after a
//     capped exponential backoff with jitter; if the first request had in fact created the job,
//     BigQuery answers 409 and the sink fetches that job and waits for it instead: the file is
//     never appended twice;
//   - a job that ended with a transient error (backendError, internalError, rate limits) left
//     nothing behind and its ID cannot be reused: the next attempt is a new job, <attempt>+1;
//   - a permanent error (invalid, notFound, accessDenied, quotaExceeded) ends Commit with a
//     *JobError naming the table and the job;
//   - committing the same batch again finds the first Commit's jobs and appends nothing twice.
//
// The sink polls each job's status itself, through its sleeper (Job.Wait's sleeps cannot be
// injected). Only when every table's job is DONE without error does a last load job append the
// batch's checkpoints to ccsync_checkpoints. A batch whose checkpoints are not there is invisible
// to the `*_current` views, whatever of its rows did land, so a failed or interrupted Commit
// leaves what analysts see unchanged, and the next run re-reads the windows.
//
// Quotas: BigQuery allows 1,500 load jobs per table per day, failed jobs included. Each Commit
// costs one job per table with rows plus one on ccsync_checkpoints (the busiest table: every
// batch writes it), retries one more each, and each run two on ccsync_runs; a multi-year backfill
// must therefore commit far fewer than ~1,000 batches a day (large batches, not one per window).
// A quotaExceeded refusal is permanent for the day and reported as such.
//
// Checkpoints and Runs are queries; RecordRun appends a row to ccsync_runs by a load job whose ID
// is derived from the run ID, the outcome and a sequence number, so a retried call appends once.
//
// # Versions and the current views
//
// The warehouse is append-only: every extraction of a transaction is a new version stamped with
// _run_id, _batch_id and _extracted_at. The view `<table>_current` (schemas.CurrentViewSQL) keeps
// the newest version of each transaction whose batch has a checkpoint, and the child rows of
// exactly that version. Rows whose batch has no checkpoint (a half-loaded BigQuery batch) are
// never current.
//
// # Checkpoints and watermarks
//
// A Checkpoint says that every row of one window [WindowStart, WindowEnd) of a stream ("date", or
// "payout" with its payout account) is in the warehouse. Checkpoints are append-only; a window may
// be committed again (the nightly lookback) and windows may differ in size. Watermark computes a
// stream's watermark, the end of its contiguous committed prefix; Covered tells a backfill whether
// a window is already committed, whatever the window sizes of earlier runs.
//
// # The run log
//
// RecordRun appends a row to ccsync_runs when a run starts and when it ends; Runs returns the latest
// row of each run (in BigQuery, where appends carry no order: the ending row when there is one).
package load
