package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/bigquery"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sirupsen/logrus"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/schemas"
)

// ErrWarehouseUnavailable marks a warehouse that cannot be used as configured, found out when a
// sink is opened, before anything is extracted: a DuckDB file that cannot be opened, a BigQuery
// dataset that does not exist or cannot be reached, credentials that cannot be found, permissions
// that are missing. Nothing was written. The message says what to fix; cmd maps it to exit code 2.
var ErrWarehouseUnavailable = errors.New("warehouse unavailable")

// EmulatorHostEnv is the environment variable that points BigQuery clients at an emulator
// (host:port or a URL), without authentication.
const EmulatorHostEnv = "BIGQUERY_EMULATOR_HOST"

// Defaults of the BigQuery sink's options.
const (
	// DefaultBigQueryMaxAttempts bounds both the inserts of one job ID (retried after transient
	// failures) and the jobs started for one table of a batch (a job that failed transiently is
	// replaced by a new one).
	DefaultBigQueryMaxAttempts = 6
)

// Backoff between retries: capped exponential with jitter (the pause before retry n is in
// [d/2, d) with d = min(backoffMax, backoffInitial·2^(n-1))), as BigQuery's SLA recommends.
const (
	backoffInitial = time.Second
	backoffMax     = 32 * time.Second
)

// loadConcurrency bounds the load jobs of one batch running at once.
const loadConcurrency = 4

// BigQuery is the production warehouse: a BigQuery dataset holding every table of package
// schemas (partitioned, clustered, described), the `*_current` views, the checkpoints and the
// run log. Rows arrive by load jobs only (free, atomic per table, no DML quotas); every job has an
// ID derived from the batch, the table and the attempt, so a retried request never appends twice.
// Its methods are safe for concurrent use.
type BigQuery struct {
	// tables are schemas' tables under the PII policy (WithBigQueryPII): what migrate creates.
	tables   []schemas.Table
	client   *bigquery.Client
	project  string
	dataset  string
	location string // the dataset's: every job runs there
	log      *logrus.Entry

	now          func() time.Time
	sleep        func(context.Context, time.Duration) error
	pollInterval time.Duration
	maxAttempts  int
	mem          memory.Allocator

	// loadSchemas is each table's schema as load jobs declare it: schemas' columns, with the
	// modes the warehouse has (a REQUIRED column added later is NULLABLE there).
	loadSchemas map[string]bigquery.Schema

	// staging is where Commit stages the tables' files before loading them; nil when they are
	// uploaded with the load jobs.
	staging *staging

	mu     sync.Mutex
	runSeq map[string]int // run ID + outcome → rows recorded, for RecordRun's job IDs
}

// BigQueryOption configures OpenBigQuery.
type BigQueryOption func(*bigQueryOptions)

type bigQueryOptions struct {
	clientOpts   []option.ClientOption
	now          func() time.Time
	sleep        func(context.Context, time.Duration) error
	pollInterval time.Duration
	maxAttempts  int
	getenv       func(string) (string, bool)
	mem          memory.Allocator
	storageOpts  []option.ClientOption
	chunkSize    int
	pii          schemas.Policy
}

// WithBigQueryPII creates and evolves the tables under a PII policy: the columns it drops are
// absent from new tables, and its policy tag is attached to the PII columns it keeps or hashes.
func WithBigQueryPII(p schemas.Policy) BigQueryOption {
	return func(o *bigQueryOptions) { o.pii = p }
}

// WithClientOptions adds options to the BigQuery client's (after those OpenBigQuery derives from
// the configuration, so they win): an HTTP client for a test server, for example.
func WithClientOptions(opts ...option.ClientOption) BigQueryOption {
	return func(o *bigQueryOptions) { o.clientOpts = append(o.clientOpts, opts...) }
}

// WithStorageClientOptions adds options to the Cloud Storage client's, used only with a staging
// bucket (config.BigQuery.StagingBucket), after those OpenBigQuery derives from the configuration
// (the same credentials as BigQuery's; with an emulator endpoint, its /storage/v1/ without
// authentication): an HTTP client for a test server, for example.
func WithStorageClientOptions(opts ...option.ClientOption) BigQueryOption {
	return func(o *bigQueryOptions) { o.storageOpts = append(o.storageOpts, opts...) }
}

// WithClock sets the clock that stamps checkpoints' CommittedAt and times jobs (time.Now by
// default).
func WithClock(now func() time.Time) BigQueryOption {
	return func(o *bigQueryOptions) { o.now = now }
}

