package bqtest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/sirupsen/logrus"
	"google.golang.org/api/option"
)

// Defaults of Options.
const (
	DefaultProject                = "test-project"
	DefaultLocation               = "US"
	DefaultPollsToDone            = 2
	DefaultLoadJobsPerTablePerDay = 1500
)

// DoneOnInsert, as Options.PollsToDone, makes every job DONE in the answer to its jobs.insert (a
// load job's rows are appended before the insert answers).
const DoneOnInsert = -1

// Options configure a Server. The zero value is usable.
type Options struct {
	// Project is the one project the server serves (DefaultProject when empty). Requests for
	// another project are answered 404.
	Project string
	// Location is the location of datasets created without one and of their jobs
	// (DefaultLocation when empty).
	Location string
	// PollsToDone is the number of jobs.get (or jobs.getQueryResults) calls after which a job is
	// DONE: a job is PENDING in the answer to its insert, RUNNING after each poll before the
	// PollsToDone-th, DONE from then on. 0 means DefaultPollsToDone; DoneOnInsert means DONE at
	// once. A load job's rows are appended atomically when it turns DONE.
	PollsToDone int
	// LoadJobsPerTablePerDay is the per-destination-table daily quota of load jobs (UTC days of
	// Now). Every load job created counts, failed ones too; the next jobs.insert of a load job
	// into that table the same day is refused with 403 quotaExceeded. 0 means
	// DefaultLoadJobsPerTablePerDay; negative means unlimited.
	LoadJobsPerTablePerDay int
	// Now is the clock used for quota days and job/table timestamps (time.Now when nil).
	Now func() time.Time
	// Log receives one debug line per request (method, path, outcome; never a row value).
	// Nothing is logged when nil.
	Log *logrus.Entry
	// Faults are queued at start, as if passed to InjectFault in order.
	Faults []Fault
	// FaultHook, when set, is asked once per API call (after the faults queued with InjectFault
	// found no match) whether to inject a fault; it returns "" for none. See FaultKind for where
	// each kind applies.
	FaultHook func(Call) FaultKind
}

// Server is a local stand-in for BigQuery's REST API v2, backed by an in-memory DuckDB: datasets
// are DuckDB schemas, tables DuckDB tables, views DuckDB views. It is an http.Handler; Listen
// and Start also serve it on 127.0.0.1. It is safe for concurrent use.
type Server struct {
	opts   Options
	log    *logrus.Entry
	db     *sql.DB
	tmpDir string
	mux    *http.ServeMux
	http   *httptest.Server // nil unless listening

	// catalogMu guards the datasets map and every dataset's and table's metadata, and serialises
	// DuckDB's DDL and writes with them. Lock order: job.mu, then catalogMu, then mu.
	catalogMu sync.RWMutex
	datasets  map[string]*dataset

	mu          sync.Mutex
	jobs        map[string]*job
	jobOrder    []string
	uploads     map[string]*uploadSession
	faults      []*queuedFault
	faultsFired map[FaultKind]int
	jobInserts  int
	seenIDs     map[string]bool
	idsSeen     []string
	loadsByDay  map[tableKey]map[string]int
	seq         int
	denied      map[string]bool // IAM permissions taken away (DenyPermissions)

	// storageMu guards Cloud Storage's state; it is never held while taking another lock.
	storageMu       sync.Mutex
	buckets         map[string]*gcsBucket
	generation      int64 // the last object generation given
	objectUploads   int
	objectDeletes   int
	storageRequests int

	closeOnce sync.Once
	closeErr  error
}

type tableKey struct{ dataset, table string }

