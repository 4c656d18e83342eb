package pipeline

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sirupsen/logrus"
	"golang.org/x/sync/errgroup"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/transform"
)

// pipeline is the run loop: windows → extract → transform → load → commit. Windows are fetched
// concurrently (bounded by concurrency, throttled by the client's shared rate limiter); one
// builder transforms them in arrival order into the open batch, which, when the batch policy says
// it is full and at the end, goes to one committer that commits it with its windows' checkpoints
// while the builder fills the next: commits overlap fetching and transforming, batches are
// committed in order, and at most two exist at a time. A failure anywhere cancels the rest; what
// was committed stays committed, the batches not committed are dropped, and the next run re-reads
// their windows.
type pipeline struct {
	log         *logrus.Entry
	source      Source
	sink        Sink
	mem         memory.Allocator
	runID       string
	tempDir     string
	concurrency int
	policy      config.BatchPolicy
	pii         schemas.Policy
	now         func() time.Time
	progress    Progress // may be nil
}

// Tally counts what a run did.
type Tally struct {
	Windows int
	Pages   int
	// Records counts the records extracted (CrowdChange: transaction versions).
	Records     int
	Duplicates  int
	Batches     int
	Bytes       int64
	Rows        map[string]int64
	Unknown     int
	Invalid     int
	Quarantined int
	// Unchanged counts the records read that had not changed since their current version (a
	// ChangeDetector source's): Records - Unchanged versions were appended.
	Unchanged int
	// Reread counts the records read again in the same run (neither changed nor unchanged).
	Reread int
}

func (p *pipeline) run(ctx context.Context, windows []extract.Window) (Tally, error) {
	g, ctx := errgroup.WithContext(ctx)
	results := make(chan extract.WindowFetch, p.concurrency)

	// Fetch windows concurrently; the dispatcher owns and closes the results channel.
	g.Go(func() error {
		defer close(results)
		fetchers, fctx := errgroup.WithContext(ctx)
		fetchers.SetLimit(p.concurrency)
		for _, w := range windows {
			if fctx.Err() != nil {
				break
			}
			fetchers.Go(func() error {
				res, err := p.source.Fetch(fctx, w)
				if err != nil {
					return fmt.Errorf("extracting %s: %w", w, err)
				}
				select {
				case results <- res:
					return nil
				case <-fctx.Done():
					return fctx.Err()
				}
			})
		}
		return fetchers.Wait()
	})

	// The builder fills batches while the committer commits the previous one: one batch in
	// commit, one filling. The builder owns and closes the channel of full batches.
	full := make(chan *openBatch)
	var built, committed Tally
	g.Go(func() error {
		defer close(full)
		var err error
		built, err = p.buildLoop(ctx, results, full)
		return err
	})
	g.Go(func() error {
		var err error
		committed, err = p.commitBatches(ctx, full)
		return err
	})
	err := g.Wait()
	built.Batches, built.Bytes, built.Rows, built.Windows = committed.Batches, committed.Bytes, committed.Rows, committed.Windows
	return built, err
}

// commitBatches commits the full batches in the order they come, each with its windows'
// checkpoints, and removes their files. It stops at the first failure: a later batch is never
// committed past one that was not. Its error cancels the run's context, which stops the fetchers,
// and the builder, whose sends select on it, drops the batch it was handing over.
func (p *pipeline) commitBatches(ctx context.Context, full <-chan *openBatch) (Tally, error) {
	t := Tally{Rows: map[string]int64{}}
	for b := range full {
		err := p.commit(ctx, b, &t)
		b.discard(p.log)
		if err != nil {
			return t, err
		}
	}
	return t, nil
}

// commit commits one closed batch and counts it in t.
func (p *pipeline) commit(ctx context.Context, b *openBatch, t *Tally) error {
	started := p.now()
	if err := p.sink.Commit(ctx, b.batch); err != nil {
		return err // the sink's errors name the batch
	}
	t.Batches++
	t.Bytes += b.batch.Bytes()
	for table, n := range b.batch.Rows() {
		t.Rows[table] += n
	}
	t.Windows += b.batch.Windows()
	p.log.WithFields(logrus.Fields{
		"batch":        b.batch.ID(),
		"windows":      b.batch.Windows(),
		"transactions": b.records, // the records of any source, under the key the logs always had
		"rows":         b.batch.Rows(),
		"bytes":        b.batch.Bytes(),
		"window":       b.span(),
		"commit_ms":    p.now().Sub(started).Milliseconds(),
	}).Info("committed batch")
	if p.progress != nil {
		p.progress.BatchCommitted(b.batch.Windows(), b.records)
	}
	return nil
}

