package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/schemas"
)

// runOptions is one extraction run: its windows and how to load them.
type runOptions struct {
	verb    string
	args    string           // the command line, secrets removed, for the run log
	windows []extract.Window // to extract (see pending)
	skipped int              // windows left out because already committed
	shard   config.Shard
	run     config.Run
	runID   string
	rangeLo time.Time
	rangeHi time.Time
}

// runDeps is what a run talks to.
type runDeps struct {
	fetcher  Fetcher
	stats    func() extract.Stats
	sink     Sink
	log      *logrus.Entry
	now      func() time.Time
	mem      memory.Allocator
	out      io.Writer // the summary
	progress progress
}

// runWindows extracts and loads the windows, recording the run in the run log, and prints the
// summary.
func runWindows(ctx context.Context, o runOptions, d runDeps) (tally, error) {
	started := d.now()
	todo, skipped := o.windows, o.skipped
	log := d.log.WithFields(logrus.Fields{"windows": len(todo), "skipped": skipped})
	if o.shard.Count > 1 {
		log = log.WithField("shard", o.shard.String())
	}
	log.Info("run started")

	run := load.Run{RunID: o.runID, Verb: o.verb, Args: o.args, RangeStart: o.rangeLo, RangeEnd: o.rangeHi, StartedAt: started, Outcome: "running", WindowsSkipped: int64(skipped)}
	if err := d.sink.RecordRun(ctx, run); err != nil {
		return tally{}, fmt.Errorf("recording the run's start: %w", err)
	}

	p := &pipeline{
		log: d.log, fetcher: d.fetcher, sink: d.sink, mem: d.mem, runID: o.runID,
		tempDir: o.run.TempDir, concurrency: o.run.Concurrency, policy: o.run.Batch, now: d.now, progress: d.progress,
	}
	t, runErr := p.run(ctx, todo)
	if d.progress != nil {
		d.progress.finish()
	}

	stats := d.stats()
	run.EndedAt = d.now()
	run.Outcome = "done"
	if runErr != nil {
		run.Outcome = "failed"
		run.Error = runErr.Error()
	}
	run.Windows, run.Pages, run.Transactions = int64(t.Windows), int64(t.Pages), int64(t.Transactions)
	run.Requests, run.Retries, run.Throttled = stats.Requests, stats.Retries, stats.Throttled
	run.BytesLoaded, run.UnknownFields, run.InvalidTransactions, run.Quarantined = t.Bytes, int64(t.Unknown), int64(t.Invalid), int64(t.Quarantined)
	run.RowsPerTable = t.Rows
	// The run's end is recorded even when the run was cancelled.
	recCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := d.sink.RecordRun(recCtx, run); err != nil {
		d.log.WithError(err).Warn("recording the run's end")
	}
	printSummary(d.out, run, t, stats, len(todo), skipped)
	d.log.WithFields(logrus.Fields{
		"outcome": run.Outcome, "windows": t.Windows, "skipped": skipped, "pages": t.Pages,
		"transactions": t.Transactions, "retries": stats.Retries, "throttled": stats.Throttled,
		"unknown_fields": t.Unknown, "invalid": t.Invalid, "quarantined": t.Quarantined, "duration_s": run.EndedAt.Sub(started).Seconds(),
	}).Info("run ended")
	return t, runErr
}

// pending drops the windows already covered by committed checkpoints (unless force) and returns
// how many it dropped.
func pending(windows []extract.Window, cps []load.Checkpoint, force bool) ([]extract.Window, int) {
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

// shardWindows keeps the shard's share of the planned windows: every Count-th window from Index,
// so shards get interleaved, equally busy parts of the range. It must see the whole plan (before
// committed windows are dropped), so that a window belongs to the same shard in every run.
func shardWindows(windows []extract.Window, s config.Shard) []extract.Window {
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

func printSummary(w io.Writer, r load.Run, t tally, s extract.Stats, planned, skipped int) {
	fmt.Fprintf(w, "\nrun %s  %s  %s in %s\n", r.RunID, r.Verb, r.Outcome, r.EndedAt.Sub(r.StartedAt).Round(time.Millisecond))
	if r.Error != "" {
		fmt.Fprintf(w, "  error          %s\n", r.Error)
	}
	fmt.Fprintf(w, "  windows        %d committed of %d, %d skipped (already committed)\n", t.Windows, planned, skipped)
	fmt.Fprintf(w, "  batches        %d (%s of Parquet)\n", t.Batches, humanBytes(t.Bytes))
	fmt.Fprintf(w, "  pages          %d\n", t.Pages)
	fmt.Fprintf(w, "  requests       %d (%d retries, %d answered 429, %d 5xx, %d truncated or invalid; %s backing off)\n",
		s.Requests, s.Retries, s.Throttled, s.ServerErrors, s.InvalidBodies, s.BackoffTotal.Round(time.Millisecond))
	if rss := peakRSS(); rss > 0 {
		fmt.Fprintf(w, "  peak RSS       %s\n", humanBytes(rss))
	}
	fmt.Fprintf(w, "  transactions   %d (%d duplicates dropped, %d unknown fields, %d not fully decoded)\n", t.Transactions, t.Duplicates, t.Unknown, t.Invalid)
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

func humanBytes(n int64) string {
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

// redactedArgs is the command line for the run log: flags and values, never a secret (the key is
// never a flag; a file path is fine).
func redactedArgs(verb string, args []string) string {
	b, _ := json.Marshal(append([]string{verb}, args...))
	return string(b)
}
