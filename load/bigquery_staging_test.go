package load

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"google.golang.org/api/option"

	"github.com/ccsync/ccsync/load/bqtest"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
)

const testBucket = "ccsync-staging"

// withChunkSize sets the chunk size of staged uploads (tests make resumable uploads of small
// files with it).
func withChunkSize(n int) BigQueryOption { return func(o *bigQueryOptions) { o.chunkSize = n } }

// startStaged is startBQ with the staging bucket created.
func startStaged(t *testing.T, opts bqtest.Options) *bqEnv {
	t.Helper()
	e := startBQ(t, opts, false)
	e.srv.CreateBucket(testBucket)
	return e
}

// stagedOptions are the sink's options for the server with staging: the Cloud Storage client
// uses the server's HTTP client too.
func (e *bqEnv) stagedOptions(extra ...BigQueryOption) []BigQueryOption {
	return e.options(append([]BigQueryOption{WithStorageClientOptions(option.WithHTTPClient(e.srv.HTTPClient()))}, extra...)...)
}

// openStaged opens the sink with the staging bucket and closes it when the test ends.
func (e *bqEnv) openStaged(t *testing.T, extra ...BigQueryOption) *BigQuery {
	t.Helper()
	cfg := e.cfg()
	cfg.StagingBucket = testBucket
	q, err := OpenBigQuery(context.Background(), cfg, e.log, e.stagedOptions(extra...)...)
	if err != nil {
		t.Fatalf("OpenBigQuery with a staging bucket: %v", err)
	}
	t.Cleanup(func() {
		if err := q.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return q
}

// stagedURI is the URI of a batch's staged file for table.
func stagedURI(base, table string) string {
	return "gs://" + testBucket + "/ccsync/" + base + "/" + table + ".parquet"
}

// objectNames lists the names of the bucket's objects.
func objectNames(srv *bqtest.Server) []string {
	var out []string
	for _, o := range srv.Objects(testBucket) {
		out = append(out, o.Name)
	}
	return out
}

// logged returns the entries at level whose message contains msg.
func logged(e *bqEnv, level logrus.Level, msg string) []*logrus.Entry {
	var out []*logrus.Entry
	for _, entry := range e.logs.AllEntries() {
		if entry.Level == level && strings.Contains(entry.Message, msg) {
			out = append(out, entry)
		}
	}
	return out
}

func TestBigQueryStagedCommitLandsLikeUploaded(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	ctx := context.Background()
	ext := time.Date(2024, 3, 1, 2, 3, 4, 567891000, time.UTC)
	ids := []int64{101, 102}

	plain := startBQ(t, bqtest.Options{PollsToDone: 3}, false)
	qp := plain.open(t, WithAllocator(mem))
	bp := newBatch(t, mem, "run-1", "run-1-0001")
	fullBatch(t, mem, bp, ext, ids...)
	if err := qp.Commit(ctx, bp); err != nil {
		t.Fatalf("Commit without staging: %v", err)
	}

	staged := startStaged(t, bqtest.Options{PollsToDone: 3})
	qs := staged.openStaged(t, WithAllocator(mem))
	bs := newBatch(t, mem, "run-1", "run-1-0001")
	written := fullBatch(t, mem, bs, ext, ids...)
	if err := qs.Commit(ctx, bs); err != nil {
		t.Fatalf("Commit with staging: %v", err)
	}

	// The same rows, value for value (NUMERIC exactly), in every table and current view.
	for _, tbl := range crowdchange.DataTables() {
		key := "transaction_id"
		if tbl.Name == crowdchange.Transactions {
			key = "id"
		}
		for _, from := range []string{tbl.Name, tbl.CurrentView()} {
			sql := fmt.Sprintf("SELECT %s FROM %s ORDER BY `%s`", bqColumns(tbl), bqRef(from), key)
			got := staged.rows(t, sql)
			if len(got) != len(ids) {
				t.Fatalf("%s has %d rows, want %d", from, len(got), len(ids))
			}
			for r := range ids {
				checkBQRow(t, tbl, from, got[r], written[tbl.Name][r])
			}
			if w, g := plain.texts(t, sql), staged.texts(t, sql); !reflect.DeepEqual(g, w) {
				t.Errorf("%s staged:\n%v\nuploaded with the jobs:\n%v", from, g, w)
			}
		}
	}
	cpsPlain, err := qp.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cpsStaged, err := qs.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cpsStaged, cpsPlain) || len(cpsStaged) != 1 {
		t.Errorf("checkpoints staged %+v, uploaded %+v", cpsStaged, cpsPlain)
	}

	// The same jobs (IDs, one insert each; created concurrently, in any order); the staged ones
	// read their table's file from the bucket.
	pj, sj := loadJobs(plain.srv, ""), loadJobs(staged.srv, "")
	if !reflect.DeepEqual(sortedIDs(sj), sortedIDs(pj)) {
		t.Errorf("staged jobs %v, uploaded jobs %v", jobIDs(sj), jobIDs(pj))
	}
	for _, j := range pj {
		if j.SourceURIs != nil {
			t.Errorf("job %s without staging has source URIs %v", j.ID, j.SourceURIs)
		}
	}
	for _, j := range sj {
		var want []string
		if j.Table != schemas.Checkpoints {
			want = []string{stagedURI("run-1-0001", j.Table)}
		}
		if !reflect.DeepEqual(j.SourceURIs, want) || j.InsertAttempts != 1 || j.ErrorReason != "" {
			t.Errorf("job %s: source URIs %v (want %v), %d inserts, error %q", j.ID, j.SourceURIs, want, j.InsertAttempts, j.ErrorReason)
		}
	}

	// One upload per data table, all deleted after the commit; nothing retried.
	n := len(crowdchange.DataTables())
	if up, del := staged.srv.ObjectUploads(), staged.srv.ObjectDeletes(); up != n || del != n {
		t.Errorf("%d uploads, %d deletes; want %d of each", up, del, n)
	}
	if left := objectNames(staged.srv); len(left) != 0 {
		t.Errorf("objects left after the commit: %v", left)
	}
	if long := staged.sleeper.longer(testPoll + 1); len(long) != 0 {
		t.Errorf("backoffs %v without a fault", long)
	}
	done := logged(staged, logrus.DebugLevel, "batch committed")
	if len(done) != 1 || done[0].Data["staged_files_deleted"] != n {
		t.Errorf("batch committed log lines %v, want one with staged_files_deleted=%d", done, n)
	}

	// Without a staging bucket, Cloud Storage is never called.
	if got := plain.srv.StorageRequests(); got != 0 {
		t.Errorf("the sink without a staging bucket made %d Cloud Storage requests", got)
	}
}

// sortedIDs are the IDs of jobs, sorted.
func sortedIDs(jobs []bqtest.JobInfo) []string {
	ids := jobIDs(jobs)
	slices.Sort(ids)
	return ids
}

// bigRawRows makes n raw_transactions rows whose raw column holds size incompressible bytes:
// a file that needs a resumable upload with a small chunk size.
func bigRawRows(b *Batch, n, size int) [][]cell {
	tbl, _ := schemas.ByName(crowdchange.RawTransactions)
	rnd := rand.New(rand.NewPCG(1, 2))
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var rows [][]cell
	for r := 0; r < n; r++ {
		raw := make([]byte, size)
		for i := range raw {
			raw[i] = letters[rnd.IntN(len(letters))]
		}
		rows = append(rows, genRow(tbl, r, with(txKey(tbl, int64(r+1)), stamp(b.RunID(), b.ID(), day1), map[string]any{"raw": string(raw)})))
	}
	return rows
}

// uploadRecorder is an http.RoundTripper that remembers the Cloud Storage upload requests it
// carried ("POST multipart", "POST resumable", "POST chunk").
type uploadRecorder struct {
	mu   sync.Mutex
	reqs []string
	next http.RoundTripper
}

func (r *uploadRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.URL.Path, "/upload/storage/") {
		kind := req.URL.Query().Get("uploadType")
		if req.URL.Query().Get("upload_id") != "" {
			kind = "chunk"
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Method+" "+kind)
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

func (r *uploadRecorder) kinds() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, k := range r.reqs {
		out[k]++
	}
	return out
}

func TestBigQueryStagedUploadRetried(t *testing.T) {
	t.Parallel()
	const chunk = 256 << 10 // the smallest chunk size
	tests := []struct {
		name    string
		rawSize int // bytes of each raw_transactions row's raw column
		times   int // 503s answered to the raw_transactions file's upload
		// The upload requests wanted (the faulted ones included).
		want map[string]int
	}{
		{"multipart upload answered 503", 10, 1, map[string]int{"POST multipart": 3}},
		{"multipart upload answered 503 twice", 10, 2, map[string]int{"POST multipart": 4}},
		// 2 rows of 200 kB of random letters: a file of about 300 kB, two chunks.
		{"resumable upload's initiation answered 503", 200_000, 1, map[string]int{"POST multipart": 1, "POST resumable": 2, "POST chunk": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := newMem(t)
			e := startStaged(t, bqtest.Options{})
			rec := &uploadRecorder{next: e.srv.HTTPClient().Transport}
			q := e.openStaged(t, WithAllocator(mem), withChunkSize(chunk), WithStorageClientOptions(option.WithHTTPClient(&http.Client{Transport: rec})))
			b := newBatch(t, mem, "run-1", "run-1-0001")
			tables := []string{crowdchange.Transactions, crowdchange.RawTransactions}
			smallBatch(t, mem, b, day1, []string{crowdchange.Transactions}, 1, 2)
			writeRows(t, b, mem, crowdchange.RawTransactions, bigRawRows(b, 2, tt.rawSize)...)
			const object = "ccsync/run-1-0001/raw_transactions.parquet"
			e.srv.InjectFault(bqtest.Fault{Kind: bqtest.ObjectInsertUnavailable, Times: tt.times, Match: func(c bqtest.Call) bool { return c.Object == object }})

			if err := q.Commit(context.Background(), b); err != nil {
				t.Fatalf("Commit through %d upload 503s: %v", tt.times, err)
			}
			if fired := e.srv.FaultsFired(bqtest.ObjectInsertUnavailable); fired != tt.times || e.srv.PendingFaults() != 0 {
				t.Errorf("fault fired %d times, %d pending; want %d, 0", fired, e.srv.PendingFaults(), tt.times)
			}
			if got := rec.kinds(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("upload requests %v, want %v", got, tt.want)
			}
			checkCommitted(t, e, q, b.ID(), tables, 2)
			// One job per table (the retries were uploads, not jobs), its data from the bucket.
			for _, name := range tables {
				jobs := loadJobs(e.srv, name)
				if len(jobs) != 1 || jobs[0].InsertAttempts != 1 || !reflect.DeepEqual(jobs[0].SourceURIs, []string{stagedURI("run-1-0001", name)}) {
					t.Errorf("jobs into %s: %+v", name, jobs)
				}
			}
			if up := e.srv.ObjectUploads(); up != 2 {
				t.Errorf("%d objects stored, want 2", up)
			}
			if left := objectNames(e.srv); len(left) != 0 {
				t.Errorf("objects left after the commit: %v", left)
			}
			// One backoff per 503, through the fake sleeper: [0.5s, 1s), then [1s, 2s).
			long := e.sleeper.longer(testPoll + 1)
			if len(long) != tt.times {
				t.Fatalf("backoffs %v, want %d", long, tt.times)
			}
			for i, d := range long {
				lo := backoffInitial << i
				if d < lo/2 || d >= lo {
					t.Errorf("backoff %d = %v, want in [%v, %v)", i+1, d, lo/2, lo)
				}
			}
			if w := logged(e, logrus.WarnLevel, "staging upload failed transiently"); len(w) != tt.times {
				t.Errorf("%d warnings about the retried upload, want %d", len(w), tt.times)
			}
		})
	}
}

func TestBigQueryStagedUploadGivesUp(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	e := startStaged(t, bqtest.Options{})
	q := e.openStaged(t, WithAllocator(mem), WithMaxAttempts(3))
	b := newBatch(t, mem, "run-1", "run-1-0001")
	smallBatch(t, mem, b, day1, []string{crowdchange.Transactions}, 1)
	e.srv.InjectFault(bqtest.Fault{Kind: bqtest.ObjectInsertUnavailable, Times: 10})
	err := q.Commit(context.Background(), b)
	if err == nil || !strings.Contains(err.Error(), "loading transactions: staging its file at "+stagedURI("run-1-0001", "transactions")+": gave up after 3 attempts") {
		t.Fatalf("Commit: %v, want it to give up after 3 uploads", err)
	}
	if got := e.srv.FaultsFired(bqtest.ObjectInsertUnavailable); got != 3 {
		t.Errorf("%d uploads, want 3", got)
	}
	if jobs := loadJobs(e.srv, ""); len(jobs) != 0 {
		t.Errorf("jobs started without their file: %v", jobIDs(jobs))
	}
}

func TestBigQueryStagedCommitFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		before func(e *bqEnv) // after batch 1 is committed
		// The error wanted, and the staged files of batch 2 that must be left in the bucket.
		want string
		left []string
		jobs bool // whether batch 2 started load jobs
	}{
		{"permanent job error", func(e *bqEnv) {
			e.srv.InjectFault(bqtest.Fault{Kind: bqtest.JobInvalid, Match: func(c bqtest.Call) bool { return c.Table == crowdchange.TransactionItem }})
		}, "loading transaction_items: job ccsync-run-2-0001-transaction_items-1: invalid: ",
			[]string{"ccsync/run-2-0001/transaction_items.parquet"}, true},
		{"upload refused", func(e *bqEnv) { e.srv.DenyPermissions(bqtest.PermStorageObjectsCreate) },
			"staging its file at gs://" + testBucket + "/ccsync/run-2-0001/", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := newMem(t)
			e := startStaged(t, bqtest.Options{})
			q := e.openStaged(t, WithAllocator(mem))
			ctx := context.Background()
			tables := []string{crowdchange.Transactions, crowdchange.TransactionItem, crowdchange.Registrations}
			b1 := newBatch(t, mem, "run-1", "run-1-0001")
			smallBatch(t, mem, b1, day1, tables, 1, 2)
			if err := q.Commit(ctx, b1); err != nil {
				t.Fatal(err)
			}
			wantCurrent := e.texts(t, "SELECT id, _run_id FROM `proj.ds.transactions_current` ORDER BY id")
			wantCps, err := q.Checkpoints(ctx)
			if err != nil {
				t.Fatal(err)
			}
			deletes := e.srv.ObjectDeletes()

			tt.before(e)
			b2 := newBatch(t, mem, "run-2", "run-2-0001")
			smallBatch(t, mem, b2, day2, tables, 1, 2)
			err = q.Commit(ctx, b2)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Commit: %v, want %q", err, tt.want)
			}
			t.Logf("error: %v", err)
			if tt.name == "upload refused" && !strings.Contains(err.Error(), stagingRolesHint) {
				t.Errorf("error %q does not say which role to grant", err)
			}
			// Nothing of batch 2 is visible; its staged files are left, and logged.
			if cps, err := q.Checkpoints(ctx); err != nil || !reflect.DeepEqual(cps, wantCps) {
				t.Errorf("checkpoints after the failure: %+v, %v; want %+v", cps, err, wantCps)
			}
			if _, ok := e.srv.Job("ccsync-run-2-0001-checkpoints-1"); ok {
				t.Error("the checkpoints of a failed batch were loaded")
			}
			if got := e.texts(t, "SELECT id, _run_id FROM `proj.ds.transactions_current` ORDER BY id"); !reflect.DeepEqual(got, wantCurrent) {
				t.Errorf("transactions_current = %v, want %v", got, wantCurrent)
			}
			left := objectNames(e.srv)
			for _, name := range tt.left {
				if !slices.Contains(left, name) {
					t.Errorf("objects %v: %s was deleted", left, name)
				}
			}
			for _, name := range left {
				if !strings.HasPrefix(name, "ccsync/run-2-0001/") {
					t.Errorf("object %s left, not batch 2's", name)
				}
			}
			if got := e.srv.ObjectDeletes(); got != deletes {
				t.Errorf("a failed commit deleted %d staged files", got-deletes)
			}
			if (len(loadJobs(e.srv, "")) > len(tables)+1) != tt.jobs {
				t.Errorf("jobs %v", jobIDs(loadJobs(e.srv, "")))
			}
			warn := logged(e, logrus.WarnLevel, "its staged files, if any, are left in place")
			if len(warn) != 1 || warn[0].Data["prefix"] != "gs://"+testBucket+"/ccsync/run-2-0001/" || warn[0].Data["batch"] != "run-2-0001" {
				t.Errorf("warnings about the staged files left: %v", warn)
			}
		})
	}
}

