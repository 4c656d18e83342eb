package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchangetest"
	"github.com/ccsync/ccsync/load"
)

func TestShardWindowsPartitionThePlan(t *testing.T) {
	t.Parallel()
	windows, err := extract.PlanDateWindows(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 3, 7, 400} {
		seen := map[extract.Window]int{}
		for i := 0; i < n; i++ {
			part := shardWindows(windows, config.Shard{Index: i, Count: n})
			if n > 1 && len(part) > len(windows)/n+1 {
				t.Errorf("shard %d/%d has %d windows: unbalanced", i, n, len(part))
			}
			for _, w := range part {
				seen[w]++
			}
		}
		if len(seen) != len(windows) {
			t.Errorf("%d shards cover %d of %d windows", n, len(seen), len(windows))
		}
		for w, k := range seen {
			if k != 1 {
				t.Errorf("%d shards: %s in %d shards", n, w, k)
			}
		}
	}
}

func TestShardFromCloudRunEnvironment(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tests := []struct {
		flag    config.Shard
		env     map[string]string
		want    config.Shard
		wantErr bool
	}{
		{config.Shard{}, nil, config.Shard{}, false},
		{config.Shard{}, map[string]string{"CLOUD_RUN_TASK_INDEX": "2", "CLOUD_RUN_TASK_COUNT": "5"}, config.Shard{Index: 2, Count: 5}, false},
		{config.Shard{Index: 1, Count: 3}, map[string]string{"CLOUD_RUN_TASK_INDEX": "2", "CLOUD_RUN_TASK_COUNT": "5"}, config.Shard{Index: 1, Count: 3}, false},
		{config.Shard{}, map[string]string{"CLOUD_RUN_TASK_INDEX": "5", "CLOUD_RUN_TASK_COUNT": "5"}, config.Shard{}, true},
		{config.Shard{}, map[string]string{"CLOUD_RUN_TASK_INDEX": "x", "CLOUD_RUN_TASK_COUNT": "5"}, config.Shard{}, true},
	}
	for _, tt := range tests {
		got, err := shardFromEnv(tt.flag, env(tt.env))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("shardFromEnv(%v, %v) = %v, %v", tt.flag, tt.env, got, err)
		}
	}
}

// Shards commit independently, and together they cover the range exactly once: every window is
// committed by exactly one shard, and the views hold the ground truth.
func TestShardsTogetherCoverTheRangeExactlyOnce(t *testing.T) {
	t.Parallel()
	srv, url := sandbox(t, crowdchangetest.Options{Seed: 12, Transactions: 1200, From: yearFrom, To: yearTo, Now: sandboxNow})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	const n = 3
	for i := 0; i < n; i++ {
		c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey, "CLOUD_RUN_TASK_INDEX": fmt.Sprint(i), "CLOUD_RUN_TASK_COUNT": fmt.Sprint(n)}}
		r := c.run(t, "--api-url", url, "--rate", "2000", "--duckdb", db, "--log-level", "warn", "backfill", "--from", "2025-01-01", "--to", "2025-12-31")
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
	if rows != 365 || distinct != 365 || runs != n {
		t.Errorf("checkpoints: %d rows, %d distinct windows, %d runs; want 365, 365, %d", rows, distinct, runs, n)
	}
	if v := versionCount(t, db); v != 1200 {
		t.Errorf("%d transaction versions, want 1200: no window was loaded twice", v)
	}
	assertState(t, "three shards", viewState(t, db), truthState(t, srv.Truth(yearFrom, yearTo)))
}
