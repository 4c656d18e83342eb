package main

import (
	"context"

	"github.com/ccsync/ccsync/load/pipeline"
)

// cmdSync is the nightly run (pipeline.Sync): for CrowdChange, the date stream from its watermark
// minus --lookback up to now minus --lag, then the payout stream for every payout date from its
// own watermark to yesterday, for each payout account; all windows run concurrently under one
// rate limiter.
func cmdSync(ctx context.Context, inv *invocation) error {
	job, err := inv.job(ctx)
	if err != nil {
		return err
	}
	_, err = pipeline.Sync(ctx, job)
	return err
}