// NewServer returns a Server that is not listening: use it as an http.Handler, or call Listen or
// Start instead.
func NewServer(opts Options) (*Server, error) {
	if opts.Project == "" {
		opts.Project = DefaultProject
	}
	if opts.Location == "" {
		opts.Location = DefaultLocation
	}
	if opts.PollsToDone == 0 {
		opts.PollsToDone = DefaultPollsToDone
	}
	if opts.PollsToDone < 0 && opts.PollsToDone != DoneOnInsert {
		return nil, fmt.Errorf("bqtest: PollsToDone %d: want > 0 or DoneOnInsert", opts.PollsToDone)
	}
	if opts.LoadJobsPerTablePerDay == 0 {
		opts.LoadJobsPerTablePerDay = DefaultLoadJobsPerTablePerDay
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Log
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	connector, err := duckdb.NewConnector("", func(execer driver.ExecerContext) error {
		// One thread: a test's tables are small, and DuckDB's thread per core only adds
		// coordination when many servers run side by side.
		for _, q := range []string{"SET TimeZone = 'UTC'", "SET threads = 1"} {
			if _, err := execer.ExecContext(context.Background(), q, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bqtest: opening in-memory DuckDB: %w", err)
	}
	db := sql.OpenDB(connector)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("bqtest: connecting to in-memory DuckDB: %w", err)
	}
	tmp, err := os.MkdirTemp("", "bqtest-")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("bqtest: creating the upload directory: %w", err)
	}
	s := &Server{
		opts:        opts,
		log:         log.WithField("component", "bqtest"),
		db:          db,
		tmpDir:      tmp,
		datasets:    map[string]*dataset{},
		jobs:        map[string]*job{},
		uploads:     map[string]*uploadSession{},
		faultsFired: map[FaultKind]int{},
		seenIDs:     map[string]bool{},
		loadsByDay:  map[tableKey]map[string]int{},
		buckets:     map[string]*gcsBucket{},
		generation:  opts.Now().UnixMicro(),
	}
	for _, f := range opts.Faults {
		s.InjectFault(f)
	}
	s.routes()
	return s, nil
}

// Listen returns a Server serving on a new 127.0.0.1 port; Close stops it.
func Listen(opts Options) (*Server, error) {
	s, err := NewServer(opts)
	if err != nil {
		return nil, err
	}
	// httptest listens on 127.0.0.1:0.
	s.http = httptest.NewServer(s)
	return s, nil
}

// Start is Listen for tests: it fails t on error and closes the server when t ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Listen(opts)
	if err != nil {
		t.Fatalf("starting bqtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("closing bqtest: %v", err)
		}
	})
	return s
}

// URL is the server's base URL ("http://127.0.0.1:port"); "" for a server from NewServer, which
// does not listen.
func (s *Server) URL() string {
	if s.http == nil {
		return ""
	}
	return s.http.URL
}

// Endpoint is what option.WithEndpoint needs: URL()+"/bigquery/v2/". The trailing slash matters:
// the client resolves "projects/..." against it. (Media uploads always go to
// <scheme>://<host>/upload/bigquery/v2/..., whatever the endpoint's path.)
func (s *Server) Endpoint() string {
	if s.http == nil {
		return ""
	}
	return s.http.URL + "/bigquery/v2/"
}

// ClientOptions are the options bigquery.NewClient needs to talk to this (listening) server:
// option.WithEndpoint(s.Endpoint()), option.WithoutAuthentication() and an
// option.WithHTTPClient whose idle connections Close closes. The first two alone are enough.
func (s *Server) ClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.Endpoint()),
		option.WithoutAuthentication(),
		option.WithHTTPClient(s.HTTPClient()),
	}
}

// HTTPClient returns an HTTP client for this server (nil when it is not listening).
func (s *Server) HTTPClient() *http.Client {
	if s.http == nil {
		return nil
	}
	return s.http.Client()
}

// Project is the project the server serves.
func (s *Server) Project() string { return s.opts.Project }

// DB is the server's DuckDB, for assertions that need more than Query (datasets are schemas:
// refer to tables as "dataset"."table"). Writing through it bypasses the server's metadata.
func (s *Server) DB() *sql.DB { return s.db }

// Query runs a DuckDB query on the server's data (tables are "dataset"."table").
func (s *Server) Query(query string, args ...any) (*sql.Rows, error) {
	rows, err := s.db.Query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("bqtest: querying DuckDB: %w", err)
	}
	return rows, nil
}

// Close stops serving (waiting for requests in flight), closes DuckDB and removes uploaded files.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.http != nil {
			s.http.Close()
		}
		var errs []error
		if err := s.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing DuckDB: %w", err))
		}
		if err := os.RemoveAll(s.tmpDir); err != nil {
			errs = append(errs, fmt.Errorf("removing uploads: %w", err))
		}
		if len(errs) > 0 {
			s.closeErr = fmt.Errorf("bqtest: %w", errors.Join(errs...))
		}
	})
	return s.closeErr
}

