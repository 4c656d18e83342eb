package load

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	"github.com/ccsync/ccsync/load/bqtest"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
)

// checkCommitted checks that each of tables and its current view has n rows (appended exactly
// once), and that the batch has exactly its one checkpoint.
func checkCommitted(t *testing.T, e *bqEnv, q *BigQuery, batchID string, tables []string, n int64) {
	t.Helper()
	for _, name := range tables {
		tbl, _ := schemas.ByName(name)
		if tbl.Kind != schemas.Data {
			continue
		}
		for _, from := range []string{tbl.Name, tbl.CurrentView()} {
			if got := e.count(t, from); got != n {
				t.Errorf("%s has %d rows, want %d (appended exactly once)", from, got, n)
			}
		}
	}
	cps, err := q.Checkpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 1 || cps[0].BatchID != batchID {
		t.Errorf("checkpoints %+v, want one of %s", cps, batchID)
	}
}

func TestBigQueryCommitRetries(t *testing.T) {
	t.Parallel()
	const base = "ccsync-run-1-0001-"
	tests := []struct {
		name  string
		fault bqtest.FaultKind
		table string // the table whose load is faulted
		// The faulted table's load jobs: IDs (after base), insert attempts, error reasons.
		ids      []string
		attempts []int
		reasons  []string
	}{
		{"503 before the job exists", bqtest.InsertUnavailable, crowdchange.Transactions,
			[]string{"transactions-1"}, []int{1}, []string{""}},
		{"rate limited", bqtest.InsertRateLimited, crowdchange.Transactions,
			[]string{"transactions-1"}, []int{1}, []string{""}},
		{"too many table update operations", bqtest.TableUpdateRateLimited, crowdchange.TransactionItem,
			[]string{"transaction_items-1"}, []int{1}, []string{""}},
		{"answer lost after the job was created", bqtest.InsertResponseLost, crowdchange.Transactions,
			[]string{"transactions-1"}, []int{2}, []string{""}},
		{"connection lost after the job was created", bqtest.InsertConnectionLost, crowdchange.RawTransactions,
			[]string{"raw_transactions-1"}, []int{2}, []string{""}},
		{"job ends in backendError", bqtest.JobBackendError, crowdchange.Transactions,
			[]string{"transactions-1", "transactions-2"}, []int{1, 1}, []string{bqtest.ReasonBackendError, ""}},
		{"checkpoints job ends in backendError", bqtest.JobBackendError, schemas.Checkpoints,
			[]string{"checkpoints-1", "checkpoints-2"}, []int{1, 1}, []string{bqtest.ReasonBackendError, ""}},
		{"checkpoints insert answer lost", bqtest.InsertResponseLost, schemas.Checkpoints,
			[]string{"checkpoints-1"}, []int{2}, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := newMem(t)
			e := startBQ(t, bqtest.Options{}, false)
			q := e.open(t, WithAllocator(mem))
			b := newBatch(t, mem, "run-1", "run-1-0001")
			tables := []string{crowdchange.Transactions, tt.table}
			smallBatch(t, mem, b, day1, tables, 1, 2)
			e.srv.InjectFault(bqtest.Fault{Kind: tt.fault, Match: func(c bqtest.Call) bool { return c.Table == tt.table }})

			if err := q.Commit(context.Background(), b); err != nil {
				t.Fatalf("Commit through %s: %v", tt.fault, err)
			}
			if e.srv.FaultsFired(tt.fault) != 1 || e.srv.PendingFaults() != 0 {
				t.Errorf("fault fired %d times, %d pending", e.srv.FaultsFired(tt.fault), e.srv.PendingFaults())
			}
			jobs := loadJobs(e.srv, tt.table)
			var ids, reasons []string
			var attempts []int
			for _, j := range jobs {
				ids = append(ids, strings.TrimPrefix(j.ID, base))
				attempts = append(attempts, j.InsertAttempts)
				reasons = append(reasons, j.ErrorReason)
			}
			if !reflect.DeepEqual(ids, tt.ids) || !reflect.DeepEqual(attempts, tt.attempts) || !reflect.DeepEqual(reasons, tt.reasons) {
				t.Errorf("jobs into %s: ids %v attempts %v reasons %v; want %v %v %v", tt.table, ids, attempts, reasons, tt.ids, tt.attempts, tt.reasons)
			}
			checkCommitted(t, e, q, b.ID(), tables, 2)
			// Exactly one retry, after a backoff in [0.5s, 1s) that the fake sleeper took.
			if long := e.sleeper.longer(testPoll + 1); len(long) != 1 || long[0] < backoffInitial/2 || long[0] >= backoffInitial {
				t.Errorf("backoffs %v, want one in [%v, %v)", long, backoffInitial/2, backoffInitial)
			}
		})
	}
}

