package load

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/load/bqtest"
	"github.com/ccsync/ccsync/schemas"
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
	etags := map[string]string{}
	for _, tb := range schemas.AllTables() {
		md, err := ds.Table(tb.Name).Metadata(ctx)
		if err != nil {
			t.Fatalf("%s: %v", tb.Name, err)
		}
		etags[tb.Name] = md.ETag
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
	for _, tb := range schemas.DataTables() {
		md, err := ds.Table(tb.CurrentView()).Metadata(ctx)
		if err != nil {
			t.Fatalf("%s: %v", tb.CurrentView(), err)
		}
		etags[tb.CurrentView()] = md.ETag
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

	// Reopening changes nothing: every table and view keeps its etag.
	for i := 0; i < 2; i++ {
		q2 := e.open(t)
		for name, etag := range etags {
			md, err := ds.Table(name).Metadata(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if md.ETag != etag {
				t.Errorf("reopen #%d changed %s", i+1, name)
			}
		}
		if len(q2.loadSchemas) != len(schemas.AllTables()) {
			t.Errorf("reopen #%d knows %d load schemas", i+1, len(q2.loadSchemas))
		}
	}
	if got := loadJobs(e.srv, ""); len(got) != 0 {
		t.Errorf("opening ran load jobs: %v", jobIDs(got))
	}
}

func TestBigQueryCommitRoundTrip(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	e := startBQ(t, bqtest.Options{PollsToDone: 3}, false)
	q := e.open(t, WithAllocator(mem))
	ctx := context.Background()
	b := newBatch(t, mem, "run-1", "run-1-0001")
	ext := time.Date(2024, 3, 1, 2, 3, 4, 567891000, time.UTC)
	ids := []int64{101, 102, 103}
	written := fullBatch(t, mem, b, ext, ids...)
	b.AddCheckpoint(Checkpoint{Stream: StreamPayout, PayoutAccount: "user", WindowStart: day1, WindowEnd: day2, Transactions: 0, Pages: 1})

	if err := q.Commit(ctx, b); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	for _, tbl := range schemas.DataTables() {
		key := "transaction_id"
		if tbl.Name == schemas.Transactions {
			key = "id"
		}
		for _, from := range []string{tbl.Name, tbl.CurrentView()} {
			if n := e.count(t, from); n != int64(len(ids)) {
				t.Errorf("%s has %d rows, want %d", from, n, len(ids))
			}
			for r, id := range ids {
				rows := e.rows(t, fmt.Sprintf("SELECT %s FROM %s WHERE `%s` = %d", bqColumns(tbl), bqRef(from), key, id))
				if len(rows) != 1 {
					t.Fatalf("%s: %d rows of transaction %d", from, len(rows), id)
				}
				checkBQRow(t, tbl, from, rows[0], written[tbl.Name][r])
			}
		}
	}

	// Every data table was loaded by one job, then the checkpoints by one more, created after
	// every data job was done.
	jobs := loadJobs(e.srv, "")
	if len(jobs) != len(schemas.DataTables())+1 {
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

	cps, err := q.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Checkpoint{
		{Stream: StreamDate, WindowStart: day1, WindowEnd: day2, RunID: "run-1", BatchID: "run-1-0001", CommittedAt: e.now, Transactions: 3, Pages: 1},
		{Stream: StreamPayout, PayoutAccount: "user", WindowStart: day1, WindowEnd: day2, RunID: "run-1", BatchID: "run-1-0001", CommittedAt: e.now, Pages: 1},
	}
	if !reflect.DeepEqual(cps, want) {
		t.Errorf("Checkpoints() =\n%+v\nwant\n%+v", cps, want)
	}

	// One debug line per job, with its numbers; no row value in any log line.
	perJob := 0
	for _, entry := range e.logs.AllEntries() {
		line, _ := entry.String()
		for _, v := range []string{"O'Brien", "Zoë", "105.15", "back\\slash"} {
			if strings.Contains(line, v) {
				t.Errorf("log line quotes a row value %q: %s", v, line)
			}
		}
		if entry.Message != "load job done" {
			continue
		}
		perJob++
		for _, f := range []string{"table", "job_id", "rows", "bytes", "duration"} {
			if _, ok := entry.Data[f]; !ok {
				t.Errorf("job log line without %s: %v", f, entry.Data)
			}
		}
		if entry.Level != logrus.DebugLevel {
			t.Errorf("job log line at level %v", entry.Level)
		}
	}
	if perJob != len(jobs) {
		t.Errorf("%d job log lines, want %d", perJob, len(jobs))
	}
	// The sink polled through the fake sleeper, never sleeping: PollsToDone 3 is two pauses of
	// the poll interval per job.
	if got, want := len(e.sleeper.pauses), 2*len(jobs); got != want {
		t.Errorf("%d pauses, want %d (2 polls per job)", got, want)
	}
	if long := e.sleeper.longer(testPoll + 1); len(long) != 0 {
		t.Errorf("backoffs %v without a fault", long)
	}
}

func TestBigQueryCurrentViews(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	e := startBQ(t, bqtest.Options{}, false)
	q := e.open(t, WithAllocator(mem))
	ctx := context.Background()
	t1 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

	// Transaction 1: version 1 with two items, then version 2 with one; transaction 2 once.
	commit := func(run string, ext time.Time, items map[int64]int) {
		t.Helper()
		b := newBatch(t, mem, run, run+"-0001")
		for _, tbl := range schemas.DataTables() {
			var rows [][]cell
			for txID, n := range items {
				if tbl.Name != schemas.TransactionItem {
					n = 1
				}
				for pos := 0; pos < n; pos++ {
					over := with(txKey(tbl, txID), stamp(run, b.ID(), ext))
					if tbl.ColumnIndex("position") >= 0 {
						over["position"] = int64(pos)
					}
					rows = append(rows, genRow(tbl, pos, over))
				}
			}
			writeRows(t, b, mem, tbl.Name, rows...)
		}
		b.AddCheckpoint(Checkpoint{Stream: StreamDate, WindowStart: day1, WindowEnd: day2})
		if err := q.Commit(ctx, b); err != nil {
			t.Fatalf("Commit %s: %v", run, err)
		}
	}
	commit("run-1", t1, map[int64]int{1: 2, 2: 1})
	commit("run-2", t1.Add(24*time.Hour), map[int64]int{1: 1})

	if got, want := e.texts(t, "SELECT id, _run_id FROM `proj.ds.transactions_current` ORDER BY id"), []string{"1 run-2", "2 run-1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("transactions_current = %v, want %v", got, want)
	}
	if n := e.count(t, schemas.Transactions); n != 3 {
		t.Errorf("transactions has %d versions, want 3 (append-only)", n)
	}
	got := e.texts(t, "SELECT transaction_id, _run_id, `position` FROM `proj.ds.transaction_items_current` ORDER BY transaction_id, `position`")
	if want := []string{"1 run-2 0", "2 run-1 0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("transaction_items_current = %v, want %v (only the current version's items)", got, want)
	}
	for _, tbl := range schemas.DataTables()[2:] {
		got := e.texts(t, "SELECT transaction_id, _run_id FROM "+bqRef(tbl.CurrentView())+" ORDER BY transaction_id")
		if want := []string{"1 run-2", "2 run-1"}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", tbl.CurrentView(), got, want)
		}
	}
}

func TestBigQueryCommitTwiceLoadsOnce(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	e := startBQ(t, bqtest.Options{}, false)
	q := e.open(t, WithAllocator(mem))
	ctx := context.Background()
	b := newBatch(t, mem, "run-1", "batch-1")
	smallBatch(t, mem, b, day1, []string{schemas.Transactions, schemas.CustomData}, 1, 2, 3)
	for i := 0; i < 2; i++ {
		if err := q.Commit(ctx, b); err != nil {
			t.Fatalf("Commit #%d: %v", i+1, err)
		}
	}
	if n := e.count(t, schemas.Transactions); n != 3 {
		t.Errorf("transactions has %d rows, want 3", n)
	}
	if n := e.count(t, schemas.Checkpoints); n != 1 {
		t.Errorf("ccsync_checkpoints has %d rows, want 1", n)
	}
	// The second Commit's inserts found the first's jobs (409) and used them.
	for _, j := range loadJobs(e.srv, "") {
		if j.InsertAttempts != 2 {
			t.Errorf("job %s: %d inserts, want 2", j.ID, j.InsertAttempts)
		}
	}
}

func TestBigQueryCommitRefuses(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	e := startBQ(t, bqtest.Options{}, false)
	q := e.open(t, WithAllocator(mem))
	tr, _ := schemas.ByName(schemas.Transactions)
	tests := []struct {
		name    string
		rows    bool
		cp      *Checkpoint
		wantErr string
	}{
		{"rows without checkpoint", true, nil, "no checkpoint"},
		{"unknown stream", true, &Checkpoint{Stream: "dates", WindowStart: day1, WindowEnd: day2}, "unknown stream"},
		{"empty window", true, &Checkpoint{Stream: StreamDate, WindowStart: day2, WindowEnd: day2}, "empty window"},
		{"payout stream without account", false, &Checkpoint{Stream: StreamPayout, WindowStart: day1, WindowEnd: day2}, "no payout account"},
	}
	for i, tt := range tests {
		b := newBatch(t, mem, "run-1", fmt.Sprintf("batch-%d", i))
		if tt.rows {
			writeRows(t, b, mem, tr.Name, genRow(tr, 0, with(txKey(tr, 1), stamp("run-1", b.ID(), day1))))
		}
		if tt.cp != nil {
			b.AddCheckpoint(*tt.cp)
		}
		if err := q.Commit(context.Background(), b); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: Commit error = %v, want one containing %q", tt.name, err, tt.wantErr)
		}
	}
	removed := newBatch(t, mem, "run-1", "removed")
	fullBatch(t, mem, removed, day1, 1)
	if err := removed.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := q.Commit(context.Background(), removed); err == nil || !strings.Contains(err.Error(), "no file") {
		t.Errorf("Commit of a removed batch: %v", err)
	}
	if jobs := loadJobs(e.srv, ""); len(jobs) != 0 {
		t.Errorf("refused commits ran jobs: %v", jobIDs(jobs))
	}
	// A quiet window: no rows, one checkpoint, one job.
	quiet := newBatch(t, mem, "run-1", "quiet")
	quiet.AddCheckpoint(Checkpoint{Stream: StreamPayout, PayoutAccount: "global", WindowStart: day1, WindowEnd: day2})
	if err := q.Commit(context.Background(), quiet); err != nil {
		t.Fatal(err)
	}
	if ids := jobIDs(loadJobs(e.srv, "")); !reflect.DeepEqual(ids, []string{"ccsync-run-1-quiet-checkpoints-1"}) {
		t.Errorf("jobs of a quiet window = %v", ids)
	}
}

func TestBigQueryRuns(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	e := startBQ(t, bqtest.Options{}, false)
	q := e.open(t, WithAllocator(mem))
	ctx := context.Background()
	a, aDone, b, c := sampleRuns()
	// The ending row of run-a is recorded before its starting row: appends may land in any
	// order, the ending row still wins.
	for _, r := range []Run{c, aDone, b, a} {
		if err := q.RecordRun(ctx, r); err != nil {
			t.Fatalf("RecordRun(%s): %v", r.RunID, err)
		}
	}
	tests := []struct {
		limit int
		want  []Run
	}{
		{0, []Run{b, aDone, c}},
		{2, []Run{b, aDone}},
		{1, []Run{b}},
	}
	for _, tt := range tests {
		got, err := q.Runs(ctx, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Runs(%d) =\n%+v\nwant\n%+v", tt.limit, got, tt.want)
		}
	}
	if n := e.count(t, schemas.Runs); n != 4 {
		t.Errorf("ccsync_runs has %d rows, want 4 (append-only)", n)
	}
	wantIDs := []string{"ccsync-run-run-c-failed-1-1", "ccsync-run-run-a-done-1-1", "ccsync-run-run-b-running-1-1", "ccsync-run-run-a-running-1-1"}
	if got := jobIDs(loadJobs(e.srv, schemas.Runs)); !reflect.DeepEqual(got, wantIDs) {
		t.Errorf("run log jobs = %v, want %v", got, wantIDs)
	}
	// The same outcome recorded again is a new row, with the next sequence number.
	if err := q.RecordRun(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.srv.Job("ccsync-run-run-b-running-2-1"); !ok {
		t.Errorf("second running row: jobs %v", jobIDs(loadJobs(e.srv, schemas.Runs)))
	}
	if err := q.RecordRun(ctx, Run{RunID: "x", Verb: "sync"}); err == nil {
		t.Error("RecordRun accepted a run without outcome and start")
	}
}

func TestBigQueryParquetTypes(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	e := startBQ(t, bqtest.Options{PollsToDone: bqtest.DoneOnInsert}, false)
	q := e.open(t, WithAllocator(mem))
	ctx := context.Background()

	// The batch's files (decimal128(38, 9), timestamp[us, UTC], date32, lists) pass bqtest's
	// BigQuery-like checks against the schemas-derived tables.
	good := newBatch(t, mem, "run-1", "good")
	fullBatch(t, mem, good, day1, 1, 2)
	if err := good.Close(); err != nil {
		t.Fatal(err)
	}
	if len(good.Files()) != len(schemas.DataTables()) {
		t.Fatalf("the batch has files %v, want one per data table", good.Files())
	}
	if err := q.Commit(ctx, good); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	// A file whose money column is float64 is refused by BigQuery, naming the column.
	bad := newBatch(t, mem, "run-1", "bad")
	smallBatch(t, mem, bad, day1, []string{schemas.Transactions}, 3)
	if err := bad.Close(); err != nil {
		t.Fatal(err)
	}
	tr, _ := schemas.ByName(schemas.Transactions)
	rec := mustRecord(t, mem, tr.Name, genRow(tr, 0, with(txKey(tr, 3), stamp("run-1", "bad", day1))))
	defer rec.Release()
	writeParquetWithFloat(t, mem, bad.Files()[schemas.Transactions], rec, "amount_total_paid")

	err := q.Commit(ctx, bad)
	var je *JobError
	if !errors.As(err, &je) {
		t.Fatalf("Commit of a float64 amount: %v, want a *JobError", err)
	}
	t.Logf("error: %v", err)
	if je.Table != schemas.Transactions || je.Reason != "invalid" || je.JobID != "ccsync-run-1-bad-transactions-1" || je.Transient ||
		!strings.Contains(je.Message, "amount_total_paid") || !strings.Contains(err.Error(), "loading transactions: job ccsync-run-1-bad-transactions-1: invalid:") {
		t.Errorf("JobError = %+v", je)
	}
	if n := e.count(t, schemas.Transactions+"_current"); n != 2 {
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
	if _, err := e.client.Dataset(bqDataset).Table(schemas.Transactions).Metadata(context.Background()); err != nil {
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