// WithSleeper sets how the sink pauses between polls of a job and before retries; it must
// return ctx's error when ctx ends first. Tests pass one that does not sleep.
func WithSleeper(sleep func(ctx context.Context, d time.Duration) error) BigQueryOption {
	return func(o *bigQueryOptions) { o.sleep = sleep }
}

// WithPollInterval sets the pause between two polls of a job's status
// (config.BigQuery.PollInterval by default).
func WithPollInterval(d time.Duration) BigQueryOption {
	return func(o *bigQueryOptions) { o.pollInterval = d }
}

// WithMaxAttempts bounds the inserts of one job ID and the jobs started for one table of a batch
// (DefaultBigQueryMaxAttempts by default).
func WithMaxAttempts(n int) BigQueryOption {
	return func(o *bigQueryOptions) { o.maxAttempts = n }
}

// WithGetenv sets how the environment is read (os.LookupEnv by default): only
// BIGQUERY_EMULATOR_HOST is.
func WithGetenv(getenv func(string) (string, bool)) BigQueryOption {
	return func(o *bigQueryOptions) { o.getenv = getenv }
}

// WithAllocator sets the allocator of the Arrow records and Parquet files of the checkpoints and
// run log rows (memory.DefaultAllocator by default).
func WithAllocator(mem memory.Allocator) BigQueryOption {
	return func(o *bigQueryOptions) { o.mem = mem }
}