// buildLoop transforms arriving windows into the open batch and hands it to the committer
// (full) when the batch policy says it is full, and at the end.
func (p *pipeline) buildLoop(ctx context.Context, results <-chan extract.WindowFetch, full chan<- *openBatch) (Tally, error) {
	t := Tally{Rows: map[string]int64{}}
	builder := p.source.NewBuilder(p.mem, p.pii)
	defer builder.Release()
	stamp := newStamper(p.now)
	tables := p.pii.Tables(p.source.Tables())

	var open *openBatch
	defer func() {
		if open != nil {
			open.discard(p.log)
		}
	}()
	// drain moves the transformed rows into the open batch's Parquet files as one row group per
	// table: rows accumulate across windows so that row groups are large (a row group per small
	// window would bloat the files with metadata), up to rowGroupTransactions to bound memory.
	drain := func() error {
		if builder.Len() == 0 {
			return nil
		}
		recs := builder.NewRecords()
		var werr error
		for i, rec := range recs {
			if werr == nil {
				if err := open.batch.Write(tables[i].Name, rec); err != nil {
					werr = fmt.Errorf("writing %s rows: %w", tables[i].Name, err)
				}
			}
			rec.Release()
		}
		return werr
	}
	seq := 0
	flush := func() error {
		if open == nil {
			return nil
		}
		if err := drain(); err != nil {
			return err
		}
		b := open
		open = nil
		if err := b.batch.Close(); err != nil {
			b.discard(p.log)
			return fmt.Errorf("closing batch %s: %w", b.batch.ID(), err)
		}
		select {
		case full <- b:
			return nil
		case <-ctx.Done():
			b.discard(p.log)
			return ctx.Err()
		}
	}

	for {
		var res extract.WindowFetch
		var ok bool
		select {
		case res, ok = <-results:
		case <-ctx.Done():
			return t, ctx.Err()
		}
		if !ok {
			return t, flush()
		}
		if open == nil {
			seq++
			b, err := p.newBatch(seq)
			if err != nil {
				return t, err
			}
			open = b
		}
		meta := transform.Meta{RunID: p.runID, BatchID: open.batch.ID(), ExtractedAt: stamp.next()}
		before := builder.Stats()
		builder.AddWindow(res, meta)
		after := builder.Stats()
		counts := res.Counts()
		t.Unknown += after.UnknownFields - before.UnknownFields
		t.Invalid += after.Invalid - before.Invalid
		t.Quarantined += after.Quarantined - before.Quarantined
		t.Unchanged += after.Unchanged - before.Unchanged
		t.Reread += after.Reread - before.Reread
		open.batch.AddCheckpoint(load.Checkpoint{
			Source:        p.source.Name(),
			Stream:        string(counts.Window.Stream),
			PayoutAccount: counts.Window.Account,
			WindowStart:   counts.Window.Start,
			WindowEnd:     counts.Window.End,
			RunID:         p.runID,
			BatchID:       open.batch.ID(),
			Transactions:  int64(counts.Records),
			Pages:         int64(counts.Pages),
		})
		open.add(counts)
		t.Pages += counts.Pages
		t.Records += counts.Records
		t.Duplicates += counts.Duplicates
		if p.progress != nil {
			p.progress.WindowDone(counts.Records)
		}
		switch {
		case open.full(p.policy, p.now()):
			if err := flush(); err != nil {
				return t, err
			}
		case builder.Len() >= rowGroupTransactions:
			if err := drain(); err != nil {
				return t, err
			}
		}
	}
}

// rowGroupTransactions bounds the records held as Arrow rows before they are written to the
// batch's Parquet files (a row group per table).
const rowGroupTransactions = 2000

func (p *pipeline) newBatch(seq int) (*openBatch, error) {
	id := fmt.Sprintf("%s-%04d", p.runID, seq)
	b, err := load.NewBatch(p.tempDir, p.runID, id, p.mem, load.BatchPII(p.pii)) // in a directory of its own under tempDir
	if err != nil {
		return nil, fmt.Errorf("creating batch %s: %w", id, err)
	}
	return &openBatch{batch: b, opened: p.now()}, nil
}

// openBatch is the batch being filled, with what the policy needs to know.
type openBatch struct {
	batch       *load.Batch
	opened      time.Time
	records     int
	first, last time.Time
}

func (b *openBatch) add(res extract.WindowCounts) {
	b.records += res.Records
	if b.first.IsZero() || res.Window.Start.Before(b.first) {
		b.first = res.Window.Start
	}
	if res.Window.End.After(b.last) {
		b.last = res.Window.End
	}
}

// full says whether the batch must be committed now: the policy's bounds on windows,
// transactions and age.
func (b *openBatch) full(p config.BatchPolicy, now time.Time) bool {
	return batchFull(p, b.batch.Windows(), b.records, now.Sub(b.opened))
}

// batchFull is the batch policy: commit when any bound is reached.
func batchFull(p config.BatchPolicy, windows, records int, age time.Duration) bool {
	return windows >= p.MaxWindows || records >= p.MaxTransactions || age >= p.MaxAge
}

func (b *openBatch) span() string {
	return b.first.UTC().Format(time.RFC3339) + ".." + b.last.UTC().Format(time.RFC3339)
}

func (b *openBatch) discard(log *logrus.Entry) {
	if err := b.batch.Remove(); err != nil { // closes it first
		log.WithError(err).WithField("batch", b.batch.ID()).Warn("removing a batch's files")
	}
}

// stamper hands out _extracted_at stamps that strictly increase within a run, so that
// (transaction id, _run_id, _extracted_at) identifies one version even when the same transaction
// is extracted twice in one run (by the date and the payout stream).
type stamper struct {
	mu   sync.Mutex
	now  func() time.Time
	last time.Time
}

func newStamper(now func() time.Time) *stamper { return &stamper{now: now} }

func (s *stamper) next() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.now().UTC().Truncate(time.Microsecond)
	if !t.After(s.last) {
		t = s.last.Add(time.Microsecond)
	}
	s.last = t
	return t
}
