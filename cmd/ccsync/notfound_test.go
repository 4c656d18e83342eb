package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdchangetest"
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

// Durations in JSON logs are seconds under a name ending in _s, never nanoseconds.
func TestLogDurationsInSeconds(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := newLogger(config.Log{Level: "info", Format: format}, &buf, false)
			if err != nil {
				t.Fatal(err)
			}
			l.WithField("wait", 10*time.Minute).WithField("pages", 3).Info("retrying")
			out := buf.String()
			if strings.Contains(out, "600000000000") || !strings.Contains(out, "wait_s") || !strings.Contains(out, "600") {
				t.Fatalf("log line %q", out)
			}
			if format == "json" {
				var m map[string]any
				if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
					t.Fatal(err)
				}
				if m["wait_s"] != 600.0 || m["pages"] != 3.0 || m["wait"] != nil {
					t.Errorf("fields %v", m)
				}
			}
		})
	}
}
