package extract

import (
	"errors"
	"fmt"
	"time"
)

// Stream names one way a source walks its API, such as CrowdChange's "date" and "payout" or
// Donately's "created" and "updated". Its checkpoints and watermarks are kept per stream.
type Stream string

// StreamDate is the stream of [Start, End) windows over the records' date that PlanDateWindows
// plans; a source may rename its windows' stream.
const StreamDate Stream = "date"

// Day is the length of a calendar-day window. UTC has no daylight saving time: every day is 24h.
const Day = 24 * time.Hour

// MaxPlannedWindows bounds what a plan returns (PlanDateWindows, and the sources' own planners),
// so that a typo in a range or a window size fails at once instead of filling memory.
const MaxPlannedWindows = 1_000_000

// Window is one unit of extraction and of commit: the records of a stream (and, for a stream kept
// per account, of one account) in [Start, End). What a source asks its API for a window is the
// source's (for CrowdChange's date stream, dt_start=Start and dt_end=End-1s, inclusive; for its
// payout stream, the payout date Start of the account).
type Window struct {
	Stream  Stream
	Account string
	Start   time.Time
	End     time.Time
}

// String names the window in logs (the `window` field) and errors, such as
// "date 2024-01-01T00:00:00Z..2024-01-02T00:00:00Z" or "payout user 2024-01-01".
func (w Window) String() string {
	switch {
	case w.Account != "" && w.Start.Equal(UTCDay(w.Start)) && w.End.Equal(w.Start.Add(Day)):
		return fmt.Sprintf("%s %s %s", w.Stream, w.Account, w.Start.UTC().Format(DateLayout))
	case w.Account != "":
		return fmt.Sprintf("%s %s %s..%s", w.Stream, w.Account, w.Start.UTC().Format(time.RFC3339), w.End.UTC().Format(time.RFC3339))
	default:
		return fmt.Sprintf("%s %s..%s", w.Stream, w.Start.UTC().Format(time.RFC3339), w.End.UTC().Format(time.RFC3339))
	}
}

// PlanDateWindows cuts [from, to) into date windows of size, aligned to from; the last one is
// truncated at to. from and to must be whole seconds (the API's resolution); they are used in UTC.
// It fails when to <= from, when size is less than a second or not a whole number of seconds, or
// when the plan would exceed MaxPlannedWindows.
func PlanDateWindows(from, to time.Time, size time.Duration) ([]Window, error) {
	from, to = from.UTC(), to.UTC()
	switch {
	case !to.After(from):
		return nil, fmt.Errorf("planning date windows: the end %s is not after the start %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	case !wholeSecond(from) || !wholeSecond(to):
		return nil, errors.New("planning date windows: start and end must be whole seconds (truncate them to the second)")
	case size < time.Second || size%time.Second != 0:
		return nil, fmt.Errorf("planning date windows: the window size %v must be a whole number of seconds, at least 1s", size)
	}
	span := to.Sub(from) // saturates at ~292 years: far above MaxPlannedWindows anyway
	n := span / size
	if span%size != 0 {
		n++
	}
	if n > MaxPlannedWindows {
		return nil, fmt.Errorf("planning date windows: %v in windows of %v is more than %d windows", span, size, MaxPlannedWindows)
	}
	ws := make([]Window, 0, n)
	for start := from; start.Before(to); start = start.Add(size) {
		end := start.Add(size)
		if end.After(to) {
			end = to
		}
		ws = append(ws, Window{Stream: StreamDate, Start: start, End: end})
	}
	return ws, nil
}

// ParseDay parses a calendar date "YYYY-MM-DD" as 00:00 UTC of that day.
func ParseDay(s string) (time.Time, error) {
	t, err := time.ParseInLocation(DateLayout, s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return t, nil
}

// UTCDay is 00:00 UTC of t's UTC date.
func UTCDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func wholeSecond(t time.Time) bool { return t.Nanosecond() == 0 }
