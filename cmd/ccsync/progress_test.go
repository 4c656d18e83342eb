package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchangetest"
)

func TestProgressBar(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var out bytes.Buffer
	p := newTerminalProgress(&out, clock.Now)
	requests := int64(0)
	p.begin(4, func() int64 { return requests })
	for i := 0; i < 2; i++ {
		clock.Advance(10 * time.Second)
		requests += 5
		p.windowDone(extract.Window{}, 100)
	}
	line := lastLine(out.String())
	for _, want := range []string{"[############............] 2/4 windows", "200 transactions", "0.5 req/s", "ETA 20s"} {
		if !strings.Contains(line, want) {
			t.Errorf("bar %q lacks %q", line, want)
		}
	}

	p.backingOff(2, 429, 3*time.Second)
	if line := lastLine(out.String()); !strings.Contains(line, "backing off 3s after 429 Too Many Requests (attempt 2)") {
		t.Errorf("no backoff note: %q", line)
	}
	clock.Advance(5 * time.Second)
	p.batchCommitted(2, 200)
	if line := lastLine(out.String()); strings.Contains(line, "backing off") || !strings.Contains(line, "1 batches") {
		t.Errorf("after the wait: %q", line)
	}

	// A log line clears the bar, then the bar comes back under it.
	out.Reset()
	p.drawn = true
	_, _ = p.Write([]byte("time=... level=warning msg=hello\n"))
	if got := out.String(); !strings.HasPrefix(got, "\r\033[Kt") || !strings.Contains(got, "hello\n\r\033[K[") {
		t.Errorf("log through the bar: %q", got)
	}
	p.finish()
	if !strings.HasSuffix(out.String(), "\n") {
		t.Error("finish does not end the line")
	}
}

func lastLine(s string) string {
	i := strings.LastIndex(s, "\r\033[K")
	if i < 0 {
		return s
	}
	return s[i:]
}

// Off a terminal there is no bar: one JSON log line per committed batch, in Cloud Logging's shape.
func TestJSONLogLinePerCommittedBatch(t *testing.T) {
	t.Parallel()
	_, url := sandbox(t, crowdchangetest.Options{Seed: 6, Transactions: 300, From: yearFrom, To: yearTo, Now: sandboxNow})
	r := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}}.run(t,
		"--api-url", url, "--rate", "2000", "--duckdb", filepath.Join(t.TempDir(), "w.duckdb"),
		"backfill", "--from", "2025-01-01", "--to", "2025-01-30", "--batch-windows", "10")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	batches := 0
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON log line: %q", line)
		}
		if m["severity"] == nil || m["message"] == nil || m["run_id"] == nil {
			t.Errorf("log line without severity, message or run_id: %q", line)
		}
		if m["message"] == "committed batch" {
			batches++
			if m["severity"] != "INFO" || m["windows"] != float64(10) || m["transactions"] == nil {
				t.Errorf("batch line: %q", line)
			}
		}
		if strings.Contains(line, "\r") || strings.Contains(line, "ETA") {
			t.Errorf("a progress bar off a terminal: %q", line)
		}
	}
	if batches != 3 {
		t.Errorf("%d committed-batch lines, want 3", batches)
	}
}
