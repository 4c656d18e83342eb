package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/schemas"
)

// Job is one run of a verb that extracts: what it runs against and how.
type Job struct {
	Verb string
	// Args is the command line, secrets removed, for the run log.
	Args   string
	RunID  string
	Run    config.Run
	Source Source
	Sink   Sink
	Log    *logrus.Entry
	Now    func() time.Time
	Mem    memory.Allocator // nil: memory.DefaultAllocator
	// Out receives the run's summary.
	Out io.Writer
	// Progress, when not nil, is shown the run's advance.
	Progress Progress
	// Getenv reads the environment (a backfill's Cloud Run task shard); nil reads nothing.
	Getenv func(string) (string, bool)
	// PII is the run's PII policy (the zero Policy keeps everything); the run log records it.
	PII schemas.Policy
}

// Backfill loads the job's closed range of days (Run.From..Run.To), resumably: windows committed
// before, by any run of the same source, are skipped unless Run.Force; a shard (Run.Shard, else
// the Cloud Run task's) keeps its share of the planned windows.
func Backfill(ctx context.Context, j Job) (Tally, error) {
	if err := j.Run.ValidateRange(); err != nil {
		return Tally{}, UsageError{err}
	}
	plan, err := j.Source.PlanBackfill(ctx, j.Run)
	if err != nil {
		return Tally{}, planError(err)
	}
	shard, err := ShardFromEnv(j.Run.Shard, j.Getenv)
	if err != nil {
		return Tally{}, UsageError{err}
	}
	cps, err := j.checkpoints(ctx)
	if err != nil {
		return Tally{}, err
	}
	plan.Windows, plan.Skipped = Pending(ShardWindows(plan.Windows, shard), cps, j.Run.Force)
	return run(ctx, j, plan, shard)
}

// Sync is the nightly run: what the source plans from its own committed checkpoints.
func Sync(ctx context.Context, j Job) (Tally, error) {
	cps, err := j.checkpoints(ctx)
	if err != nil {
		return Tally{}, err
	}
	plan, err := j.Source.PlanSync(ctx, cps, j.Run, j.Now())
	if err != nil {
		return Tally{}, planError(err)
	}
	j.Log.WithFields(plan.Fields).Info("sync planned")
	return run(ctx, j, plan, config.Shard{})
}

// checkpoints reads the job's source's committed windows (never another source's).
func (j Job) checkpoints(ctx context.Context) ([]load.Checkpoint, error) {
	cps, err := j.Sink.Checkpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	return load.OfSource(cps, j.Source.Name()), nil
}

// UsageError is a mistake in what the job was asked to do (a range, a shard, a first sync without
// a start): the command line or the configuration must change.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// PlanFetchError is a source's failure to read its API while it plans (Crowdtilt lists its
// campaigns to plan a walk): it keeps the API error's class (refused credentials, a wrong URL,
// an API that kept failing), unlike the other planning errors, which are UsageErrors.
type PlanFetchError struct{ Err error }

func (e PlanFetchError) Error() string { return e.Err.Error() }
func (e PlanFetchError) Unwrap() error { return e.Err }

// planError classifies a source's planning error, once.
func planError(err error) error {
	var fetch PlanFetchError
	if errors.As(err, &fetch) {
		return err
	}
	return UsageError{err}
}

