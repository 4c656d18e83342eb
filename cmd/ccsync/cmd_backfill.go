package main

import (
	"context"

	"github.com/ccsync/ccsync/load/pipeline"
)

// cmdBackfill loads a closed range of days (pipeline.Backfill): committed windows are skipped,
// so a failed or killed backfill resumes where it stopped; --force re-extracts everything,
// appending new versions.
func cmdBackfill(ctx context.Context, inv *invocation) error {
	if err := inv.cfg.Run.ValidateRange(); err != nil {
		return usagef(err)
	}
	job, err := inv.job(ctx)
	if err != nil {
		return err
	}
	_, err = pipeline.Backfill(ctx, job)
	return err
}