func TestBigQueryCommitGivesUp(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	e := startBQ(t, bqtest.Options{}, false)
	q := e.open(t, WithAllocator(mem), WithMaxAttempts(3))
	b := newBatch(t, mem, "run-1", "run-1-0001")
	smallBatch(t, mem, b, day1, []string{crowdchange.Transactions}, 1)
	e.srv.InjectFault(bqtest.Fault{Kind: bqtest.JobBackendError, Times: 10, Match: func(c bqtest.Call) bool { return c.Table == crowdchange.Transactions }})

	err := q.Commit(context.Background(), b)
	var je *JobError
	if !errors.As(err, &je) || !je.Transient || je.Attempts != 3 || je.Reason != bqtest.ReasonBackendError || je.JobID != "ccsync-run-1-0001-transactions-3" {
		t.Fatalf("Commit error %v (%+v), want a transient *JobError after 3 jobs", err, je)
	}
	if !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Errorf("error %q", err)
	}
	if got := len(loadJobs(e.srv, crowdchange.Transactions)); got != 3 {
		t.Errorf("%d jobs into transactions, want 3", got)
	}
	if _, ok := e.srv.Job("ccsync-run-1-0001-checkpoints-1"); ok {
		t.Error("the checkpoints were loaded although a table failed")
	}
	if n := e.count(t, crowdchange.Transactions+"_current"); n != 0 {
		t.Errorf("transactions_current has %d rows", n)
	}
}

func TestBigQueryCommitPermanentFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   bqtest.Options
		before func(e *bqEnv) // after batch-1 is committed
		table  string         // the table named by the error ("" for any data table)
		reason string
		hint   string
	}{
		{"invalid job", bqtest.Options{}, func(e *bqEnv) {
			e.srv.InjectFault(bqtest.Fault{Kind: bqtest.JobInvalid, Match: func(c bqtest.Call) bool { return c.Table == crowdchange.TransactionItem }})
		}, crowdchange.TransactionItem, bqtest.ReasonInvalid, ""},
		{"daily load-job quota", bqtest.Options{LoadJobsPerTablePerDay: 1}, func(*bqEnv) {}, "", bqtest.ReasonQuotaExceeded, "1,500 load jobs per table per day"},
		{"jobs.create denied", bqtest.Options{}, func(e *bqEnv) { e.srv.DenyPermissions(bqtest.PermJobsCreate) }, "", bqtest.ReasonAccessDenied, "roles/bigquery.jobUser"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := newMem(t)
			e := startBQ(t, tt.opts, false)
			q := e.open(t, WithAllocator(mem))
			ctx := context.Background()
			tables := []string{crowdchange.Transactions, crowdchange.TransactionItem}
			b1 := newBatch(t, mem, "run-1", "run-1-0001")
			smallBatch(t, mem, b1, day1, tables, 1, 2)
			if err := q.Commit(ctx, b1); err != nil {
				t.Fatal(err)
			}
			wantCurrent := e.texts(t, "SELECT id, _run_id FROM `proj.ds.transactions_current` ORDER BY id")
			wantItems := e.texts(t, "SELECT transaction_id, _run_id FROM `proj.ds.transaction_items_current` ORDER BY transaction_id")
			wantCps, err := q.Checkpoints(ctx)
			if err != nil {
				t.Fatal(err)
			}

			tt.before(e)
			b2 := newBatch(t, mem, "run-2", "run-2-0001")
			smallBatch(t, mem, b2, day2, tables, 1, 2)
			err = q.Commit(ctx, b2)
			var je *JobError
			if !errors.As(err, &je) {
				t.Fatalf("Commit: %v, want a *JobError", err)
			}
			t.Logf("error: %v", err)
			if tt.table != "" && je.Table != tt.table {
				t.Errorf("error names table %s, want %s", je.Table, tt.table)
			}
			wantID := "ccsync-run-2-0001-" + je.Table + "-1"
			if je.Reason != tt.reason || je.Transient || je.JobID != wantID || !strings.Contains(je.Hint, tt.hint) ||
				!strings.Contains(err.Error(), "committing batch run-2-0001: loading "+je.Table+": job "+wantID+": "+tt.reason+": ") {
				t.Errorf("JobError %+v", je)
			}
			// Permanent: never retried, no backoff.
			if long := e.sleeper.longer(testPoll + 1); len(long) != 0 {
				t.Errorf("backoffs %v after a permanent failure", long)
			}
			if info, ok := e.srv.Job(je.JobID); ok && info.InsertAttempts != 1 {
				t.Errorf("job %s inserted %d times", je.JobID, info.InsertAttempts)
			}
			if _, ok := e.srv.Job("ccsync-run-2-0001-" + je.Table + "-2"); ok {
				t.Error("a permanent failure was retried with a new job")
			}
			// The batch is not committed: no checkpoint, the views unchanged.
			if _, ok := e.srv.Job("ccsync-run-2-0001-checkpoints-1"); ok {
				t.Error("the checkpoints of a failed batch were loaded")
			}
			if cps, err := q.Checkpoints(ctx); err != nil || !reflect.DeepEqual(cps, wantCps) {
				t.Errorf("checkpoints after the failure: %+v, %v; want %+v", cps, err, wantCps)
			}
			if got := e.texts(t, "SELECT id, _run_id FROM `proj.ds.transactions_current` ORDER BY id"); !reflect.DeepEqual(got, wantCurrent) {
				t.Errorf("transactions_current = %v, want %v", got, wantCurrent)
			}
			if got := e.texts(t, "SELECT transaction_id, _run_id FROM `proj.ds.transaction_items_current` ORDER BY transaction_id"); !reflect.DeepEqual(got, wantItems) {
				t.Errorf("transaction_items_current = %v, want %v", got, wantItems)
			}
		})
	}
}

