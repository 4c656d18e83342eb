package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/schemas"
	crowdchangeschema "github.com/ccsync/ccsync/schemas/crowdchange"
	"github.com/ccsync/ccsync/transform"
)

// fakeClock advances only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// exampleFetcher answers windows at once, every nth with a copy of the API's example transaction
// (a new id) and the others empty, advancing a fake clock as if each window took perWindow.
type exampleFetcher struct {
	clock     *fakeClock
	perWindow time.Duration
	every     int
	raw       json.RawMessage
	mu        sync.Mutex
	calls     int
	nextID    int64
	fail      error  // returned for every window when set
	onAdd     func() // called after the builder added a window, when set
}

func newExampleFetcher(t *testing.T, clock *fakeClock, perWindow time.Duration, every int) *exampleFetcher {
	t.Helper()
	var page crowdchange.Page
	if err := json.Unmarshal(crowdchangetest.ExamplePage(), &page); err != nil {
		t.Fatal(err)
	}
	return &exampleFetcher{clock: clock, perWindow: perWindow, every: every, raw: page.Data[0], nextID: 1}
}

// exampleFetcher is a CrowdChange source as the run loop sees it.
var _ Source = (*exampleFetcher)(nil)

func (f *exampleFetcher) Name() string    { return crowdchangeschema.Name }
func (f *exampleFetcher) Records() string { return "transactions" }
func (f *exampleFetcher) PlanBackfill(_ context.Context, r config.Run) (extract.Plan, error) {
	ws, err := extract.PlanDateWindows(r.From, r.RangeEnd(), r.Window)
	return extract.Plan{Windows: ws, From: r.From, To: r.RangeEnd()}, err
}
func (f *exampleFetcher) PlanSync(context.Context, []load.Checkpoint, config.Run, time.Time) (extract.Plan, error) {
	if f.fail != nil {
		return extract.Plan{}, PlanFetchError{f.fail} // as a source that reads its API to plan
	}
	return extract.Plan{}, errors.New("the example source does not sync")
}
func (f *exampleFetcher) Stats() extract.Stats    { return extract.Stats{} }
func (f *exampleFetcher) Tables() []schemas.Table { return crowdchangeschema.BatchTables() }
func (f *exampleFetcher) NewBuilder(mem memory.Allocator, policy schemas.Policy) Builder {
	txs, err := transform.NewFlattener[crowdchange.Transaction](mem, policy.Flattening(crowdchangeschema.Flattening()))
	if err != nil {
		panic(err)
	}
	q, err := transform.NewQuarantine(mem)
	if err != nil {
		panic(err)
	}
	return exampleBuilder{txs, q, f.onAdd}
}

// exampleBuilder fills CrowdChange's batch tables from the example transaction (no quarantine).
type exampleBuilder struct {
	txs   *transform.Flattener[crowdchange.Transaction]
	q     *transform.Quarantine
	onAdd func()
}

func (b exampleBuilder) AddWindow(f extract.WindowFetch, m transform.Meta) {
	for _, t := range f.(*crowdchange.WindowResult).Transactions {
		b.txs.Add(&t.Tx, t.Raw, t.Err, m)
	}
	if b.onAdd != nil {
		b.onAdd()
	}
}
func (b exampleBuilder) Len() int               { return b.txs.Len() }
func (b exampleBuilder) Stats() transform.Stats { return b.txs.Stats() }
func (b exampleBuilder) NewRecords() []arrow.Record {
	return append(b.txs.NewRecords(), b.q.NewRecord())
}
func (b exampleBuilder) Release() { b.txs.Release(); b.q.Release() }

func (f *exampleFetcher) Fetch(ctx context.Context, w extract.Window) (extract.WindowFetch, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	f.clock.Advance(f.perWindow)
	res := &crowdchange.WindowResult{Window: w, Pages: 1}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls%f.every == 0 {
		var tx crowdchange.Transaction
		if err := json.Unmarshal(f.raw, &tx); err != nil {
			return nil, err
		}
		tx.ID = f.nextID
		f.nextID++
		res.Transactions = append(res.Transactions, crowdchange.Fetched{ID: tx.ID, Raw: f.raw, Tx: tx})
	}
	return res, nil
}

// countingSink counts what a warehouse would be asked to do: one load job per table with rows per
// committed batch (BigQuery's unit of quota).
type countingSink struct {
	mu        sync.Mutex
	commits   int
	jobs      map[string]int
	windows   int
	failAfter int // fail the commit after this many successful ones (0: never)
}