// sleepCtx pauses for d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// OpenBigQuery connects to the dataset cfg.Project:cfg.Dataset and makes it ready, failing fast,
// before anything is extracted, with an error wrapping ErrWarehouseUnavailable when the dataset
// cannot be used (missing, unreachable, no credentials, not writable); the message says what to
// do. It creates the tables of schemas.AllTables that do not exist (partitioned, clustered,
// described), adds the columns a table lacks (NULLABLE, by a table patch guarded by the table's
// etag), relaxes a REQUIRED column that the schema made nullable, refuses a column whose type
// or repetition differs from the schema's (naming table and column), and creates or updates the
// `*_current` views. When every table existed already, it checks with tables.testIamPermissions
// that the caller may load into them. Opening again changes nothing.
//
// With a staging bucket (cfg.StagingBucket), it checks first, before creating anything, that the
// bucket exists and that the caller may create, read and delete objects in it (with
// buckets.testIamPermissions, which needs no permission of its own); otherwise the error wraps
// ErrWarehouseUnavailable and gives the command that creates the bucket, or the role to grant.
// Without one, Cloud Storage is never called.
//
// The client talks to cfg.Endpoint, or to BIGQUERY_EMULATOR_HOST, without authentication;
// otherwise it authenticates with the service account key file cfg.Credentials, or with
// Application Default Credentials. The Cloud Storage client of a staging bucket uses the same
// credentials, or the emulator's host (path /storage/v1/) without authentication.
func OpenBigQuery(ctx context.Context, cfg config.BigQuery, log *logrus.Entry, opts ...BigQueryOption) (*BigQuery, error) {
	cfg.SetDefaults()
	o := bigQueryOptions{
		now:          time.Now,
		sleep:        sleepCtx,
		pollInterval: cfg.PollInterval,
		maxAttempts:  DefaultBigQueryMaxAttempts,
		getenv:       os.LookupEnv,
		mem:          memory.DefaultAllocator,
		chunkSize:    stagingChunkSize,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxAttempts < 1 {
		o.maxAttempts = 1
	}
	if log == nil {
		l := logrus.New()
		l.Out = io.Discard
		log = logrus.NewEntry(l)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("opening BigQuery: %w: %w", ErrWarehouseUnavailable, err)
	}
	dsID := cfg.Project + ":" + cfg.Dataset
	log = log.WithField("bigquery", dsID)

	conn, err := resolveConnection(cfg, o.getenv)
	if err != nil {
		return nil, fmt.Errorf("opening BigQuery %s: %w: %w", dsID, ErrWarehouseUnavailable, err)
	}
	if conn.endpoint != "" {
		log = log.WithField("endpoint", conn.endpoint)
		log.Info("using a BigQuery endpoint without authentication")
	}
	client, err := bigquery.NewClient(ctx, cfg.Project, append(conn.bigQueryOptions(), o.clientOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("opening BigQuery %s: %w: creating the client (credentials: --bq-credentials, or Application Default Credentials from `gcloud auth application-default login` or the runtime's service account): %w",
			dsID, ErrWarehouseUnavailable, err)
	}
	q := &BigQuery{
		tables:       o.pii.Tables(schemas.AllTables()),
		client:       client,
		project:      cfg.Project,
		dataset:      cfg.Dataset,
		log:          log,
		now:          o.now,
		sleep:        o.sleep,
		pollInterval: o.pollInterval,
		maxAttempts:  o.maxAttempts,
		mem:          o.mem,
		loadSchemas:  map[string]bigquery.Schema{},
		runSeq:       map[string]int{},
	}
	if cfg.StagingBucket != "" {
		st, err := newStaging(ctx, cfg.StagingBucket, append(conn.storageOptions(), o.storageOpts...), o.chunkSize)
		if err != nil {
			client.Close()
			return nil, fmt.Errorf("opening BigQuery %s: %w: creating the Cloud Storage client for bq-staging-bucket (credentials: --bq-credentials, or Application Default Credentials): %w",
				dsID, ErrWarehouseUnavailable, err)
		}
		q.staging = st
	}
	if err := q.open(ctx, cfg); err != nil {
		client.Close()
		return nil, fmt.Errorf("opening BigQuery %s: %w", dsID, err)
	}
	return q, nil
}

// connection is how the clients reach Google: an endpoint without authentication, or Google's
// endpoints with credentials.
type connection struct {
	// endpoint is BigQuery's emulator endpoint (".../bigquery/v2/"), "" for Google's.
	endpoint string
	// credentials are the options of the credentials (nil: Application Default Credentials);
	// unused with an endpoint.
	credentials []option.ClientOption
}

// resolveConnection derives the connection from the configuration: an endpoint without
// authentication (cfg.Endpoint, else BIGQUERY_EMULATOR_HOST), else the credentials file, else
// Application Default Credentials.
func resolveConnection(cfg config.BigQuery, getenv func(string) (string, bool)) (connection, error) {
	raw := cfg.Endpoint
	source := "bq-endpoint"
	if raw == "" {
		if v, ok := getenv(EmulatorHostEnv); ok && strings.TrimSpace(v) != "" {
			raw, source = strings.TrimSpace(v), EmulatorHostEnv
		}
	}
	if raw != "" {
		endpoint, err := emulatorEndpoint(raw)
		if err != nil {
			return connection{}, fmt.Errorf("%s: %w", source, err)
		}
		return connection{endpoint: endpoint}, nil
	}
	if cfg.Credentials != "" {
		if _, err := os.Stat(cfg.Credentials); err != nil {
			return connection{}, fmt.Errorf("bq-credentials: %w", err)
		}
		return connection{credentials: []option.ClientOption{option.WithAuthCredentialsFile(option.ServiceAccount, cfg.Credentials)}}, nil
	}
	return connection{}, nil
}

// bigQueryOptions are the BigQuery client's options.
func (c connection) bigQueryOptions() []option.ClientOption {
	if c.endpoint != "" {
		return []option.ClientOption{option.WithEndpoint(c.endpoint), option.WithoutAuthentication()}
	}
	return append([]option.ClientOption(nil), c.credentials...)
}

// storageOptions are the Cloud Storage client's options: the same credentials, or, with an
// emulator endpoint, the emulator's Cloud Storage JSON API without authentication: the
// endpoint's scheme and host with the path /storage/v1/ (the client sends uploads to
// /upload/storage/v1/ on the same host, whatever the endpoint's path).
func (c connection) storageOptions() []option.ClientOption {
	if c.endpoint != "" {
		return []option.ClientOption{option.WithEndpoint(storageEndpoint(c.endpoint)), option.WithoutAuthentication()}
	}
	return append([]option.ClientOption(nil), c.credentials...)
}

// storageEndpoint is the Cloud Storage JSON API endpoint of an emulator whose BigQuery endpoint
// is bqEndpoint (a URL from emulatorEndpoint): its scheme and host, path /storage/v1/.
func storageEndpoint(bqEndpoint string) string {
	u, err := url.Parse(bqEndpoint)
	if err != nil {
		return bqEndpoint // emulatorEndpoint made it: cannot happen
	}
	u.Path, u.RawPath, u.RawQuery, u.Fragment = "/storage/v1/", "", "", ""
	return u.String()
}

// emulatorEndpoint turns host:port or a URL into the REST endpoint the client needs: a URL whose
// path ends in "/bigquery/v2/" (added when the URL has no path), trailing slash included.
func emulatorEndpoint(raw string) (string, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("endpoint %q: %w", raw, err)
	}
	if u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("endpoint %q: want host:port or an http(s) URL", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/bigquery/v2/"
	} else if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// open checks the dataset and prepares the tables and views.
func (q *BigQuery) open(ctx context.Context, cfg config.BigQuery) error {
	md, err := q.client.Dataset(q.dataset).Metadata(ctx)
	if err != nil {
		return q.unavailable("reading dataset "+q.datasetID(), err, cfg.Location)
	}
	q.location = md.Location
	if q.location == "" {
		q.location = cfg.Location
	}
	if cfg.Location != "" && !strings.EqualFold(cfg.Location, q.location) {
		q.log.WithFields(logrus.Fields{"configured": cfg.Location, "dataset": q.location}).
			Warn("the dataset's location differs from bq-location; jobs run in the dataset's")
	}
	if q.staging != nil {
		// Before any table is created: a bucket that cannot be used changes nothing.
		if err := q.staging.check(ctx, q.location); err != nil {
			return err
		}
		q.log.WithField("bucket", q.staging.bucket).Info("staging batches' files in Cloud Storage before loading them")
	}
	created, err := q.migrate(ctx)
	if err != nil {
		return err
	}
	if created == 0 {
		if err := q.checkWritable(ctx); err != nil {
			return err
		}
	}
	return nil
}

// checkWritable asks BigQuery whether the caller may load into the checkpoints table (every
// commit ends there).
func (q *BigQuery) checkWritable(ctx context.Context) error {
	const perm = "bigquery.tables.updateData"
	granted, err := q.client.Dataset(q.dataset).Table(schemas.Checkpoints).IAM().TestPermissions(ctx, []string{perm})
	if err != nil {
		var ge *googleapi.Error
		if errors.As(err, &ge) && (ge.Code == http.StatusNotImplemented || ge.Code == http.StatusNotFound) {
			// An emulator without IAM: the first load will tell.
			q.log.WithError(err).Warn("could not check the permission to load into the dataset")
			return nil
		}
		return q.unavailable("checking the permission to load into "+q.datasetID(), err, "")
	}
	for _, p := range granted {
		if p == perm {
			return nil
		}
	}
	return fmt.Errorf("%w: no permission to load into dataset %s (%s): %s", ErrWarehouseUnavailable, q.datasetID(), perm, rolesHint)
}

// rolesHint says which roles the sink needs.
const rolesHint = "grant roles/bigquery.dataEditor on the dataset and roles/bigquery.jobUser on the project"

// unavailable classifies a failure to reach or use the dataset at open time.
func (q *BigQuery) unavailable(doing string, err error, location string) error {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		switch ge.Code {
		case http.StatusNotFound:
			if location == "" {
				location = "US"
			}
			return fmt.Errorf("%w: dataset %s not found: create it with `bq mk --location %s %s` (see README)", ErrWarehouseUnavailable, q.datasetID(), location, q.datasetID())
		case http.StatusForbidden:
			if reasonOf(err) == "accessDenied" || !transientInsertError(err) {
				return fmt.Errorf("%w: no access to dataset %s: %s: %w", ErrWarehouseUnavailable, q.datasetID(), rolesHint, err)
			}
		case http.StatusUnauthorized:
			return fmt.Errorf("%w: %s: BigQuery refused the credentials (--bq-credentials, or Application Default Credentials): %w", ErrWarehouseUnavailable, doing, err)
		}
	}
	if ge == nil {
		// No answer from BigQuery: credentials that could not be used, or no network.
		return fmt.Errorf("%w: %s (credentials: --bq-credentials or Application Default Credentials; is BigQuery reachable from here?): %w", ErrWarehouseUnavailable, doing, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrWarehouseUnavailable, doing, err)
}

// datasetID is "project:dataset", as bq and error messages write it.
func (q *BigQuery) datasetID() string { return q.project + ":" + q.dataset }

// ref names a table or view of the dataset in GoogleSQL: `project.dataset.name`.
func (q *BigQuery) ref(name string) string {
	return "`" + q.project + "." + q.dataset + "." + name + "`"
}

// Client returns the BigQuery client, for other verbs (query, verify). It is closed by Close.
func (q *BigQuery) Client() *bigquery.Client { return q.client }

// DatasetRef names the dataset in GoogleSQL: "`project.dataset`".
func (q *BigQuery) DatasetRef() string { return "`" + q.project + "." + q.dataset + "`" }

// Location is the dataset's location, where every job runs.
func (q *BigQuery) Location() string { return q.location }

// Close closes the client.
func (q *BigQuery) Close() error {
	if err := q.client.Close(); err != nil {
		return fmt.Errorf("closing BigQuery %s: %w", q.datasetID(), err)
	}
	return nil
}
