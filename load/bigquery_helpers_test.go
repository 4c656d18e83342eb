package load

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/load/bqtest"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
)

const (
	bqProject = "proj"
	bqDataset = "ds"
)

// fakeSleeper records the pauses asked for and returns at once (ctx's error if it ended).
type fakeSleeper struct {
	mu     sync.Mutex
	pauses []time.Duration
}

func (f *fakeSleeper) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pauses = append(f.pauses, d)
	return nil
}

// count returns the number of pauses asked for.
func (f *fakeSleeper) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pauses)
}

// longer returns the pauses of at least min (backoffs, as opposed to polls).
func (f *fakeSleeper) longer(min time.Duration) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Duration
	for _, d := range f.pauses {
		if d >= min {
			out = append(out, d)
		}
	}
	return out
}

// testPoll is the poll interval of the tests' sinks: shorter than any backoff.
const testPoll = 10 * time.Millisecond

// bqEnv is a bqtest server with the dataset created, a plain client for assertions, and what the
// sink under test is given.
type bqEnv struct {
	srv     *bqtest.Server
	client  *bigquery.Client
	sleeper *fakeSleeper
	logs    *logtest.Hook
	log     *logrus.Entry
	now     time.Time
}

// startBQ starts a server (PollsToDone 2 unless set) and creates the dataset unless noDataset.
func startBQ(t *testing.T, opts bqtest.Options, noDataset bool) *bqEnv {
	t.Helper()
	opts.Project = bqProject
	if opts.PollsToDone == 0 {
		opts.PollsToDone = 2
	}
	srv := bqtest.Start(t, opts)
	// One DuckDB thread: a test's data is tiny, and the worker threads of the many servers
	// running at once cost more than they save.
	if _, err := srv.DB().Exec("SET threads = 1"); err != nil {
		t.Fatal(err)
	}
	c, err := bigquery.NewClient(context.Background(), bqProject, srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if !noDataset {
		if err := c.Dataset(bqDataset).Create(context.Background(), &bigquery.DatasetMetadata{Location: "US"}); err != nil {
			t.Fatal(err)
		}
	}
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	return &bqEnv{srv: srv, client: c, sleeper: &fakeSleeper{}, logs: hook, log: logrus.NewEntry(logger),
		now: time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC)}
}

// cfg is the sink's configuration for the server.
func (e *bqEnv) cfg() config.BigQuery {
	return config.BigQuery{Project: bqProject, Dataset: bqDataset, Location: "US", Endpoint: e.srv.URL()}
}

// options are the sink's options for the server: its HTTP client, the fake sleeper and clock.
func (e *bqEnv) options(extra ...BigQueryOption) []BigQueryOption {
	return append([]BigQueryOption{
		WithClientOptions(option.WithHTTPClient(e.srv.HTTPClient())),
		WithSleeper(e.sleeper.sleep),
		WithPollInterval(testPoll),
		WithClock(func() time.Time { return e.now }),
		WithGetenv(func(string) (string, bool) { return "", false }),
	}, extra...)
}

