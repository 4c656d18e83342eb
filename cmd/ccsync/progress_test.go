package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
)

func newBarClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func columns(n int) func() int { return func() int { return n } }

func TestProgressBar(t *testing.T) {
	t.Parallel()
	clock := newBarClock()
	var out bytes.Buffer
	p := newTerminalProgress(&out, clock.Now, columns(200)) // wide enough for every part in full
	requests := int64(0)
	p.Begin(4, func() int64 { return requests })
	for i := 0; i < 2; i++ {
		clock.Advance(10 * time.Second)
		requests += 5
		p.WindowDone(100)
	}
	line := lastLine(out.String())
	for _, want := range []string{"[############............] 2/4 windows", "200 transactions", "0.5 req/s", "ETA 20s"} {
		if !strings.Contains(line, want) {
			t.Errorf("bar %q lacks %q", line, want)
		}
	}

	p.BackingOff(2, 429, 3*time.Second)
	if line := lastLine(out.String()); !strings.Contains(line, "backing off 3s after 429 Too Many Requests (attempt 2)") {
		t.Errorf("no backoff note: %q", line)
	}
	clock.Advance(5 * time.Second)
	p.BatchCommitted(2, 200)
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
	p.Finish()
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

// On a narrow terminal the line gives way part by part, the least important first: the backoff
// note's details, the batches, the gauge, the request rate, the transactions, then the word
// "windows", the ETA and the backoff note; the windows count stays to the end.
func TestProgressLineGivesWayLeastImportantFirst(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cols    int
		backoff bool
		want    string
	}{
		{cols: 200, backoff: true, want: "[##############..........] 1234/2000 windows · 98765 transactions · 3 batches · 4.1 req/s · ETA 3m38s · backing off 1.5s after 503 (attempt 3)"},
		{cols: 120, want: "[##############..........] 1234/2000 windows · 98765 transactions · 3 batches · 4.1 req/s · ETA 3m38s"},
		{cols: 120, backoff: true, want: "[##############..........] 1234/2000 windows · 98765 transactions · 4.1 req/s · ETA 3m38s · backing off 1.5s (503)"},
		{cols: 80, want: "[######....] 1234/2000 windows · 98765 transactions · 4.1 req/s · ETA 3m38s"},
		{cols: 80, backoff: true, want: "[######....] 1234/2000 windows · 98765 tx · ETA 3m38s · backing off 1.5s (503)"},
		{cols: 60, want: "[######....] 1234/2000 windows · 98765 tx · ETA 3m38s"},
		{cols: 40, want: "1234/2000 windows · ETA 3m38s"},
		{cols: 40, backoff: true, want: "1234/2000 · backing off 1.5s (503)"},
		{cols: 20, want: "1234/2000"},
		{cols: 20, backoff: true, want: "1234/2000"},
		{cols: 6, want: "1234/"},
		{cols: 1, want: ""},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%d columns", tt.cols)
		if tt.backoff {
			name += " backing off"
		}
		t.Run(name, func(t *testing.T) {
			clock := newBarClock()
			var out bytes.Buffer
			p := newTerminalProgress(&out, clock.Now, columns(tt.cols))
			p.Begin(2000, func() int64 { return 1440 })
			clock.Advance(351 * time.Second)
			p.done, p.tx, p.batches = 1233, 98700, 2
			p.WindowDone(65)
			p.BatchCommitted(400, 30000)
			if tt.backoff {
				p.BackingOff(3, 503, 1500*time.Millisecond)
			}
			out.Reset()
			p.draw()
			got := strings.TrimPrefix(out.String(), "\r\033[K")
			if got != tt.want {
				t.Errorf("%d columns:\n got %q\nwant %q", tt.cols, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > tt.cols-1 && tt.cols > 1 {
				t.Errorf("%d cells in %d columns", n, tt.cols)
			}
		})
	}
}

// ptyTerminal is a pseudo-terminal of the given width: the bar writes on tty, the test reads what
// a terminal emulator would get from master.
func ptyTerminal(t *testing.T, cols int) (master, tty *os.File) {
	t.Helper()
	master, tty, err := pty.Open()
	if errors.Is(err, pty.ErrUnsupported) {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err != nil {
		t.Fatalf("opening a pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { _ = tty.Close(); _ = master.Close() })
	resize(t, tty, cols)
	return master, tty
}

func resize(t *testing.T, tty *os.File, cols int) {
	t.Helper()
	if err := pty.Setsize(tty, &pty.Winsize{Rows: 24, Cols: uint16(cols)}); err != nil {
		t.Fatalf("setting the pseudo-terminal's size: %v", err)
	}
}

// endOfOutput is written on the tty after the bar: the reader stops at it.
const endOfOutput = "<end of test output>"

// readTerminal collects what master gets until endOfOutput.
func readTerminal(master io.Reader) <-chan string {
	got := make(chan string, 1)
	go func() {
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			b.Write(buf[:n])
			if strings.Contains(b.String(), endOfOutput) || err != nil {
				got <- strings.TrimSuffix(b.String(), endOfOutput)
				return
			}
		}
	}()
	return got
}

func waitTerminal(t *testing.T, got <-chan string) string {
	t.Helper()
	select {
	case s := <-got:
		return s
	case <-time.After(30 * time.Second): // a guard against a hang, not a synchronisation
		t.Fatal("the pseudo-terminal's output never ended")
		return ""
	}
}

var escapeSequence = regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]")

// screenLines splits what a terminal got into the lines it drew: at every carriage return (a
// redraw starts over) and newline, escape sequences (colours, clear to the end) left out.
func screenLines(out string) []string {
	var lines []string
	for _, l := range regexp.MustCompile("[\r\n]").Split(escapeSequence.ReplaceAllString(out, ""), -1) {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// The bar fits terminals of 120, 80 and 20 columns, and one resized while it runs: no line it
// draws is wider than the terminal less one column, and each redraw goes back with a carriage
// return instead of a new line, so only log lines and the last state of the bar scroll.
func TestProgressBarFitsThePseudoTerminal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		cols        int
		resizeTo    int // after half the windows; 0: no resize
		wantInFinal []string
	}{
		{"120 columns", 120, 0, []string{"] 365/365 windows", "transactions", "req/s"}},
		{"80 columns", 80, 0, []string{"365/365 windows", "transactions"}},
		{"20 columns", 20, 0, []string{"365/365"}},
		{"resized from 120 to 40 columns", 120, 40, []string{"365/365 windows"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			master, tty := ptyTerminal(t, tt.cols)
			got := readTerminal(master)

			clock := newBarClock()
			bar := newTerminalProgress(tty, clock.Now, terminalWidth(tty))
			logger, err := newLogger(config.Log{Format: "text", Level: "info"}, tty, true)
			if err != nil {
				t.Fatal(err)
			}
			logger.SetOutput(bar)
			requests := int64(0)
			bar.Begin(365, func() int64 { return requests })
			logLines := 0
			for i := 1; i <= 365; i++ {
				clock.Advance(1500 * time.Millisecond)
				requests += 3
				bar.WindowDone(55)
				if i%60 == 0 {
					bar.BatchCommitted(60, 3300)
					logger.WithField("windows", 60).Info("committed batch")
					logLines++
				}
				if i == 100 {
					bar.BackingOff(2, 429, 30*time.Second)
				}
				if i == 182 && tt.resizeTo != 0 {
					resize(t, tty, tt.resizeTo)
				}
			}
			bar.Finish()
			if _, err := tty.WriteString(endOfOutput); err != nil {
				t.Fatal(err)
			}
			out := waitTerminal(t, got)

			// Redraws go back with "\r": the only newlines end log lines and the finished bar.
			if n := strings.Count(out, "\n"); n != logLines+1 {
				t.Errorf("%d newlines for %d log lines and the finished bar: redraws scroll", n, logLines)
			}
			if n := strings.Count(out, "\r\033[K"); n < 365 {
				t.Errorf("%d redraws for 365 windows", n)
			}
			final := ""
			for i, line := range screenLines(out) {
				if strings.Contains(line, "committed batch") {
					continue // a log line: it may wrap, it scrolls anyway
				}
				limit := tt.cols - 1
				if tt.resizeTo != 0 && strings.Contains(line, "/365") && windowsDone(line) > 182 {
					limit = tt.resizeTo - 1
				}
				if n := utf8.RuneCountInString(line); n > limit {
					t.Errorf("line %d is %d cells wide in a terminal of %d columns: %q", i, n, limit+1, line)
				}
				final = line
			}
			for _, want := range tt.wantInFinal {
				if !strings.Contains(final, want) {
					t.Errorf("the finished bar %q lacks %q", final, want)
				}
			}
		})
	}
}

var windowsCount = regexp.MustCompile(`(\d+)/365`)

func windowsDone(line string) int {
	m := windowsCount.FindStringSubmatch(line)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// A backfill on an 80-column terminal: the bar that execute sets up measures the terminal it
// draws on.
func TestProgressBarOfABackfillFitsAn80ColumnTerminal(t *testing.T) {
	t.Parallel()
	master, tty := ptyTerminal(t, 80)
	got := readTerminal(master)
	var stdout bytes.Buffer
	code := execute(context.Background(), []string{
		"--sandbox", "--sandbox-seed", "4", "--sandbox-transactions", "100", "--sandbox-from", "2025-01-01", "--sandbox-to", "2025-01-10",
		"--duckdb", filepath.Join(t.TempDir(), "w.duckdb"), "--log-format", "text",
		"backfill", "--from", "2025-01-01", "--to", "2025-01-10", "--temp-dir", t.TempDir(),
	}, env{stdout: &stdout, stderr: tty, src: config.Source{
		Getenv:   func(string) (string, bool) { return "", false },
		ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist },
	}, now: time.Now, terminal: true, width: terminalWidth(tty)})
	if _, err := tty.WriteString(endOfOutput); err != nil {
		t.Fatal(err)
	}
	out := waitTerminal(t, got)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	bars := 0
	for _, line := range screenLines(out) {
		if !strings.Contains(line, "/10 windows") {
			continue // a log line
		}
		bars++
		if n := utf8.RuneCountInString(line); n > 79 {
			t.Errorf("a bar of %d cells on an 80-column terminal: %q", n, line)
		}
	}
	if bars < 10 {
		t.Errorf("%d bars drawn for 10 windows:\n%q", bars, out)
	}
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