func (s *countingSink) Commit(ctx context.Context, b *load.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAfter > 0 && s.commits >= s.failAfter {
		return errors.New("loading transactions: job ccsync-x-transactions-1: invalid: boom")
	}
	s.commits++
	if s.jobs == nil {
		s.jobs = map[string]int{}
	}
	for table := range b.Files() {
		s.jobs[table]++
	}
	s.windows += len(b.Checkpoints())
	return nil
}
func (s *countingSink) Checkpoints(context.Context) ([]load.Checkpoint, error) { return nil, nil }
func (s *countingSink) RecordRun(context.Context, load.Run) error              { return nil }
func (s *countingSink) Close() error                                           { return nil }

func errorsContains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("%s is not empty: %d entries", dir, len(entries))
	}
}

func testLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

// A ten-year backfill with daily windows stays a small fraction of BigQuery's 1,500 load jobs per
// table per day: the batch policy (windows, transactions, age, on a fake clock) commits at most
// 150 batches, so at most 150 load jobs per table.
func TestBatcherTenYearsDailyWindowsUsesFewLoadJobs(t *testing.T) {
	t.Parallel()
	windows, err := extract.PlanDateWindows(time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(windows) != 3653 {
		t.Fatalf("%d windows", len(windows))
	}
	tests := []struct {
		name      string
		perWindow time.Duration // how long the API takes per window
	}{
		{"fast API", 200 * time.Millisecond},
		{"slow API: the age bound commits", 20 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfg config.Run
			cfg.SetDefaults()
			clock := &fakeClock{now: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			sink := &countingSink{}
			p := &pipeline{log: testLog(), source: newExampleFetcher(t, clock, tt.perWindow, 50), sink: sink, mem: mem,
				runID: "run1", tempDir: t.TempDir(), concurrency: 1, policy: cfg.Batch, now: clock.Now}
			tl, err := p.run(context.Background(), windows)
			if err != nil {
				t.Fatal(err)
			}
			if tl.Windows != len(windows) || sink.windows != len(windows) {
				t.Fatalf("committed %d windows (%d checkpoints), want %d", tl.Windows, sink.windows, len(windows))
			}
			for _, table := range []string{crowdchangeschema.Transactions, crowdchangeschema.TransactionItem, crowdchangeschema.CustomData, crowdchangeschema.RawTransactions} {
				if n := sink.jobs[table]; n == 0 || n > 150 {
					t.Errorf("%s: %d load jobs, want 1..150", table, n)
				}
			}
			t.Logf("%d batches for %d windows over %s of fake time", sink.commits, len(windows), clock.Now().Sub(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)))
		})
	}
}

func TestBatchFull(t *testing.T) {
	t.Parallel()
	p := config.BatchPolicy{MaxWindows: 10, MaxTransactions: 100, MaxAge: time.Minute}
	tests := []struct {
		windows, tx int
		age         time.Duration
		want        bool
	}{
		{1, 1, 0, false},
		{9, 99, 59 * time.Second, false},
		{10, 0, 0, true},
		{1, 100, 0, true},
		{1, 1, time.Minute, true},
	}
	for _, tt := range tests {
		if got := batchFull(p, tt.windows, tt.tx, tt.age); got != tt.want {
			t.Errorf("batchFull(%d windows, %d tx, %v) = %v", tt.windows, tt.tx, tt.age, got)
		}
	}
}

func TestStamperStrictlyIncreases(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := newStamper(clock.Now)
	prev := s.next()
	for i := 0; i < 100; i++ {
		if i%10 == 0 {
			clock.Advance(3 * time.Microsecond)
		}
		n := s.next()
		if !n.After(prev) {
			t.Fatalf("stamp %d: %v is not after %v", i, n, prev)
		}
		prev = n
	}
}

// A failing commit stops the run with the error, and the batch's files are removed; the windows it
// held were not committed.
func TestPipelineCommitFailureStopsTheRun(t *testing.T) {
	t.Parallel()
	windows, _ := extract.PlanDateWindows(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour)
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	sink := &countingSink{failAfter: 2}
	f := newExampleFetcher(t, clock, time.Second, 1)
	p := &pipeline{log: testLog(), source: f, sink: sink, mem: mem, runID: "run1", tempDir: dir,
		concurrency: 3, policy: config.BatchPolicy{MaxWindows: 10, MaxTransactions: 1000, MaxAge: time.Hour}, now: clock.Now}
	tl, err := p.run(context.Background(), windows)
	if err == nil || !errorsContains(err, "loading transactions: job ccsync-x-transactions-1") {
		t.Fatalf("err = %v", err)
	}
	if tl.Windows != 20 || sink.commits != 2 {
		t.Errorf("committed %d windows in %d batches, want 20 in 2", tl.Windows, sink.commits)
	}
	// The failed third batch stops the fetching: at most the fourth batch's windows and the
	// fetchers' (3 fetching, 3 waiting) follow it, never the rest of the range.
	if f.calls > 46 {
		t.Errorf("%d of %d windows fetched after the third batch failed; want at most 46", f.calls, len(windows))
	}
	assertEmptyDir(t, dir)
}

