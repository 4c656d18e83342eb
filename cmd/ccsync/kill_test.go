package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
)

// killSwitch counts the API requests of the current process and fires when the n-th arrives.
type killSwitch struct {
	next  http.Handler
	mu    sync.Mutex
	count int
	at    int
	fire  chan struct{}
}

func (k *killSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	k.count++
	if k.count == k.at {
		k.fire <- struct{}{}
	}
	k.mu.Unlock()
	k.next.ServeHTTP(w, r)
}

func (k *killSwitch) arm(at int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.count, k.at = 0, at
}

// starter returns a function that starts ccsync (this test binary as the program) with args and
// env added to the environment, and the channel its exit arrives on.
func starter(t *testing.T, args []string, env ...string) func() (*exec.Cmd, chan error) {
	return func() (*exec.Cmd, chan error) {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(append(os.Environ(), "CCSYNC_TEST_MAIN=1"), env...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		return cmd, done
	}
}

// killRuns starts a run per kill point and kills it with SIGKILL when the API gets its n-th
// request (a run that ends first, having nothing left to do, is fine); after calls after each run.
// It returns how many runs were killed.
func killRuns(t *testing.T, ks *killSwitch, start func() (*exec.Cmd, chan error), points []int, after func()) int {
	t.Helper()
	kills := 0
	for _, at := range points {
		ks.arm(at)
		cmd, done := start()
		select {
		case <-ks.fire:
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			err := <-done
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("run %d: want death by SIGKILL, got %v", kills+1, err)
			}
			kills++
		case err := <-done:
			if err != nil {
				t.Fatalf("run ended on its own with %v", err)
			}
		}
		if after != nil {
			after()
		}
	}
	return kills
}

// A backfill killed with SIGKILL at many points (while fetching, transforming, writing Parquet or
// committing) and run again each time ends exactly at the ground truth: no gap, no duplicate.
func TestKilledBackfillResumesToGroundTruth(t *testing.T) {
	t.Parallel()
	// Half a year is enough: five runs, killed at their n-th request, never get to its end.
	halfTo := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	srv := crowdchangetest.New(crowdchangetest.Options{Seed: 11, Transactions: 300, From: yearFrom, To: halfTo, Now: sandboxNow})
	ks := &killSwitch{next: srv, fire: make(chan struct{}, 1)}
	hs := httptest.NewServer(ks)
	t.Cleanup(hs.Close)
	db := filepath.Join(t.TempDir(), "w.duckdb")
	// A killed run leaves its open batch's files behind; keep them in the test's directory.
	tmp := t.TempDir()
	args := []string{"--api-url", hs.URL, "--rate", "2000", "--burst", "100", "--duckdb", db, "--log-format", "json", "--log-level", "warn",
		"backfill", "--from", "2025-01-01", "--to", "2025-06-30", "--batch-windows", "14", "--concurrency", "3", "--temp-dir", tmp}

	start := starter(t, args, config.APIKeyEnv+"="+crowdchangetest.DefaultAPIKey)

	// Kill points: the n-th API request of each run (each run skips what the previous committed).
	var progress []int
	kills := killRuns(t, ks, start, []int{4, 23, 41, 9, 57}, func() { progress = append(progress, checkpointCount(t, db)) })
	if kills < 5 {
		t.Fatalf("only %d runs were killed; the test wants at least 5", kills)
	}
	t.Logf("%d kills; committed windows after each run: %v", kills, progress)
	if progress[len(progress)-1] == 0 {
		t.Fatalf("no run committed anything before being killed: the kill points are too early")
	}

	ks.arm(-1)
	_, done := start()
	if err := <-done; err != nil {
		t.Fatalf("the final run failed: %v", err)
	}
	assertState(t, "after kills", viewState(t, db), truthState(t, srv.Truth(yearFrom, halfTo)))
	if n := versionCount(t, db); n != 300 {
		// Windows are committed whole, so no transaction was loaded twice.
		t.Errorf("transactions holds %d versions, want exactly 300", n)
	}
}
