package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
)

// A base URL where no API answers (404) is a configuration error: exit 2 at the key check, with a
// hint about --api-url and --region, and nothing committed.
func TestAPINotFoundExits2WithAHint(t *testing.T) {
	t.Parallel()
	srv, url := sandbox(t, crowdchangetest.Options{Seed: 1, Transactions: 10, From: yearFrom, To: yearTo, Now: sandboxNow})
	db := filepath.Join(t.TempDir(), "w.duckdb")
	c := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}}
	r := c.run(t, "--api-url", url+"/api", "--duckdb", db, "--log-format", "text", "backfill", "--from", "2025-01-01", "--to", "2025-01-31")
	if r.code != exitUsage {
		t.Fatalf("exit code %d, want %d\nstderr: %s", r.code, exitUsage, r.stderr)
	}
	if !strings.Contains(r.stderr, "404 Not Found") || !strings.Contains(r.stderr, "--api-url") || !strings.Contains(r.stderr, "--region") {
		t.Errorf("stderr has no hint:\n%s", r.stderr)
	}
	if got := srv.Stats().Requests; got != 1 {
		t.Errorf("the API got %d requests, want 1 (a 404 is not retried)", got)
	}
}