// The builder fills the next batch while the committer commits one: the first batch's commit waits
// until a window of the second batch has been transformed, which deadlocks (and fails after a
// minute) when commits and building take turns.
func TestCommitOverlapsBuilding(t *testing.T) {
	t.Parallel()
	windows, _ := extract.PlanDateWindows(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC), 24*time.Hour)
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f := newExampleFetcher(t, clock, time.Second, 1)
	secondBatch := make(chan struct{})
	var added atomic.Int32
	f.onAdd = func() {
		if added.Add(1) == 4 { // the first window of the second batch (3 windows a batch)
			close(secondBatch)
		}
	}
	sink := &gatedSink{gate: secondBatch}
	p := &pipeline{log: testLog(), source: f, sink: sink, mem: mem, runID: "run1", tempDir: t.TempDir(), concurrency: 1,
		policy: config.BatchPolicy{MaxWindows: 3, MaxTransactions: 1000, MaxAge: time.Hour}, now: clock.Now}
	tl, err := p.run(context.Background(), windows)
	if err != nil {
		t.Fatal(err)
	}
	if tl.Windows != 9 || tl.Batches != 3 || sink.commits != 3 {
		t.Errorf("committed %d windows in %d batches (%d commits), want 9 in 3", tl.Windows, tl.Batches, sink.commits)
	}
}

// gatedSink's first commit waits for gate (or fails after a minute).
type gatedSink struct {
	countingSink
	gate <-chan struct{}
}

func (s *gatedSink) Commit(ctx context.Context, b *load.Batch) error {
	if s.commits == 0 {
		select {
		case <-s.gate:
		case <-time.After(time.Minute):
			return errors.New("the first commit waited a minute for the second batch to be built")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.countingSink.Commit(ctx, b)
}

// A window that cannot be extracted stops the run; nothing of the open batch is committed.
func TestPipelineExtractFailureCommitsNothingMore(t *testing.T) {
	t.Parallel()
	windows, _ := extract.PlanDateWindows(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC), 24*time.Hour)
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f := newExampleFetcher(t, clock, time.Second, 1)
	f.fail = fmt.Errorf("fetching page 1: %w", extract.ErrForbidden)
	sink := &countingSink{}
	dir := t.TempDir()
	p := &pipeline{log: testLog(), source: f, sink: sink, mem: mem, runID: "run1", tempDir: dir, concurrency: 2,
		policy: config.BatchPolicy{MaxWindows: 3, MaxTransactions: 1000, MaxAge: time.Hour}, now: clock.Now}
	_, err := p.run(context.Background(), windows)
	if !errors.Is(err, extract.ErrForbidden) {
		t.Fatalf("err = %v", err)
	}
	if sink.commits != 0 {
		t.Errorf("%d commits after a failed extraction", sink.commits)
	}
	assertEmptyDir(t, dir)
}

// A field the model does not know never fails a run: the transaction lands (its raw JSON keeps the
// field) and the field is counted for the run summary.
func TestUnknownFieldsAreCountedNotFatal(t *testing.T) {
	t.Parallel()
	windows, _ := extract.PlanDateWindows(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 5, 0, 0, 0, 0, time.UTC), 24*time.Hour)
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f := newExampleFetcher(t, clock, time.Second, 1)
	f.raw = json.RawMessage(strings.Replace(string(f.raw), `"id": 10001,`, `"id": 10001, "matching_gift": {"employer": "ACME", "ratio": 2},`, 1))
	sink := &countingSink{}
	p := &pipeline{log: testLog(), source: f, sink: sink, mem: mem, runID: "run1", tempDir: t.TempDir(), concurrency: 1,
		policy: config.BatchPolicy{MaxWindows: 10, MaxTransactions: 1000, MaxAge: time.Hour}, now: clock.Now}
	tl, err := p.run(context.Background(), windows)
	if err != nil {
		t.Fatal(err)
	}
	if tl.Records != 4 || tl.Unknown != 8 || tl.Invalid != 0 || tl.Rows[crowdchangeschema.RawTransactions] != 4 {
		t.Errorf("transactions %d, unknown fields %d (want 2 per transaction), invalid %d, raw rows %d", tl.Records, tl.Unknown, tl.Invalid, tl.Rows[crowdchangeschema.RawTransactions])
	}
	var out strings.Builder
	printSummary(&out, load.Run{Source: "crowdchange", RunID: "run1", Verb: "backfill", Outcome: "done"}, tl, extract.Stats{}, "transactions", 4, 0, false)
	if !strings.Contains(out.String(), "8 unknown fields") {
		t.Errorf("the summary does not count them:\n%s", out.String())
	}
	if strings.Contains(out.String(), "changed") {
		t.Errorf("the summary of a source that appends every version counts changes:\n%s", out.String())
	}
}