// open opens the sink and closes it when the test ends.
func (e *bqEnv) open(t *testing.T, extra ...BigQueryOption) *BigQuery {
	t.Helper()
	q, err := OpenBigQuery(context.Background(), e.cfg(), e.log, e.options(extra...)...)
	if err != nil {
		t.Fatalf("OpenBigQuery: %v", err)
	}
	t.Cleanup(func() {
		if err := q.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return q
}

// rows runs a query through the plain client and returns its rows.
func (e *bqEnv) rows(t *testing.T, sql string) [][]bigquery.Value {
	t.Helper()
	it, err := e.client.Query(sql).Read(context.Background())
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	var out [][]bigquery.Value
	for {
		var row []bigquery.Value
		err := it.Next(&row)
		if errors.Is(err, iterator.Done) {
			return out
		}
		if err != nil {
			t.Fatalf("reading %q: %v", sql, err)
		}
		out = append(out, row)
	}
}

// texts runs a query whose rows are rendered as space-separated values.
func (e *bqEnv) texts(t *testing.T, sql string) []string {
	t.Helper()
	var out []string
	for _, row := range e.rows(t, sql) {
		parts := make([]string, len(row))
		for i, v := range row {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

// count returns the number of rows of a table or view (through the API).
func (e *bqEnv) count(t *testing.T, name string) int64 {
	t.Helper()
	return e.rows(t, "SELECT count(*) FROM "+bqRef(name))[0][0].(int64)
}

// bqRef names a table of the test dataset in GoogleSQL.
func bqRef(name string) string { return "`" + bqProject + "." + bqDataset + "." + name + "`" }

// bqColumns is the select list of a table's columns, backticked.
func bqColumns(t schemas.Table) string {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = "`" + c.Name + "`"
	}
	return strings.Join(cols, ", ")
}

// checkBQRow compares a row read through the BigQuery client with the cells written: integers,
// strings and booleans as such, NUMERIC exactly (*big.Rat), TIMESTAMP to the microsecond, DATE
// as text, REPEATED element by element, NULL as nil.
func checkBQRow(t *testing.T, table schemas.Table, from string, got []bigquery.Value, cells []cell) {
	t.Helper()
	if len(got) != len(table.Columns) {
		t.Fatalf("%s: %d values, want %d", from, len(got), len(table.Columns))
	}
	for i, c := range table.Columns {
		g, w := got[i], cells[i]
		if w.null {
			if g != nil {
				t.Errorf("%s.%s = %v, want NULL", from, c.Name, g)
			}
			continue
		}
		if g == nil {
			t.Errorf("%s.%s is NULL, want %v", from, c.Name, w.v)
			continue
		}
		var ok bool
		switch want := w.v.(type) {
		case []int64:
			l, _ := g.([]bigquery.Value)
			ok = len(l) == len(want)
			for k := 0; ok && k < len(l); k++ {
				ok = l[k] == want[k]
			}
		case []string:
			l, _ := g.([]bigquery.Value)
			ok = len(l) == len(want)
			for k := 0; ok && k < len(l); k++ {
				ok = l[k] == want[k]
			}
		case string:
			if c.Type == schemas.Numeric {
				r, _ := g.(*big.Rat)
				wr, _ := new(big.Rat).SetString(want)
				ok = r != nil && wr != nil && r.Cmp(wr) == 0
			} else {
				ok = g == want
			}
		case time.Time:
			ts, _ := g.(time.Time)
			ok = ts.Equal(want)
		case date:
			ok = fmt.Sprint(g) == string(want)
		default:
			ok = g == w.v
		}
		if !ok {
			t.Errorf("%s.%s = %v (%T), want %v", from, c.Name, g, g, w.v)
		}
	}
}

// loadJobs lists the server's load jobs into table (all tables when ""), in creation order.
func loadJobs(srv *bqtest.Server, table string) []bqtest.JobInfo {
	var out []bqtest.JobInfo
	for _, j := range srv.Jobs() {
		if j.Type == bqtest.JobTypeLoad && (table == "" || j.Table == table) {
			out = append(out, j)
		}
	}
	return out
}

// jobIDs are the IDs of jobs.
func jobIDs(jobs []bqtest.JobInfo) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}

// bigQueryUnderContract is the BigQuery sink as TestSinkContract runs it: the real client against
// a bqtest server (jobs DONE at the second poll), with a fixed clock and a sleeper that does not
// sleep.
var bigQueryUnderContract = sinkUnderTest{
	name: "bigquery",
	open: openBigQueryWarehouse,
	also: map[string]func(t *testing.T, w *warehouse){
		caseRoundTrip:   checkBigQueryRoundTripJobs,
		caseCommitTwice: checkBigQueryCommitTwiceJobs,
		caseRefused:     checkBigQueryRefusedRanNoJob,
		caseQuietWindow: checkBigQueryQuietWindowJob,
		caseRuns:        checkBigQueryRunJobs,
		caseReopen:      checkBigQueryReopenLoadSchemas,
	},
}

// bqStorageRef names a table in the server's DuckDB (Server.DB).
func bqStorageRef(name string) string {
	return schemas.QuoteIdent(bqDataset) + "." + schemas.QuoteIdent(name)
}

// openBigQueryWarehouse starts a server with the dataset (its tables as older describes them, when
// set) and opens the sink on it.
func openBigQueryWarehouse(t *testing.T, older *olderWarehouse) *warehouse {
	t.Helper()
	ctx := context.Background()
	e := startBQ(t, bqtest.Options{}, false)
	if older != nil {
		createOlderBigQuery(t, e, older)
	}
	w := &warehouse{sinkName: "bigquery", mem: newMem(t), logs: e.logs, fixedNow: e.now, bq: e, ref: bqRef}
	var q *BigQuery
	open := func() error {
		var err error
		q, err = OpenBigQuery(ctx, e.cfg(), e.log, e.options(WithAllocator(w.mem))...)
		if err != nil {
			q = nil
			return err
		}
		w.sink = q
		return nil
	}
	t.Cleanup(func() {
		if q != nil {
			if err := q.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	})
	w.openErr = open()

	w.texts = e.texts
	w.checkRow = func(t *testing.T, table schemas.Table, from string, txID int64, want []cell) {
		t.Helper()
		key := "transaction_id"
		if table.Name == crowdchange.Transactions {
			key = "id"
		}
		rows := e.rows(t, fmt.Sprintf("SELECT %s FROM %s WHERE `%s` = %d", bqColumns(table), bqRef(from), key, txID))
		if len(rows) != 1 {
			t.Fatalf("%s: %d rows of transaction %d, want 1", from, len(rows), txID)
		}
		checkBQRow(t, table, from, rows[0], want)
	}
	w.insert = func(t *testing.T, table string, values map[string]any) {
		t.Helper()
		tbl, _ := schemas.ByName(table)
		insertRow(t, e.srv.DB(), bqStorageRef(table), tbl, values)
	}
	w.columns = func(t *testing.T, name string) []string {
		t.Helper()
		md, err := e.client.Dataset(bqDataset).Table(name).Metadata(ctx)
		var ge *googleapi.Error
		if errors.As(err, &ge) && ge.Code == http.StatusNotFound {
			return nil
		}
		if err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		var out []string
		for _, f := range md.Schema {
			out = append(out, f.Name)
		}
		return out
	}
	w.snapshot = func(t *testing.T) []string {
		t.Helper()
		var out []string
		names := []string{}
		for _, tb := range schemas.AllTables() {
			names = append(names, tb.Name)
		}
		for _, tb := range crowdchange.DataTables() {
			names = append(names, tb.CurrentView())
		}
		for _, name := range names {
			md, err := e.client.Dataset(bqDataset).Table(name).Metadata(ctx)
			if err != nil {
				t.Fatalf("reading %s: %v", name, err)
			}
			out = append(out, name+" etag "+md.ETag)
		}
		return append(out, queryTexts(t, e.srv.DB(), "SELECT _batch_id, count(*) FROM "+bqStorageRef(crowdchange.Transactions)+" GROUP BY 1 ORDER BY 1")...)
	}
	w.written = func(t *testing.T) []string {
		t.Helper()
		var out []string
		for _, tb := range schemas.AllTables() {
			if n := count(t, e.srv.DB(), "SELECT count(*) FROM "+bqStorageRef(tb.Name)); n > 0 {
				out = append(out, fmt.Sprintf("%s: %d rows", tb.Name, n))
			}
		}
		return out
	}
	w.reopen = func(t *testing.T) {
		t.Helper()
		if err := q.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		q = nil
		if err := open(); err != nil {
			t.Fatalf("reopening: %v", err)
		}
	}
	return w
}

// createOlderBigQuery creates the tables of an older ccsync's dataset and inserts its rows (behind
// the API's back: BigQuery would need a load job).
func createOlderBigQuery(t *testing.T, e *bqEnv, older *olderWarehouse) {
	t.Helper()
	for _, tb := range older.tableList() {
		md := schemas.BigQueryTableMetadata(tb)
		if r := older.retype; r != nil && r.table == tb.Name {
			typ, mode, _ := strings.Cut(r.bigQuery, " ")
			for _, f := range md.Schema {
				if f.Name == r.column {
					f.Type = bigquery.FieldType(typ)
					f.Repeated = mode == "REPEATED"
					f.Required = f.Required && !f.Repeated
				}
			}
		}
		if err := e.client.Dataset(bqDataset).Table(tb.Name).Create(context.Background(), md); err != nil {
			t.Fatalf("creating %s: %v", tb.Name, err)
		}
	}
	for _, r := range older.rows {
		tb, _ := schemas.ByName(r.table)
		insertRow(t, e.srv.DB(), bqStorageRef(r.table), older.table(tb), r.values)
	}
}

// checkBigQueryRoundTripJobs: every data table was loaded by one job, then the checkpoints by
// one more, created after every data job was done; one debug line per job, with its numbers; the
// sink polled through its sleeper, never sleeping.
func checkBigQueryRoundTripJobs(t *testing.T, w *warehouse) {
	e := w.bq
	jobs := loadJobs(e.srv, "")
	if len(jobs) != len(crowdchange.DataTables())+1 {
		t.Fatalf("load jobs %v, want one per data table and one for the checkpoints", jobIDs(jobs))
	}
	last := jobs[len(jobs)-1]
	if last.Table != schemas.Checkpoints || last.ID != "ccsync-run-1-0001-checkpoints-1" || last.OutputRows != 2 {
		t.Errorf("last job = %+v, want the checkpoints' (2 rows)", last)
	}
	for _, j := range jobs {
		if j.State != bqtest.StateDone || j.ErrorReason != "" || j.InsertAttempts != 1 {
			t.Errorf("job %+v", j)
		}
		if j.Table != schemas.Checkpoints && j.ID != "ccsync-run-1-0001-"+j.Table+"-1" {
			t.Errorf("job ID %s for %s", j.ID, j.Table)
		}
	}
	perJob := 0
	for _, entry := range logged(e, logrus.DebugLevel, "load job done") {
		perJob++
		for _, f := range []string{"table", "job_id", "rows", "bytes", "duration"} {
			if _, ok := entry.Data[f]; !ok {
				t.Errorf("job log line without %s: %v", f, entry.Data)
			}
		}
	}
	if perJob != len(jobs) {
		t.Errorf("%d job log lines at debug level, want %d", perJob, len(jobs))
	}
	// A job is DONE at its second poll: one pause of the poll interval per job.
	if got := e.sleeper.count(); got != len(jobs) {
		t.Errorf("%d pauses, want %d (1 per job)", got, len(jobs))
	}
	if long := e.sleeper.longer(testPoll + 1); len(long) != 0 {
		t.Errorf("backoffs %v without a fault", long)
	}
}

// checkBigQueryCommitTwiceJobs: the second Commit's inserts found the first's jobs (409) and used
// them.
func checkBigQueryCommitTwiceJobs(t *testing.T, w *warehouse) {
	jobs := loadJobs(w.bq.srv, "")
	if len(jobs) != 2 { // transactions, checkpoints
		t.Errorf("load jobs %v, want 2", jobIDs(jobs))
	}
	for _, j := range jobs {
		if j.InsertAttempts != 2 {
			t.Errorf("job %s: %d inserts, want 2", j.ID, j.InsertAttempts)
		}
	}
}

// checkBigQueryRefusedRanNoJob: a refused commit is refused before any job starts.
func checkBigQueryRefusedRanNoJob(t *testing.T, w *warehouse) {
	if jobs := loadJobs(w.bq.srv, ""); len(jobs) != 0 {
		t.Errorf("refused commits ran jobs: %v", jobIDs(jobs))
	}
}

// checkBigQueryQuietWindowJob: a window without rows costs one job, the checkpoints'.
func checkBigQueryQuietWindowJob(t *testing.T, w *warehouse) {
	if ids := jobIDs(loadJobs(w.bq.srv, "")); !reflect.DeepEqual(ids, []string{"ccsync-run-1-quiet-checkpoints-1"}) {
		t.Errorf("jobs of a quiet window = %v", ids)
	}
}

// checkBigQueryRunJobs: each run-log row is a load job whose ID is derived from the run, the
// outcome and a sequence number; appends carry no order, and a run's ending row wins over a
// starting row appended after it.
func checkBigQueryRunJobs(t *testing.T, w *warehouse) {
	ctx := context.Background()
	e := w.bq
	wantIDs := []string{"ccsync-run-run-c-failed-1-1", "ccsync-run-run-a-running-1-1", "ccsync-run-run-b-running-1-1", "ccsync-run-run-a-done-1-1"}
	if got := jobIDs(loadJobs(e.srv, schemas.Runs)); !reflect.DeepEqual(got, wantIDs) {
		t.Errorf("run log jobs = %v, want %v", got, wantIDs)
	}
	// The same outcome recorded again is a new row, with the next sequence number.
	_, _, b, _ := sampleRuns()
	if err := w.sink.RecordRun(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.srv.Job("ccsync-run-run-b-running-2-1"); !ok {
		t.Errorf("second running row: jobs %v", jobIDs(loadJobs(e.srv, schemas.Runs)))
	}
	d := Run{Source: schemas.LegacySource, RunID: "run-d", Verb: "sync", StartedAt: b.StartedAt.Add(time.Hour), Outcome: "running"}
	dDone := d
	dDone.EndedAt, dDone.Outcome = d.StartedAt.Add(time.Minute), "done"
	for _, r := range []Run{dDone, d} {
		if err := w.sink.RecordRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := w.sink.Runs(ctx, 1); err != nil || !reflect.DeepEqual(got, []Run{dDone}) {
		t.Errorf("Runs(1) = %+v, %v; want run-d's ending row, recorded before its starting row", got, err)
	}
}

// checkBigQueryReopenLoadSchemas: a reopened sink knows every table's load schema.
func checkBigQueryReopenLoadSchemas(t *testing.T, w *warehouse) {
	if q := w.sink.(*BigQuery); len(q.loadSchemas) != len(schemas.AllTables()) {
		t.Errorf("the reopened sink knows %d load schemas, want %d", len(q.loadSchemas), len(schemas.AllTables()))
	}
}
