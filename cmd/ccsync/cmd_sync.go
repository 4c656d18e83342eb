package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/load"
)

// cmdSync is the nightly run: the date stream from its watermark minus --lookback up to now minus
// --lag (re-reading the lookback, since transactions change after they are made), then the payout
// stream for every payout date from its own watermark to yesterday, for each payout account. All
// windows run concurrently under one rate limiter.
func cmdSync(ctx context.Context, inv *invocation) error {
	cfg := inv.cfg
	client, sink, err := inv.connect(ctx)
	if err != nil {
		return err
	}
	cps, err := sink.Checkpoints(ctx)
	if err != nil {
		return fmt.Errorf("reading checkpoints: %w", err)
	}
	plan, err := planSync(cps, cfg.Run, inv.env.now())
	if err != nil {
		return err
	}
	inv.log.WithFields(logrus.Fields{
		"date_from": plan.dateFrom.Format(time.RFC3339), "date_to": plan.dateTo.Format(time.RFC3339),
		"payout_windows": plan.payoutWindows, "payout_skipped": plan.skipped,
	}).Info("sync planned")
	_, err = runWindows(ctx, runOptions{
		verb: "sync", args: redactedArgs("sync", inv.argv), windows: plan.windows, skipped: plan.skipped,
		run: cfg.Run, runID: inv.runID, rangeLo: plan.dateFrom, rangeHi: plan.dateTo,
	}, runDeps{
		fetcher: client, stats: client.Stats, sink: sink, log: inv.log, now: inv.env.now,
		mem: memory.DefaultAllocator, out: inv.env.stdout, progress: inv.newProgress(len(plan.windows), func() int64 { return client.Stats().Requests }),
	})
	return err
}

// syncPlan is what one sync extracts.
type syncPlan struct {
	windows          []extract.Window
	dateFrom, dateTo time.Time
	payoutWindows    int
	skipped          int
}

// planSync plans a sync from the committed checkpoints: the date stream's windows are always
// extracted (the lookback is re-read on purpose), the payout stream's committed dates are skipped
// (a payout date is complete from the next day on).
func planSync(cps []load.Checkpoint, r config.Run, now time.Time) (syncPlan, error) {
	now = now.UTC()
	end := now.Add(-r.Lag).Truncate(time.Second)
	wm, ok := load.Watermark(cps, string(extract.StreamDate), "")
	var start time.Time
	switch {
	case ok:
		start = wm.Add(-r.Lookback)
	case r.Start.IsZero():
		return syncPlan{}, usagef(errors.New("start: the warehouse has nothing committed yet: give --start YYYY-MM-DD, the first day to sync"))
	default:
		start = r.Start
	}
	if !r.Start.IsZero() && start.Before(r.Start) {
		start = r.Start // never before what the user asked to start at
	}
	// Align to the window grid (midnight UTC for daily windows) so that re-read windows are the
	// same windows as before.
	start = start.Truncate(r.Window)
	var p syncPlan
	p.dateFrom, p.dateTo = start, end
	if start.Before(end) {
		dw, err := extract.PlanDateWindows(start, end, r.Window)
		if err != nil {
			return syncPlan{}, usagef(fmt.Errorf("planning the date stream: %w", err))
		}
		p.windows = dw
	}

	yesterday := now.Truncate(24*time.Hour).AddDate(0, 0, -1)
	for _, acct := range r.PayoutAccounts() {
		from := r.Start
		if pw, ok := load.Watermark(cps, string(extract.StreamPayout), acct); ok {
			from = pw
		} else if from.IsZero() {
			from = start.Truncate(24 * time.Hour)
		}
		if from.After(yesterday) {
			continue
		}
		pws, err := extract.PlanPayoutWindows(from, yesterday, []string{acct})
		if err != nil {
			return syncPlan{}, usagef(fmt.Errorf("planning the payout stream (%s): %w", acct, err))
		}
		todo, skipped := pending(pws, cps, false)
		p.windows = append(p.windows, todo...)
		p.payoutWindows += len(todo)
		p.skipped += skipped
	}
	return p, nil
}