// TestPlanErrors: a planning error is a UsageError, unless the source failed to read its API to
// plan, whose error keeps its class (refused credentials stay extract.ErrForbidden).
func TestPlanErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		fail      error
		usage     bool
		forbidden bool
	}{
		{name: "a mistake in the job", usage: true},
		{name: "refused credentials while planning", fail: fmt.Errorf("listing campaigns: %w", extract.ErrForbidden), forbidden: true},
		{name: "an API that kept failing", fail: errors.New("listing campaigns: 503")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			f := newExampleFetcher(t, clock, time.Second, 1)
			f.fail = tc.fail
			_, err := Sync(t.Context(), Job{Verb: "sync", Source: f, Sink: &countingSink{}, Log: testLog(), Now: clock.Now})
			var usage UsageError
			if err == nil || errors.As(err, &usage) != tc.usage || errors.Is(err, extract.ErrForbidden) != tc.forbidden {
				t.Errorf("Sync: %v (a usage error: %v, want %v; forbidden: want %v)", err, errors.As(err, &usage), tc.usage, tc.forbidden)
			}
		})
	}
}

// TestSummaryOfChangesOnly: a source that appends changed records only gets a line saying how
// many of the records read changed.
func TestSummaryOfChangesOnly(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	tl := Tally{Records: 120, Unchanged: 100}
	printSummary(&out, load.Run{Source: "crowdtilt", RunID: "run1", Verb: "sync", Outcome: "done"}, tl, extract.Stats{}, "records", 4, 0, true)
	if want := "changed        20 of the 120 read (a new version appended); 100 unchanged since their current version\n"; !strings.Contains(out.String(), want) {
		t.Errorf("the summary lacks %q:\n%s", want, out.String())
	}
	out.Reset()
	tl = Tally{Records: 120, Unchanged: 90, Reread: 10}
	printSummary(&out, load.Run{Source: "crowdtilt", RunID: "run1", Verb: "sync", Outcome: "done"}, tl, extract.Stats{}, "records", 4, 0, true)
	if want := "changed        20 of the 120 read (a new version appended); 90 unchanged since their current version; 10 read again in this run\n"; !strings.Contains(out.String(), want) {
		t.Errorf("the summary lacks %q:\n%s", want, out.String())
	}
}

// A run's range reads as days when it is whole days (the last included), else as instants (a
// Crowdtilt walk).
func TestRunRange(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		start, end time.Time
		want       string
	}{
		{want: "-"},
		{start: day, end: day.AddDate(0, 0, 31), want: "2026-01-01..2026-01-31"},
		{start: time.Unix(0, 0).UTC(), end: day.Add(7*time.Hour + 54*time.Minute), want: "1970-01-01T00:00:00Z..2026-01-01T07:54:00Z"},
		{start: day.Add(time.Hour), end: day.Add(time.Hour + time.Second), want: "2026-01-01T01:00:00Z..2026-01-01T01:00:01Z"},
	} {
		if got := runRange(tc.start, tc.end); got != tc.want {
			t.Errorf("runRange(%s, %s) = %q, want %q", tc.start, tc.end, got, tc.want)
		}
	}
}

// The status table lists the keys of a stream one by one up to maxKeysListed, then folds them
// into one line with the oldest watermark.
func TestStatusFoldsManyKeys(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var streams []StreamStatus
	for i := range maxKeysListed + 1 {
		streams = append(streams, StreamStatus{Stream: "walk", Account: fmt.Sprintf("CMP%d", i), Watermark: base.Add(time.Duration(i) * time.Hour),
			LagS: float64(24-i) * 3600, Windows: 2, First: base.AddDate(0, 0, -i)})
	}
	streams = append(streams, StreamStatus{Stream: "payout", Account: "global", Watermark: base, Windows: 1, First: base})
	got := summarizeKeys(streams)
	if len(got) != 2 {
		t.Fatalf("%d lines, want 2: %+v", len(got), got)
	}
	w := got[0]
	if w.Account != "9 keys" || !w.Watermark.Equal(base) || w.LagS != 24*3600 || w.Windows != 18 || !w.First.Equal(base.AddDate(0, 0, -8)) {
		t.Errorf("folded line %+v", w)
	}
	if got[1].Account != "global" {
		t.Errorf("a stream with few keys is folded: %+v", got[1])
	}
	if n := len(summarizeKeys(streams[:maxKeysListed])); n != maxKeysListed {
		t.Errorf("%d lines for %d keys, want each listed", n, maxKeysListed)
	}
}