// run extracts and loads the plan's windows, recording the run in the run log, and prints the
// summary.
func run(ctx context.Context, j Job, plan extract.Plan, shard config.Shard) (Tally, error) {
	started := j.Now()
	todo, skipped := plan.Windows, plan.Skipped
	log := j.Log.WithFields(logrus.Fields{"windows": len(todo), "skipped": skipped, "pii_policy": j.PII.String()})
	if shard.Count > 1 {
		log = log.WithField("shard", shard.String())
	}
	log.Info("run started")

	rec := load.Run{Source: j.Source.Name(), RunID: j.RunID, Verb: j.Verb, Args: j.Args, RangeStart: plan.From, RangeEnd: plan.To,
		StartedAt: started, Outcome: "running", WindowsSkipped: int64(skipped), PIIPolicy: j.PII.String()}
	if err := j.Sink.RecordRun(ctx, rec); err != nil {
		return Tally{}, fmt.Errorf("recording the run's start: %w", err)
	}

	mem := j.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if j.Progress != nil {
		j.Progress.Begin(len(todo), func() int64 { return j.Source.Stats().Requests })
	}
	p := &pipeline{
		log: j.Log, source: j.Source, sink: j.Sink, mem: mem, runID: j.RunID,
		tempDir: j.Run.TempDir, concurrency: j.Run.Concurrency, policy: j.Run.Batch, pii: j.PII, now: j.Now, progress: j.Progress,
	}
	t, runErr := p.run(ctx, todo)
	if j.Progress != nil {
		j.Progress.Finish()
	}

	stats := j.Source.Stats()
	rec.EndedAt = j.Now()
	rec.Outcome = "done"
	if runErr != nil {
		rec.Outcome = "failed"
		rec.Error = runErr.Error()
	}
	rec.Windows, rec.Pages, rec.Transactions = int64(t.Windows), int64(t.Pages), int64(t.Records)
	rec.Requests, rec.Retries, rec.Throttled = stats.Requests, stats.Retries, stats.Throttled
	rec.BytesLoaded, rec.UnknownFields, rec.InvalidTransactions, rec.Quarantined = t.Bytes, int64(t.Unknown), int64(t.Invalid), int64(t.Quarantined)
	rec.RowsPerTable = t.Rows
	// The run's end is recorded even when the run was cancelled.
	recCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := j.Sink.RecordRun(recCtx, rec); err != nil {
		j.Log.WithError(err).Warn("recording the run's end")
	}
	detector, _ := j.Source.(ChangeDetector)
	changesOnly := detector != nil && detector.DetectsChanges()
	if j.Out != nil {
		printSummary(j.Out, rec, t, stats, j.Source.Records(), len(todo), skipped, changesOnly)
	}
	j.Log.WithFields(logrus.Fields{
		"outcome": rec.Outcome, "windows": t.Windows, "skipped": skipped, "pages": t.Pages,
		"transactions": t.Records, "requests": stats.Requests, "retries": stats.Retries, "throttled": stats.Throttled,
		"unknown_fields": t.Unknown, "invalid": t.Invalid, "quarantined": t.Quarantined, "duration_s": rec.EndedAt.Sub(started).Seconds(),
	}).WithFields(rateFields(stats.Rate)).WithFields(changeFields(changesOnly, t)).Info("run ended")
	return t, runErr
}

// Pending drops the windows already covered by committed checkpoints (unless force) and returns
// how many it dropped. The checkpoints are one source's.
func Pending(windows []extract.Window, cps []load.Checkpoint, force bool) ([]extract.Window, int) {
	if force {
		return windows, 0
	}
	var todo []extract.Window
	for _, w := range windows {
		if load.Covered(cps, string(w.Stream), w.Account, w.Start, w.End) {
			continue
		}
		todo = append(todo, w)
	}
	return todo, len(windows) - len(todo)
}

// ShardWindows keeps the shard's share of the planned windows: every Count-th window from Index,
// so shards get interleaved, equally busy parts of the range. It must see the whole plan (before
// committed windows are dropped), so that a window belongs to the same shard in every run.
func ShardWindows(windows []extract.Window, s config.Shard) []extract.Window {
	if s.Count <= 1 {
		return windows
	}
	var out []extract.Window
	for i, w := range windows {
		if i%s.Count == s.Index {
			out = append(out, w)
		}
	}
	return out
}

// changeFields are the run-ended log line's figures of a ChangeDetector source: the records read
// that changed (a version appended), those that did not, and those read again in the run.
func changeFields(changesOnly bool, t Tally) logrus.Fields {
	if !changesOnly {
		return nil
	}
	return logrus.Fields{"changed": t.Records - t.Unchanged - t.Reread, "unchanged": t.Unchanged, "reread": t.Reread}
}