func TestBigQueryCommitCancelled(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	e := startBQ(t, bqtest.Options{}, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	polls := 0
	q := e.open(t, WithAllocator(mem), WithSleeper(func(c context.Context, d time.Duration) error {
		polls++ // the sleeper is called from the load goroutines: only one table here
		cancel()
		return c.Err()
	}))
	b := newBatch(t, mem, "run-1", "run-1-0001")
	tr, _ := schemas.ByName(crowdchange.Transactions)
	writeRows(t, b, mem, tr.Name, genRow(tr, 0, with(txKey(tr, 1), stamp("run-1", b.ID(), day1))))
	b.AddCheckpoint(Checkpoint{Source: "crowdchange", Stream: StreamDate, WindowStart: day1, WindowEnd: day2})
	err := q.Commit(ctx, b)
	if !errors.Is(err, context.Canceled) || polls != 1 {
		t.Fatalf("Commit: %v after %d pauses, want context.Canceled after 1", err, polls)
	}
	if _, ok := e.srv.Job("ccsync-run-1-0001-checkpoints-1"); ok {
		t.Error("a cancelled commit loaded its checkpoints")
	}
}

// writeParquetWithFloat rewrites the Parquet file at path with rec's rows, column col as a
// float64: what BigQuery must refuse for a NUMERIC column.
func writeParquetWithFloat(t *testing.T, mem memory.Allocator, path string, rec arrow.Record, col string) {
	t.Helper()
	fb := array.NewFloat64Builder(mem)
	defer fb.Release()
	for i := int64(0); i < rec.NumRows(); i++ {
		fb.Append(105.15)
	}
	arr := fb.NewArray()
	defer arr.Release()
	writeParquetWithColumn(t, mem, path, rec, col, arr)
}

// writeParquetWithColumn rewrites the Parquet file at path with rec's rows, column col replaced by
// arr (nullable, of arr's type).
func writeParquetWithColumn(t *testing.T, mem memory.Allocator, path string, rec arrow.Record, col string, arr arrow.Array) {
	t.Helper()
	idx := rec.Schema().FieldIndices(col)[0]
	fields := append([]arrow.Field(nil), rec.Schema().Fields()...)
	fields[idx] = arrow.Field{Name: col, Type: arr.DataType(), Nullable: true}
	cols := append([]arrow.Array(nil), rec.Columns()...)
	cols[idx] = arr
	bad := array.NewRecord(arrow.NewSchema(fields, nil), cols, rec.NumRows())
	defer bad.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(bad.Schema(), f, parquet.NewWriterProperties(parquet.WithAllocator(mem)), pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(bad); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil { // closes f
		t.Fatal(err)
	}
}

func TestBigQueryJobIDCollision(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	e := startBQ(t, bqtest.Options{}, false)
	q := e.open(t, WithAllocator(mem))
	ctx := context.Background()
	// Another job already has the ID of the batch's load into transactions.
	other := e.client.Query("SELECT 1")
	other.JobID = "ccsync-run-1-0001-transactions-1"
	if _, err := other.Run(ctx); err != nil {
		t.Fatal(err)
	}
	b := newBatch(t, mem, "run-1", "run-1-0001")
	smallBatch(t, mem, b, day1, []string{crowdchange.Transactions}, 1)
	err := q.Commit(ctx, b)
	if err == nil || !strings.Contains(err.Error(), "job ccsync-run-1-0001-transactions-1 exists but it is not a load into this table") {
		t.Fatalf("Commit over a foreign job with the same ID: %v", err)
	}
	if n := e.count(t, schemas.Checkpoints); n != 0 {
		t.Errorf("%d checkpoints", n)
	}
}
