package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/load"
)

// Shards commit independently, and together they cover the range exactly once: every window is
// committed by exactly one shard, and the views hold the ground truth.
func TestShardsTogetherCoverTheRangeExactlyOnce(t *testing.T) {
	t.Parallel()
	quarterTo := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC) // 90 windows: the point needs no year
	srv, url := sandbox(t, crowdchangetest.Options{Seed: 12, Transactions: 400, From: yearFrom, To: quarterTo, Now: sandboxNow})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	const n = 3
	for i := 0; i < n; i++ {
		c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey, "CLOUD_RUN_TASK_INDEX": fmt.Sprint(i), "CLOUD_RUN_TASK_COUNT": fmt.Sprint(n)}}
		r := c.run(t, "--api-url", url, "--rate", "2000", "--duckdb", db, "--log-level", "warn", "backfill", "--from", "2025-01-01", "--to", "2025-03-31")
		if r.code != 0 {
			t.Fatalf("shard %d exited %d: %s", i, r.code, r.stderr)
		}
	}
	d, err := load.OpenDuckDB(context.Background(), config.DuckDB{Path: db}, logrus.NewEntry(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	var rows, distinct, runs int
	err = d.DB().QueryRow(`SELECT count(*), count(DISTINCT (window_start, window_end)), count(DISTINCT run_id) FROM ccsync_checkpoints`).Scan(&rows, &distinct, &runs)
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	if rows != 90 || distinct != 90 || runs != n {
		t.Errorf("checkpoints: %d rows, %d distinct windows, %d runs; want 90, 90, %d", rows, distinct, runs, n)
	}
	if v := versionCount(t, db); v != 400 {
		t.Errorf("%d transaction versions, want 400: no window was loaded twice", v)
	}
	assertState(t, "three shards", viewState(t, db), truthState(t, srv.Truth(yearFrom, quarterTo)))
}
