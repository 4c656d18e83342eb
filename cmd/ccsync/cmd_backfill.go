package main

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/ccsync/ccsync/extract"
)

// cmdBackfill loads a closed range of days, by transaction date or by payout date. Committed
// windows are skipped, so a failed or killed backfill resumes where it stopped; --force re-extracts
// everything, appending new versions.
func cmdBackfill(ctx context.Context, inv *invocation) error {
	cfg := inv.cfg
	if err := cfg.Run.ValidateRange(); err != nil {
		return usagef(err)
	}
	from, to := cfg.Run.From, cfg.Run.RangeEnd()
	var windows []extract.Window
	var err error
	if cfg.Run.By == "payout" {
		windows, err = extract.PlanPayoutWindows(from, cfg.Run.To, cfg.Run.PayoutAccounts())
	} else {
		windows, err = extract.PlanDateWindows(from, to, cfg.Run.Window)
	}
	if err != nil {
		return usagef(err)
	}
	shard, err := shardFromEnv(cfg.Run.Shard, inv.env.src.Getenv)
	if err != nil {
		return usagef(err)
	}

	client, sink, err := inv.connect(ctx)
	if err != nil {
		return err
	}

	cps, err := sink.Checkpoints(ctx)
	if err != nil {
		return fmt.Errorf("reading checkpoints: %w", err)
	}
	todo, skipped := pending(shardWindows(windows, shard), cps, cfg.Run.Force)
	_, err = runWindows(ctx, runOptions{
		verb: "backfill", args: redactedArgs("backfill", inv.argv), windows: todo, skipped: skipped,
		shard: shard, run: cfg.Run, runID: inv.runID, rangeLo: from, rangeHi: to,
	}, runDeps{
		fetcher: client, stats: client.Stats, sink: sink, log: inv.log, now: inv.env.now,
		mem: memory.DefaultAllocator, out: inv.env.stdout, progress: inv.newProgress(len(todo), func() int64 { return client.Stats().Requests }),
	})
	return err
}
