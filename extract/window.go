package extract

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Stream names one of the two ways ccsync walks the API: by transaction date or by payout date.
type Stream string

// The streams.
const (
	// StreamDate walks transactions by their date, in [Start, End) windows.
	StreamDate Stream = "date"
	// StreamPayout walks transactions by payout date and account, one day per window.
	StreamPayout Stream = "payout"
)

// day is the length of a payout window. UTC has no daylight saving time: every day is 24h.
const day = 24 * time.Hour

// MaxPlannedWindows bounds what PlanDateWindows and PlanPayoutWindows return, so that a typo in a
// range or a window size fails at once instead of filling memory.
const MaxPlannedWindows = 1_000_000

// Window is one unit of extraction and of commit. For the date stream it is [Start, End) (the API
// gets dt_start=Start, dt_end=End-1s, inclusive); for the payout stream Start is the payout date
// (00:00 UTC), End = Start+24h, Account is global|user.
type Window struct {
	Stream  Stream
	Account string
	Start   time.Time
	End     time.Time
}

// String names the window in logs (the `window` field) and errors, such as
// "date 2024-01-01T00:00:00Z..2024-01-02T00:00:00Z" or "payout user 2024-01-01".
func (w Window) String() string {
	switch w.Stream {
	case StreamPayout:
		return fmt.Sprintf("payout %s %s", w.Account, w.Start.UTC().Format(DateLayout))
	case StreamDate:
		return fmt.Sprintf("date %s..%s", w.Start.UTC().Format(time.RFC3339), w.End.UTC().Format(time.RFC3339))
	default:
		return fmt.Sprintf("%q %s %s..%s", string(w.Stream), w.Account, w.Start.UTC().Format(time.RFC3339), w.End.UTC().Format(time.RFC3339))
	}
}

// Validate checks that the window is one the API can be asked for: a date window of whole seconds
// with Start < End, or a payout window of one UTC day for a known account.
func (w Window) Validate() error {
	switch w.Stream {
	case StreamDate:
		if w.Start.IsZero() || w.End.IsZero() {
			return errors.New("date window: start and end must be set")
		}
		if !w.End.After(w.Start) {
			return errors.New("date window: end must be after start")
		}
		if !wholeSecond(w.Start) || !wholeSecond(w.End) {
			return errors.New("date window: start and end must be whole seconds (the API's resolution)")
		}
		if w.Account != "" {
			return errors.New("date window: account must be empty")
		}
	case StreamPayout:
		if err := checkAccount(w.Account); err != nil {
			return fmt.Errorf("payout window: %w", err)
		}
		if !w.Start.Equal(utcDay(w.Start)) {
			return errors.New("payout window: start must be 00:00 UTC")
		}
		if !w.End.Equal(w.Start.Add(day)) {
			return errors.New("payout window: end must be start + 24h")
		}
	default:
		return fmt.Errorf("window: unknown stream %q (want %q or %q)", string(w.Stream), StreamDate, StreamPayout)
	}
	return nil
}

// Query returns the query of the window's request for a page (from 1) of limit transactions, sorted
// by id, ascending.
func (w Window) Query(page, limit int) url.Values {
	q := url.Values{}
	switch w.Stream {
	case StreamPayout:
		q.Set(ParamPayoutAccount, w.Account)
		q.Set(ParamPayoutDate, w.Start.UTC().Format(DateLayout))
	default:
		q.Set(ParamDTStart, w.Start.UTC().Format(QueryTimeLayout))
		q.Set(ParamDTEnd, w.End.Add(-time.Second).UTC().Format(QueryTimeLayout))
	}
	q.Set(ParamPage, strconv.Itoa(page))
	q.Set(ParamLimit, strconv.Itoa(limit))
	q.Set(ParamSort, SortID)
	q.Set(ParamDirection, DirectionAsc)
	return q
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

// PlanPayoutWindows returns one payout window per payout date in [from, to] (both inclusive, as
// UTC dates: the time of day is ignored) and per account, by date then in the order of accounts.
// Accounts must be AccountGlobal or AccountUser, at least one, without repeats.
func PlanPayoutWindows(from, to time.Time, accounts []string) ([]Window, error) {
	first, last := utcDay(from), utcDay(to)
	if last.Before(first) {
		return nil, fmt.Errorf("planning payout windows: the last date %s is before the first %s", last.Format(DateLayout), first.Format(DateLayout))
	}
	if len(accounts) == 0 {
		return nil, errors.New("planning payout windows: no payout account")
	}
	seen := make(map[string]bool, len(accounts))
	for _, a := range accounts {
		if err := checkAccount(a); err != nil {
			return nil, fmt.Errorf("planning payout windows: %w", err)
		}
		if seen[a] {
			return nil, fmt.Errorf("planning payout windows: account %q given twice", a)
		}
		seen[a] = true
	}
	days := int64(last.Sub(first)/day) + 1
	if days*int64(len(accounts)) > MaxPlannedWindows {
		return nil, fmt.Errorf("planning payout windows: %d days for %d accounts is more than %d windows", days, len(accounts), MaxPlannedWindows)
	}
	ws := make([]Window, 0, days*int64(len(accounts)))
	for d := first; !d.After(last); d = d.Add(day) {
		for _, a := range accounts {
			ws = append(ws, Window{Stream: StreamPayout, Account: a, Start: d, End: d.Add(day)})
		}
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

// utcDay is 00:00 UTC of t's UTC date.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func wholeSecond(t time.Time) bool { return t.Nanosecond() == 0 }

func checkAccount(a string) error {
	if a != AccountGlobal && a != AccountUser {
		return fmt.Errorf("payout account %q is not %q or %q", a, AccountGlobal, AccountUser)
	}
	return nil
}