// ServeHTTP answers BigQuery REST v2 requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// apiHandler handles one API method; a returned error is answered in BigQuery's error envelope.
type apiHandler func(w http.ResponseWriter, r *http.Request) *apiError

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	api := func(pattern, method string, h apiHandler) {
		verb, path, _ := strings.Cut(pattern, " ")
		wrapped := s.wrap(method, h)
		// The documented base path, and the bare one used when the endpoint has no path.
		s.mux.Handle(verb+" /bigquery/v2"+path, wrapped)
		s.mux.Handle(verb+" "+path, wrapped)
	}
	api("GET /projects/{project}/datasets", "datasets.list", s.listDatasets)
	api("POST /projects/{project}/datasets", "datasets.insert", s.insertDataset)
	api("GET /projects/{project}/datasets/{dataset}", "datasets.get", s.getDataset)
	api("PATCH /projects/{project}/datasets/{dataset}", "datasets.patch", s.patchDataset)
	api("DELETE /projects/{project}/datasets/{dataset}", "datasets.delete", s.deleteDataset)
	api("GET /projects/{project}/datasets/{dataset}/tables", "tables.list", s.listTables)
	api("POST /projects/{project}/datasets/{dataset}/tables", "tables.insert", s.insertTable)
	api("GET /projects/{project}/datasets/{dataset}/tables/{table}", "tables.get", s.getTable)
	api("PATCH /projects/{project}/datasets/{dataset}/tables/{table}", "tables.patch", s.patchTable)
	api("POST /projects/{project}/datasets/{dataset}/tables/{table}", "tables.testIamPermissions", s.tablePost)
	api("DELETE /projects/{project}/datasets/{dataset}/tables/{table}", "tables.delete", s.deleteTable)
	api("GET /projects/{project}/datasets/{dataset}/tables/{table}/data", "tabledata.list", s.listTableData)
	api("POST /projects/{project}/jobs", "jobs.insert", s.insertJobJSON)
	api("GET /projects/{project}/jobs/{job}", "jobs.get", s.getJob)
	api("POST /projects/{project}/jobs/{job}/cancel", "jobs.cancel", s.cancelJob)
	api("POST /projects/{project}/queries", "jobs.query", s.query)
	api("GET /projects/{project}/queries/{job}", "jobs.getQueryResults", s.getQueryResults)
	s.mux.Handle("POST /upload/bigquery/v2/projects/{project}/jobs", s.wrap("jobs.insert", s.upload))
	s.mux.Handle("PUT /upload/bigquery/v2/projects/{project}/jobs", s.wrap("jobs.insert", s.upload))
	s.storageRoutes()
	s.mux.Handle("/", s.wrap("unknown", func(w http.ResponseWriter, r *http.Request) *apiError {
		return errNotFound("bqtest: no API method at %s %s (BigQuery's endpoint must end in /bigquery/v2/, Cloud Storage's in /storage/v1/)", r.Method, r.URL.Path)
	}))
}

func (s *Server) wrap(method string, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.PathValue("project"); p != "" && p != s.opts.Project {
			s.logRequest(method, r, http.StatusNotFound)
			writeError(w, errNotFound("Not found: Project %s", p))
			return
		}
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		if err := h(rec, r); err != nil {
			rec.code = err.code
			writeError(w, err)
		}
		s.logRequest(method, r, rec.code)
	})
}

func (s *Server) logRequest(method string, r *http.Request, code int) {
	s.log.WithFields(logrus.Fields{"method": method, "http_method": r.Method, "path": r.URL.Path, "status": code}).Debug("api request")
}

// statusRecorder remembers the status code written, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (to drop it, for InsertConnectionLost).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// now is the server's clock.
func (s *Server) now() time.Time { return s.opts.Now() }

// nextID returns a fresh identifier with the given prefix.
func (s *Server) nextID(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%s%06d_%d", prefix, s.seq, s.now().UnixNano())
}
