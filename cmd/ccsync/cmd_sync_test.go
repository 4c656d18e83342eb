package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/load/pipeline"
)

// A transaction that changes after it was loaded (pending → completed, refunded, paid out, tax
// receipt issued) is current in the views after the next sync.
func TestSyncCatchesLateChanges(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	first := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	srv, url := sandbox(t, crowdchangetest.Options{Seed: 5, Transactions: 800, From: first, To: clock.Now(), Now: clock.Now,
		Faults: crowdchangetest.Faults{Rate: 0.05, RetryAfter: "0", SlowDelay: time.Millisecond}})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}, now: clock.Now}
	args := []string{"--api-url", url, "--rate", "2000", "--burst", "100", "--backoff-base", "1ms", "--duckdb", db, "--log-level", "warn", "sync"}

	r := c.run(t, append(args, "--start", "2026-03-04")...)
	if r.code != 0 {
		t.Fatalf("first sync exited %d: %s", r.code, r.stderr)
	}
	syncEnd := clock.Now().Add(-15 * time.Minute)
	assertState(t, "first sync", viewState(t, db), truthState(t, srv.Truth(first, syncEnd)))

	changed := srv.Mutate(0.04, 99)
	if len(changed) < 25 {
		t.Fatalf("Mutate changed only %d transactions", len(changed))
	}
	stale := viewState(t, db)
	clock.Advance(2 * time.Hour)
	syncEnd = clock.Now().Add(-15 * time.Minute)
	want := truthState(t, srv.Truth(first, syncEnd))
	if stale.String() == want.String() {
		t.Fatal("the changes do not change the ground truth: the test would prove nothing")
	}

	// The second sync needs no --start: it goes on from the watermark, re-reading the lookback.
	r = c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("second sync exited %d: %s", r.code, r.stderr)
	}
	assertState(t, "second sync", viewState(t, db), want)

	// status: fresh, so exit 0; JSON shows both streams.
	r = c.run(t, "--duckdb", db, "--log-level", "warn", "status", "--format", "json")
	if r.code != 0 {
		t.Fatalf("status exited %d: %s", r.code, r.stderr)
	}
	var rep pipeline.StatusReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, r.stdout)
	}
	streams := map[string]bool{}
	for _, s := range rep.Streams {
		streams[s.Stream+"/"+s.Account] = true
	}
	if !streams["date/"] || !streams["payout/global"] || !streams["payout/user"] || len(rep.Runs) != 2 || rep.Runs[0].Verb != "sync" {
		t.Errorf("status: streams %v, %d runs", streams, len(rep.Runs))
	}
}

func TestSyncOnAnEmptyWarehouseNeedsStart(t *testing.T) {
	t.Parallel()
	_, url := sandbox(t, crowdchangetest.Options{Seed: 1, Transactions: 10})
	r := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}}.run(t,
		"--api-url", url, "--duckdb", filepath.Join(t.TempDir(), "w.duckdb"), "sync")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--start") {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
}

// A payout backfill over a month of payout dates holds exactly the transactions paid out on those
// dates, to both accounts.
func TestPayoutBackfillMatchesGroundTruth(t *testing.T) {
	t.Parallel()
	srv, url := sandbox(t, crowdchangetest.Options{Seed: 8, Transactions: 4000, From: yearFrom, To: yearTo, Now: sandboxNow,
		Faults: crowdchangetest.Faults{Rate: 0.05, RetryAfter: "0", SlowDelay: time.Millisecond}})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	r := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}}.run(t,
		"--api-url", url, "--rate", "2000", "--burst", "100", "--backoff-base", "1ms", "--duckdb", db, "--log-level", "warn",
		"backfill", "--by", "payout", "--from", "2025-06-01", "--to", "2025-06-30")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	from, to := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	want := truthState(t, srv.TruthByPayout(from, to, []string{"global", "user"}))
	if want.Count < 100 {
		t.Fatalf("only %d transactions paid out in the month", want.Count)
	}
	assertState(t, "payout backfill", viewState(t, db), want)
	if n := checkpointCount(t, db); n != 60 {
		t.Errorf("%d checkpoints, want 60 (30 days × 2 accounts)", n)
	}
}

// status exits 4 when the date watermark lags more than --max-lag, 0 otherwise.
func TestStatusExitCodes(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	_, url := sandbox(t, crowdchangetest.Options{Seed: 2, Transactions: 200, From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: clock.Now(), Now: clock.Now})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}, now: clock.Now}

	if r := c.run(t, "--duckdb", db, "--log-level", "warn", "status"); r.code != exitUsage || !strings.Contains(r.stderr, "no DuckDB warehouse at "+db) {
		t.Fatalf("missing warehouse: exit %d, want %d\n%s", r.code, exitUsage, r.stderr)
	}
	if _, err := os.Stat(db); err == nil {
		t.Fatal("status created the warehouse")
	}
	created, err := load.OpenDuckDB(context.Background(), config.DuckDB{Path: db}, nil) // empty: tables, no commit
	if err != nil {
		t.Fatal(err)
	}
	created.Close()
	if r := c.run(t, "--duckdb", db, "--log-level", "warn", "status"); r.code != exitLagging || !strings.Contains(r.stdout, "nothing committed") {
		t.Fatalf("empty warehouse: exit %d, want %d\n%s", r.code, exitLagging, r.stdout)
	}
	if r := c.run(t, "--api-url", url, "--rate", "2000", "--duckdb", db, "--log-level", "warn", "sync", "--start", "2026-03-01"); r.code != 0 {
		t.Fatalf("sync exited %d: %s", r.code, r.stderr)
	}
	tests := []struct {
		after  time.Duration
		maxLag string
		want   int
	}{
		{0, "36h", exitOK},
		{30 * time.Hour, "36h", exitOK},
		{40 * time.Hour, "36h", exitLagging},
		{40 * time.Hour, "2d", exitOK},
	}
	for _, tt := range tests {
		later := &fakeClock{now: clock.Now().Add(tt.after)}
		r := cli{now: later.Now}.run(t, "--duckdb", db, "--log-level", "warn", "status", "--max-lag", tt.maxLag)
		if r.code != tt.want {
			t.Errorf("%v later, --max-lag %s: exit %d, want %d\n%s%s", tt.after, tt.maxLag, r.code, tt.want, r.stdout, r.stderr)
		}
	}
}
