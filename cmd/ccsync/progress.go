package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ccsync/ccsync/extract"
)

// newProgress returns the progress display of a run of n windows: the live bar on a terminal, nil
// when nobody watches (the logs then say everything: one line per committed batch).
func (inv *invocation) newProgress(n int, requests func() int64) progress {
	if inv.bar == nil {
		return nil
	}
	inv.bar.begin(n, requests)
	return inv.bar
}

// terminalProgress is the live progress line of backfill and sync on a terminal: windows done of
// total, transactions, requests per second, ETA, and a note while backing off. Log lines written
// through it clear the bar first and redraw it after, so the two never mix.
type terminalProgress struct {
	mu       sync.Mutex
	w        io.Writer
	now      func() time.Time
	requests func() int64
	start    time.Time
	total    int
	done     int
	tx       int
	batches  int
	note     string
	noteTill time.Time
	drawn    bool
}

func newTerminalProgress(w io.Writer, now func() time.Time) *terminalProgress {
	return &terminalProgress{w: w, now: now, start: now(), requests: func() int64 { return 0 }}
}

// begin starts counting a run of total windows.
func (p *terminalProgress) begin(total int, requests func() int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.start = total, p.now()
	if requests != nil {
		p.requests = requests
	}
	p.draw()
}

func (p *terminalProgress) windowDone(_ extract.Window, transactions int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.tx += transactions
	p.draw()
}

func (p *terminalProgress) batchCommitted(windows, transactions int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.batches++
	p.draw()
}

// backingOff is the API client's observer: it shows the wait on the bar.
func (p *terminalProgress) backingOff(attempt, status int, wait time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	what := "a network error"
	switch {
	case status == 429:
		what = "429 Too Many Requests"
	case status >= 500:
		what = fmt.Sprintf("%d", status)
	case status >= 200 && status < 300:
		what = "a truncated answer"
	}
	p.note = fmt.Sprintf("backing off %s after %s (attempt %d)", wait.Round(100*time.Millisecond), what, attempt)
	p.noteTill = p.now().Add(wait + time.Second)
	p.draw()
}

// Write lets the logger write through the bar.
func (p *terminalProgress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
	n, err := p.w.Write(b)
	if p.total > 0 {
		p.draw()
	}
	return n, err
}

// finish leaves the last state of the bar on its own line.
func (p *terminalProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
	p.total = 0
}

func (p *terminalProgress) draw() {
	if p.total == 0 {
		return
	}
	now := p.now()
	elapsed := now.Sub(p.start)
	const width = 24
	filled := width * p.done / p.total
	var b strings.Builder
	fmt.Fprintf(&b, "\r\033[K[%s%s] %d/%d windows · %d transactions · %d batches", strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.done, p.total, p.tx, p.batches)
	if secs := elapsed.Seconds(); secs >= 1 {
		fmt.Fprintf(&b, " · %.1f req/s", float64(p.requests())/secs)
	}
	if p.done > 0 && p.done < p.total {
		eta := time.Duration(float64(elapsed) / float64(p.done) * float64(p.total-p.done))
		fmt.Fprintf(&b, " · ETA %s", eta.Round(time.Second))
	}
	if p.note != "" && now.Before(p.noteTill) {
		b.WriteString(" · " + p.note)
	}
	fmt.Fprint(p.w, b.String())
	p.drawn = true
}
