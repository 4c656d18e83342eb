package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// terminalProgress is the live progress line of backfill and sync on a terminal: windows done of
// total, transactions, requests per second, ETA, and a note while backing off. The run loop calls
// it as its Progress (Begin, WindowDone, BatchCommitted, Finish), the API client as its observer
// (BackingOff), the logger as its output (Write). Log lines written
// through it clear the bar first and redraw it after, so the two never mix.
//
// The line always fits the terminal, so that each redraw ("\r", clear to the end of the line, the
// line) overwrites the last one instead of wrapping and scrolling: the width is measured at every
// redraw (a resized window is followed at the next one) and the line is compacted to one column
// less than it, the least important parts shortened or dropped first. Every glyph it draws is one
// cell wide, so it counts cells as runes.
type terminalProgress struct {
	mu        sync.Mutex
	w         io.Writer
	now       func() time.Time
	width     func() int // the terminal's columns now; 0 or less (or nil): unknown
	requests  func() int64
	start     time.Time
	total     int
	done      int
	tx        int
	batches   int
	note      string // while backing off: what and why, in full
	noteShort string // the same in a few words, for a narrow terminal
	noteTill  time.Time
	drawn     bool
}

// defaultColumns is the width assumed when the terminal's cannot be measured.
const defaultColumns = 80

// newTerminalProgress draws on w, a terminal whose width in columns width measures (nil or 0:
// unknown, taken as 80).
func newTerminalProgress(w io.Writer, now func() time.Time, width func() int) *terminalProgress {
	return &terminalProgress{w: w, now: now, width: width, start: now(), requests: func() int64 { return 0 }}
}

// terminalWidth measures, at each call, the columns of the terminal f is (0 when it is none), so
// that the bar follows a resized window.
func terminalWidth(f *os.File) func() int {
	fd := int(f.Fd())
	return func() int {
		cols, _, err := term.GetSize(fd)
		if err != nil {
			return 0
		}
		return cols
	}
}

// Begin starts counting a run of total windows; requests counts the API requests made so far.
func (p *terminalProgress) Begin(total int, requests func() int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.start = total, p.now()
	if requests != nil {
		p.requests = requests
	}
	p.draw()
}

// WindowDone counts one window extracted, with its transactions.
func (p *terminalProgress) WindowDone(transactions int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.tx += transactions
	p.draw()
}

// BatchCommitted counts one batch committed to the warehouse.
func (p *terminalProgress) BatchCommitted(windows, transactions int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.batches++
	p.draw()
}

// BackingOff is the API client's observer: it shows the wait on the bar until it is over.
func (p *terminalProgress) BackingOff(attempt, status int, wait time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	what, short := "a network error", "network error"
	switch {
	case status == 429:
		what, short = "429 Too Many Requests", "429"
	case status >= 500:
		what = fmt.Sprintf("%d", status)
		short = what
	case status >= 200 && status < 300:
		what, short = "a truncated answer", "truncated"
	}
	wait = wait.Round(100 * time.Millisecond)
	p.note = fmt.Sprintf("backing off %s after %s (attempt %d)", wait, what, attempt)
	p.noteShort = fmt.Sprintf("backing off %s (%s)", wait, short)
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

// Finish leaves the last state of the bar on its own line.
func (p *terminalProgress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
	p.total = 0
}

// draw redraws the bar in place; the caller holds p.mu.
func (p *terminalProgress) draw() {
	if p.total == 0 {
		return
	}
	fmt.Fprint(p.w, "\r\033[K"+p.line(p.columns()-1))
	p.drawn = true
}

func (p *terminalProgress) columns() int {
	if p.width != nil {
		if cols := p.width(); cols > 0 {
			return cols
		}
	}
	return defaultColumns
}

// The parts of the line, in the order they are shown.
const (
	partBar = iota
	partWindows
	partTransactions
	partBatches
	partRate
	partETA
	partNote
	numParts
)

// compaction is the order in which the line gives way on a narrow terminal: each step takes one
// part to its next shorter form (the last form of every part but the windows is ""). What says
// whether the run moves (windows done, the backoff, the ETA) goes last.
var compaction = []int{partNote, partBatches, partBar, partRate, partTransactions, partBar, partTransactions, partWindows, partETA, partNote}

// line is the bar's text in at most maxCells cells.
func (p *terminalProgress) line(maxCells int) string {
	if maxCells <= 0 {
		return ""
	}
	now := p.now()
	elapsed := now.Sub(p.start)
	var forms [numParts][]string
	forms[partBar] = []string{gauge(24, p.done, p.total), gauge(10, p.done, p.total), ""}
	forms[partWindows] = []string{fmt.Sprintf("%d/%d windows", p.done, p.total), fmt.Sprintf("%d/%d", p.done, p.total)}
	forms[partTransactions] = []string{fmt.Sprintf("%d transactions", p.tx), fmt.Sprintf("%d tx", p.tx), ""}
	forms[partBatches] = []string{fmt.Sprintf("%d batches", p.batches), ""}
	if secs := elapsed.Seconds(); secs >= 1 {
		forms[partRate] = []string{fmt.Sprintf("%.1f req/s", float64(p.requests())/secs), ""}
	}
	if p.done > 0 && p.done < p.total {
		eta := time.Duration(float64(elapsed) / float64(p.done) * float64(p.total-p.done))
		forms[partETA] = []string{"ETA " + eta.Round(time.Second).String(), ""}
	}
	if p.note != "" && now.Before(p.noteTill) {
		forms[partNote] = []string{p.note, p.noteShort, ""}
	}

	var chosen [numParts]int
	form := func(part int) string {
		if chosen[part] >= len(forms[part]) {
			return ""
		}
		return forms[part][chosen[part]]
	}
	render := func() string {
		var b strings.Builder
		for part := range numParts {
			text := form(part)
			if text == "" {
				continue
			}
			switch {
			case b.Len() == 0:
			case part == partWindows && form(partBar) != "":
				b.WriteString(" ") // the gauge and its count go together
			default:
				b.WriteString(" · ")
			}
			b.WriteString(text)
		}
		return b.String()
	}
	s := render()
	for _, part := range compaction {
		if utf8.RuneCountInString(s) <= maxCells {
			return s
		}
		if chosen[part] < len(forms[part])-1 {
			chosen[part]++
			s = render()
		}
	}
	if utf8.RuneCountInString(s) <= maxCells {
		return s
	}
	return string([]rune(s)[:maxCells]) // narrower than the windows count alone
}

// gauge is "[####......]" of the given inner width, filled done/total.
func gauge(width, done, total int) string {
	filled := width * done / total
	return "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "]"
}