func TestBigQueryStagedDeleteIsBestEffort(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	e := startStaged(t, bqtest.Options{})
	q := e.openStaged(t, WithAllocator(mem))
	b := newBatch(t, mem, "run-1", "run-1-0001")
	tables := []string{crowdchange.Transactions, crowdchange.CustomData}
	smallBatch(t, mem, b, day1, tables, 1, 2)
	const object = "ccsync/run-1-0001/transactions.parquet"
	e.srv.InjectFault(bqtest.Fault{Kind: bqtest.ObjectDeleteUnavailable, Match: func(c bqtest.Call) bool { return c.Object == object }})
	if err := q.Commit(context.Background(), b); err != nil {
		t.Fatalf("Commit with a failing delete: %v", err)
	}
	checkCommitted(t, e, q, b.ID(), tables, 2)
	if left := objectNames(e.srv); !reflect.DeepEqual(left, []string{object}) {
		t.Errorf("objects left %v, want only %s", left, object)
	}
	warn := logged(e, logrus.WarnLevel, "could not delete a committed batch's staged file")
	if len(warn) != 1 || warn[0].Data["object"] != "gs://"+testBucket+"/"+object {
		t.Errorf("warnings %v", warn)
	}
	done := logged(e, logrus.DebugLevel, "batch committed")
	if len(done) != 1 || done[0].Data["staged_files_deleted"] != 1 {
		t.Errorf("batch committed log lines %v", done)
	}
}

