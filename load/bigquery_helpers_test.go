package load

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/load/bqtest"
	"github.com/ccsync/ccsync/schemas"
)

// statusSource is the status verb's view of a warehouse; cmd declares it.
type statusSource interface {
	Checkpoints(context.Context) ([]Checkpoint, error)
	Runs(context.Context, int) ([]Run, error)
}

var (
	_ sink         = (*BigQuery)(nil)
	_ statusSource = (*BigQuery)(nil)
	_ statusSource = (*DuckDB)(nil)
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
