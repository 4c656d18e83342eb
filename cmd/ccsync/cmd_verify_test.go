package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
)

// verify exits 0 when the warehouse equals the API and 5, listing every difference, when it does
// not: transactions changed since they were loaded, and days never loaded.
func TestVerifyExitCodes(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	srv, url := sandbox(t, crowdchangetest.Options{Seed: 4, Transactions: 400, From: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Now: clock.Now,
		Faults: crowdchangetest.Faults{Rate: 0.05, RetryAfter: "0", SlowDelay: time.Millisecond}})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}, now: clock.Now}
	base := []string{"--api-url", url, "--rate", "2000", "--burst", "100", "--backoff-base", "1ms", "--duckdb", db, "--log-level", "warn"}
	run := func(args ...string) result { return c.run(t, append(append([]string(nil), base...), args...)...) }

	if r := run("backfill", "--from", "2026-02-01", "--to", "2026-02-20"); r.code != 0 {
		t.Fatalf("backfill exited %d: %s", r.code, r.stderr)
	}
	r := run("verify", "--from", "2026-02-01", "--to", "2026-02-20")
	if r.code != exitOK || !strings.Contains(r.stdout, "the warehouse equals the API") {
		t.Fatalf("verify after backfill: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Days never loaded: their transactions are missing.
	r = run("verify", "--from", "2026-02-15", "--to", "2026-02-25")
	if r.code != exitDiffers || !strings.Contains(r.stdout, "in the API, missing from the warehouse") {
		t.Fatalf("verify over unloaded days: exit %d\n%s", r.code, r.stdout)
	}

	// Changes after loading: listed, exit 5; a forced backfill makes them equal again.
	changed := srv.Mutate(0.05, 1)
	r = run("verify", "--from", "2026-02-01", "--to", "2026-02-20")
	if r.code != exitDiffers || !strings.Contains(r.stdout, "changed since loaded") {
		t.Fatalf("verify after changes: exit %d\n%s", r.code, r.stdout)
	}
	listed := 0
	for _, id := range changed {
		if strings.Contains(r.stdout, " "+itoa(id)) {
			listed++
		}
	}
	if listed == 0 {
		t.Errorf("none of the %d changed ids is listed:\n%s", len(changed), r.stdout)
	}
	clock.Advance(time.Hour) // versions are ordered by extraction time
	if r := run("backfill", "--from", "2026-02-01", "--to", "2026-02-20", "--force"); r.code != 0 {
		t.Fatalf("forced backfill exited %d: %s", r.code, r.stderr)
	}
	if r := run("verify", "--from", "2026-02-01", "--to", "2026-02-20"); r.code != exitOK {
		t.Fatalf("verify after the forced backfill: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