func printSummary(w io.Writer, r load.Run, t Tally, s extract.Stats, records string, planned, skipped int, changesOnly bool) {
	fmt.Fprintf(w, "\nrun %s  %s %s  %s in %s\n", r.RunID, r.Source, r.Verb, r.Outcome, r.EndedAt.Sub(r.StartedAt).Round(time.Millisecond))
	if r.Error != "" {
		fmt.Fprintf(w, "  error          %s\n", r.Error)
	}
	fmt.Fprintf(w, "  windows        %d committed of %d, %d skipped (already committed)\n", t.Windows, planned, skipped)
	fmt.Fprintf(w, "  batches        %d (%s of Parquet)\n", t.Batches, HumanBytes(t.Bytes))
	fmt.Fprintf(w, "  pages          %d\n", t.Pages)
	fmt.Fprintf(w, "  requests       %d (%d retries, %d answered 429, %d 5xx, %d truncated or invalid; %s backing off)\n",
		s.Requests, s.Retries, s.Throttled, s.ServerErrors, s.InvalidBodies, s.BackoffTotal.Round(time.Millisecond))
	if line := rateLine(s.Rate); line != "" {
		fmt.Fprintf(w, "  rate           %s\n", line)
	}
	if rss := PeakRSS(); rss > 0 {
		fmt.Fprintf(w, "  peak RSS       %s\n", HumanBytes(rss))
	}
	fmt.Fprintf(w, "  %-14s %d (%d duplicates dropped, %d unknown fields, %d not fully decoded)\n", records, t.Records, t.Duplicates, t.Unknown, t.Invalid)
	if changesOnly {
		fmt.Fprintf(w, "  changed        %d of the %d read (a new version appended); %d unchanged since their current version", t.Records-t.Unchanged-t.Reread, t.Records, t.Unchanged)
		if t.Reread > 0 {
			fmt.Fprintf(w, "; %d read again in this run", t.Reread)
		}
		fmt.Fprintln(w)
	}
	if t.Quarantined > 0 {
		fmt.Fprintf(w, "  quarantined    %d items without a readable id (table %s)\n", t.Quarantined, schemas.QuarantineTable)
	}
	if len(t.Rows) > 0 {
		names := make([]string, 0, len(t.Rows))
		for n := range t.Rows {
			names = append(names, n)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = fmt.Sprintf("%s %d", n, t.Rows[n])
		}
		fmt.Fprintf(w, "  rows           %s\n", strings.Join(parts, ", "))
	}
}

// HumanBytes writes a byte count for people: 1.5 MiB.
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// rateFields are the run-ended log line's figures of an adaptive rate limiter: the rate it ended
// at, how many times it cut and restored the rate, and the share of 429s it found whatever the
// rate.
func rateFields(r extract.RateStats) logrus.Fields {
	if !r.Adaptive {
		return nil
	}
	return logrus.Fields{
		"rate": math.Round(r.Limit*100) / 100, "rate_ceiling": r.Ceiling, "rate_cuts": r.Cuts,
		"rate_restores": r.Restores, "rate_baseline_429": math.Round(r.Baseline*10000) / 10000,
	}
}

// rateLine is the summary's line on an adaptive rate limiter ("" when it never cut the rate).
func rateLine(r extract.RateStats) string {
	if !r.Adaptive || r.Cuts == 0 {
		return ""
	}
	return fmt.Sprintf("%s requests/s at the end, of --rate %s (cut %d times on 429, back up %d times; %.1f%% of answers 429 whatever the rate)",
		decimals2(r.Limit), decimals2(r.Ceiling), r.Cuts, r.Restores, 100*r.Baseline)
}

// decimals2 writes x with two decimals at most: 19.6, 1000.
func decimals2(x float64) string {
	return strconv.FormatFloat(math.Round(x*100)/100, 'f', -1, 64)
}
