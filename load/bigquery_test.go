package load

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"cloud.google.com/go/bigquery"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/load/bqtest"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
)

func TestBigQueryOpenCreatesTablesAndViews(t *testing.T) {
	t.Parallel()
	e := startBQ(t, bqtest.Options{}, false)
	ctx := context.Background()
	q := e.open(t)
	if q.Location() != "US" || q.DatasetRef() != "`proj.ds`" || q.Client() == nil {
		t.Errorf("Location %q DatasetRef %q", q.Location(), q.DatasetRef())
	}

	ds := e.client.Dataset(bqDataset)
	for _, tb := range schemas.AllTables() {
		md, err := ds.Table(tb.Name).Metadata(ctx)
		if err != nil {
			t.Fatalf("%s: %v", tb.Name, err)
		}
		want := schemas.BigQueryTableMetadata(tb)
		if md.Type != bigquery.RegularTable || md.Description != tb.Description {
			t.Errorf("%s: type %q description %q", tb.Name, md.Type, md.Description)
		}
		switch p := md.TimePartitioning; {
		case tb.Partition == "" && p != nil:
			t.Errorf("%s: partitioning %+v, want none", tb.Name, p)
		case tb.Partition != "" && (p == nil || p.Field != tb.Partition || p.Type != bigquery.DayPartitioningType):
			t.Errorf("%s: partitioning %+v, want DAY on %s", tb.Name, p, tb.Partition)
		}
		if md.Clustering == nil || !reflect.DeepEqual(md.Clustering.Fields, tb.Cluster) {
			t.Errorf("%s: clustering %+v, want %v", tb.Name, md.Clustering, tb.Cluster)
		}
		if len(md.Schema) != len(want.Schema) {
			t.Fatalf("%s: %d columns, want %d", tb.Name, len(md.Schema), len(want.Schema))
		}
		for i, f := range md.Schema {
			w := want.Schema[i]
			if f.Name != w.Name || f.Type != w.Type || f.Required != w.Required || f.Repeated != w.Repeated || f.Description != w.Description || f.Description == "" {
				t.Errorf("%s column %d = %+v, want %+v", tb.Name, i, *f, *w)
			}
		}
	}
	for _, tb := range crowdchange.DataTables() {
		md, err := ds.Table(tb.CurrentView()).Metadata(ctx)
		if err != nil {
			t.Fatalf("%s: %v", tb.CurrentView(), err)
		}
		if md.Type != bigquery.ViewTable || md.ViewQuery != schemas.CurrentViewSQL(tb, bqRef) || md.Description == "" {
			t.Errorf("%s: type %q query %q description %q", tb.CurrentView(), md.Type, md.ViewQuery, md.Description)
		}
		if len(md.Schema) != len(tb.Columns) {
			t.Errorf("%s has %d columns, want %d", tb.CurrentView(), len(md.Schema), len(tb.Columns))
		}
		if n := e.count(t, tb.CurrentView()); n != 0 {
			t.Errorf("%s has %d rows", tb.CurrentView(), n)
		}
	}

	if got := loadJobs(e.srv, ""); len(got) != 0 {
		t.Errorf("opening ran load jobs: %v", jobIDs(got))
	}
}

func TestBigQueryParquetTypes(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	e := startBQ(t, bqtest.Options{PollsToDone: bqtest.DoneOnInsert}, false)
	q := e.open(t, WithAllocator(mem))
	ctx := context.Background()

	// Every table's file passes bqtest's BigQuery-like checks (TestSinkContract's round trip);
	// a file whose money column is float64 is refused by BigQuery, naming the column.
	good := newBatch(t, mem, "run-1", "good")
	smallBatch(t, mem, good, day1, []string{crowdchange.Transactions}, 1, 2)
	if err := q.Commit(ctx, good); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	bad := newBatch(t, mem, "run-1", "bad")
	smallBatch(t, mem, bad, day1, []string{crowdchange.Transactions}, 3)
	if err := bad.Close(); err != nil {
		t.Fatal(err)
	}
	tr, _ := schemas.ByName(crowdchange.Transactions)
	rec := mustRecord(t, mem, tr.Name, genRow(tr, 0, with(txKey(tr, 3), stamp("run-1", "bad", day1))))
	defer rec.Release()
	writeParquetWithFloat(t, mem, bad.Files()[crowdchange.Transactions], rec, "amount_total_paid")

	err := q.Commit(ctx, bad)
	var je *JobError
	if !errors.As(err, &je) {
		t.Fatalf("Commit of a float64 amount: %v, want a *JobError", err)
	}
	t.Logf("error: %v", err)
	if je.Table != crowdchange.Transactions || je.Reason != "invalid" || je.JobID != "ccsync-run-1-bad-transactions-1" || je.Transient ||
		!strings.Contains(je.Message, "amount_total_paid") || !strings.Contains(err.Error(), "loading transactions: job ccsync-run-1-bad-transactions-1: invalid:") {
		t.Errorf("JobError = %+v", je)
	}
	if n := e.count(t, crowdchange.Transactions+"_current"); n != 2 {
		t.Errorf("transactions_current has %d rows, want 2", n)
	}
}

func TestJobIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		run, batch, what string
		attempt          int
		want             string
	}{
		{"20240301T020000Z-1a2b3c4d", "20240301T020000Z-1a2b3c4d-0001", "transactions", 1, "ccsync-20240301T020000Z-1a2b3c4d-0001-transactions-1"},
		{"run-1", "batch-1", "checkpoints", 3, "ccsync-run-1-batch-1-checkpoints-3"},
		{"r", "b/é:1", "transaction_items", 2, "ccsync-r-b___1-"},
	}
	for _, tt := range tests {
		got := jobID(jobIDBase(tt.run, tt.batch), tt.what, tt.attempt)
		if !strings.HasPrefix(got, tt.want) || !validJobID(got) {
			t.Errorf("jobID(%q, %q, %q, %d) = %q, want %q…", tt.run, tt.batch, tt.what, tt.attempt, got, tt.want)
		}
		if again := jobID(jobIDBase(tt.run, tt.batch), tt.what, tt.attempt); again != got {
			t.Errorf("job IDs are not deterministic: %q then %q", got, again)
		}
	}
	if a, b := jobIDBase("r", "b/1"), jobIDBase("r", "b:1"); a == b {
		t.Errorf("distinct batches share the job ID base %q", a)
	}
	long := jobID(jobIDBase("r", strings.Repeat("x", 2000)), "transactions", 7)
	if len(long) > maxJobIDLen || !validJobID(long) || !strings.HasSuffix(long, "-transactions-7") {
		t.Errorf("long job ID: %d chars, ends %q", len(long), long[len(long)-20:])
	}
	if jobID(jobIDBase("r", strings.Repeat("x", 2000)), "transactions", 7) == jobID(jobIDBase("r", strings.Repeat("x", 1999)+"y"), "transactions", 7) {
		t.Error("long batch IDs that differ at the end share a job ID")
	}
}

func validJobID(id string) bool {
	if id == "" || len(id) > maxJobIDLen {
		return false
	}
	for _, r := range id {
		if !(r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 10; n++ {
		d := min(backoffInitial<<(n-1), backoffMax)
		for i := 0; i < 50; i++ {
			if got := backoff(n); got < d/2 || got >= d {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v)", n, got, d/2, d)
			}
		}
	}
}

func TestEmulatorEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"localhost:9050", "http://localhost:9050/bigquery/v2/"},
		{"http://127.0.0.1:9050", "http://127.0.0.1:9050/bigquery/v2/"},
		{"http://127.0.0.1:9050/", "http://127.0.0.1:9050/bigquery/v2/"},
		{"https://bq.example/bigquery/v2", "https://bq.example/bigquery/v2/"},
		{"http://h:1/bigquery/v2/", "http://h:1/bigquery/v2/"},
		{"ftp://h:1", ""},
		{"http://", ""},
	}
	for _, tt := range tests {
		got, err := emulatorEndpoint(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("emulatorEndpoint(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("emulatorEndpoint(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestBigQueryEmulatorHostEnv(t *testing.T) {
	t.Parallel()
	e := startBQ(t, bqtest.Options{}, false)
	host := strings.TrimPrefix(e.srv.URL(), "http://")
	cfg := e.cfg()
	cfg.Endpoint = ""
	env := func(k string) (string, bool) {
		if k == EmulatorHostEnv {
			return host, true
		}
		return "", false
	}
	// No endpoint, no client options: BIGQUERY_EMULATOR_HOST alone points the sink at the server.
	q, err := OpenBigQuery(context.Background(), cfg, e.log, WithGetenv(env), WithSleeper(e.sleeper.sleep))
	if err != nil {
		t.Fatalf("OpenBigQuery with %s=%s: %v", EmulatorHostEnv, host, err)
	}
	defer q.Close()
	if _, err := e.client.Dataset(bqDataset).Table(crowdchange.Transactions).Metadata(context.Background()); err != nil {
		t.Errorf("the sink did not create its tables on the emulator: %v", err)
	}

	// bq-endpoint wins over the environment.
	cfg.Endpoint = e.srv.URL()
	q2, err := OpenBigQuery(context.Background(), cfg, e.log, WithGetenv(func(string) (string, bool) { return "127.0.0.1:1", true }), WithSleeper(e.sleeper.sleep))
	if err != nil {
		t.Fatalf("OpenBigQuery with bq-endpoint and an unreachable %s: %v", EmulatorHostEnv, err)
	}
	q2.Close()
	if _, err := OpenBigQuery(context.Background(), config.BigQuery{Project: bqProject, Dataset: bqDataset}, e.log, WithGetenv(func(string) (string, bool) { return "ftp://x", true })); !errors.Is(err, ErrWarehouseUnavailable) {
		t.Errorf("a bad %s: %v, want ErrWarehouseUnavailable", EmulatorHostEnv, err)
	}
}