func TestBigQueryStagedCommitTwice(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	e := startStaged(t, bqtest.Options{})
	q := e.openStaged(t, WithAllocator(mem))
	b := newBatch(t, mem, "run-1", "batch-1")
	tables := []string{crowdchange.Transactions, crowdchange.CustomData}
	smallBatch(t, mem, b, day1, tables, 1, 2, 3)
	for i := 0; i < 2; i++ {
		if err := q.Commit(context.Background(), b); err != nil {
			t.Fatalf("Commit #%d: %v", i+1, err)
		}
	}
	// Staged twice under the same names (the run ID before the batch ID, which lacks it), loaded once.
	if n := e.count(t, crowdchange.Transactions); n != 3 {
		t.Errorf("transactions has %d rows, want 3", n)
	}
	if n := e.count(t, schemas.Checkpoints); n != 1 {
		t.Errorf("ccsync_checkpoints has %d rows, want 1", n)
	}
	for _, j := range loadJobs(e.srv, "") {
		if j.InsertAttempts != 2 {
			t.Errorf("job %s: %d inserts, want 2", j.ID, j.InsertAttempts)
		}
		if j.Table != schemas.Checkpoints && !reflect.DeepEqual(j.SourceURIs, []string{stagedURI("run-1-batch-1", j.Table)}) {
			t.Errorf("job %s reads %v", j.ID, j.SourceURIs)
		}
	}
	if up, del, left := e.srv.ObjectUploads(), e.srv.ObjectDeletes(), objectNames(e.srv); up != 4 || del != 4 || len(left) != 0 {
		t.Errorf("%d uploads, %d deletes, %v left; want 4, 4, none", up, del, left)
	}
}

func TestBigQueryOpenStagingUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		bucket string
		setup  func(e *bqEnv)
		want   []string
	}{
		{name: "bucket missing", bucket: "no-such-bucket",
			want: []string{"staging bucket gs://no-such-bucket not found: create it: gcloud storage buckets create gs://no-such-bucket --location US"}},
		{name: "objects cannot be created", bucket: testBucket, setup: func(e *bqEnv) { e.srv.DenyPermissions(bqtest.PermStorageObjectsCreate) },
			want: []string{"no permission to stage files in gs://" + testBucket + " (storage.objects.create)", "roles/storage.objectAdmin on the bucket", "BigQuery reads the staged files with that same identity"}},
		{name: "objects cannot be read or deleted", bucket: testBucket, setup: func(e *bqEnv) {
			e.srv.DenyPermissions(bqtest.PermStorageObjectsDelete, bqtest.PermStorageObjectsGet)
		}, want: []string{"(storage.objects.delete, storage.objects.get)", "roles/storage.objectAdmin"}},
		{name: "a gs:// URI instead of a name", bucket: "gs://" + testBucket, want: []string{"bq-staging-bucket", "give the bucket's name alone (" + testBucket + ")"}},
		{name: "not a bucket name", bucket: "Bad_Name!", want: []string{"bq-staging-bucket", "is not a bucket name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := startStaged(t, bqtest.Options{})
			if tt.setup != nil {
				tt.setup(e)
			}
			cfg := e.cfg()
			cfg.StagingBucket = tt.bucket
			q, err := OpenBigQuery(context.Background(), cfg, e.log, e.stagedOptions()...)
			if err == nil {
				q.Close()
				t.Fatal("OpenBigQuery succeeded")
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, ErrWarehouseUnavailable) {
				t.Errorf("error %v does not wrap ErrWarehouseUnavailable", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			// Checked before anything is created.
			if _, err := e.client.Dataset(bqDataset).Table(crowdchange.Transactions).Metadata(context.Background()); err == nil {
				t.Error("a failed open created the tables")
			}
		})
	}
}

func TestBigQueryStagingThroughEmulatorHost(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	e := startStaged(t, bqtest.Options{})
	cfg := e.cfg()
	cfg.Endpoint, cfg.StagingBucket = "", testBucket
	env := func(k string) (string, bool) {
		if k == EmulatorHostEnv {
			return strings.TrimPrefix(e.srv.URL(), "http://"), true
		}
		return "", false
	}
	// No client options: BIGQUERY_EMULATOR_HOST alone points both clients at the server.
	q, err := OpenBigQuery(context.Background(), cfg, e.log, WithGetenv(env), WithSleeper(e.sleeper.sleep), WithPollInterval(testPoll), WithAllocator(mem))
	if err != nil {
		t.Fatalf("OpenBigQuery: %v", err)
	}
	defer q.Close()
	b := newBatch(t, mem, "run-1", "run-1-0001")
	smallBatch(t, mem, b, day1, []string{crowdchange.Transactions}, 1, 2)
	if err := q.Commit(context.Background(), b); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	checkCommitted(t, e, q, b.ID(), []string{crowdchange.Transactions}, 2)
	if e.srv.ObjectUploads() != 1 || e.srv.ObjectDeletes() != 1 {
		t.Errorf("%d uploads, %d deletes; want 1, 1", e.srv.ObjectUploads(), e.srv.ObjectDeletes())
	}
}

func TestStorageEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:9050/bigquery/v2/", "http://127.0.0.1:9050/storage/v1/"},
		{"https://emu.example/some/prefix/", "https://emu.example/storage/v1/"},
	}
	for _, tt := range tests {
		if got := storageEndpoint(tt.in); got != tt.want {
			t.Errorf("storageEndpoint(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStagedObjectName(t *testing.T) {
	t.Parallel()
	tests := []struct{ run, batch, table, want string }{
		{"run-1", "run-1-0001", "transactions", "ccsync/run-1-0001/transactions.parquet"},
		{"run-1", "batch-1", "custom_data", "ccsync/run-1-batch-1/custom_data.parquet"},
		{"20261122T031949Z-5207e8f5", "20261122T031949Z-5207e8f5-0003", "transaction_items", "ccsync/20261122T031949Z-5207e8f5-0003/transaction_items.parquet"},
	}
	for _, tt := range tests {
		if got := stagedObjectName(jobIDBase(tt.run, tt.batch), tt.table); got != tt.want {
			t.Errorf("stagedObjectName(%s, %s, %s) = %q, want %q", tt.run, tt.batch, tt.table, got, tt.want)
		}
	}
}
