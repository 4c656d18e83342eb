package crowdchange

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/ccsync/ccsync/extract"
)

// CrowdChange's streams: StreamDate walks transactions by their date, in [Start, End) windows
// (extract.PlanDateWindows); StreamPayout walks them by payout date and account, one day per
// window (PlanPayoutWindows).
const (
	StreamDate                  = extract.StreamDate
	StreamPayout extract.Stream = "payout"
)

// ValidateWindow checks that w is a window the API can be asked for: a date window of whole seconds
// with Start < End, or a payout window of one UTC day for a known account.
func ValidateWindow(w extract.Window) error {
	switch w.Stream {
	case StreamDate:
		if w.Start.IsZero() || w.End.IsZero() {
			return errors.New("date window: start and end must be set")
		}
		if !w.End.After(w.Start) {
			return errors.New("date window: end must be after start")
		}
		if w.Start.Nanosecond() != 0 || w.End.Nanosecond() != 0 {
			return errors.New("date window: start and end must be whole seconds (the API's resolution)")
		}
		if w.Account != "" {
			return errors.New("date window: account must be empty")
		}
	case StreamPayout:
		if err := checkAccount(w.Account); err != nil {
			return fmt.Errorf("payout window: %w", err)
		}
		if !w.Start.Equal(extract.UTCDay(w.Start)) {
			return errors.New("payout window: start must be 00:00 UTC")
		}
		if !w.End.Equal(w.Start.Add(extract.Day)) {
			return errors.New("payout window: end must be start + 24h")
		}
	default:
		return fmt.Errorf("window: unknown stream %q (want %q or %q)", string(w.Stream), StreamDate, StreamPayout)
	}
	return nil
}

// WindowQuery returns the query of the window's request for a page (from 1) of limit transactions, sorted
// by id, ascending.
func WindowQuery(w extract.Window, page, limit int) url.Values {
	q := url.Values{}
	switch w.Stream {
	case StreamPayout:
		q.Set(ParamPayoutAccount, w.Account)
		q.Set(ParamPayoutDate, w.Start.UTC().Format(extract.DateLayout))
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

// PlanPayoutWindows returns one payout window per payout date in [from, to] (both inclusive, as
// UTC dates: the time of day is ignored) and per account, by date then in the order of accounts.
// Accounts must be AccountGlobal or AccountUser, at least one, without repeats.
func PlanPayoutWindows(from, to time.Time, accounts []string) ([]extract.Window, error) {
	first, last := extract.UTCDay(from), extract.UTCDay(to)
	if last.Before(first) {
		return nil, fmt.Errorf("planning payout windows: the last date %s is before the first %s", last.Format(extract.DateLayout), first.Format(extract.DateLayout))
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
	days := int64(last.Sub(first)/extract.Day) + 1
	if days*int64(len(accounts)) > extract.MaxPlannedWindows {
		return nil, fmt.Errorf("planning payout windows: %d days for %d accounts is more than %d windows", days, len(accounts), extract.MaxPlannedWindows)
	}
	ws := make([]extract.Window, 0, days*int64(len(accounts)))
	for d := first; !d.After(last); d = d.Add(extract.Day) {
		for _, a := range accounts {
			ws = append(ws, extract.Window{Stream: StreamPayout, Account: a, Start: d, End: d.Add(extract.Day)})
		}
	}
	return ws, nil
}

func checkAccount(a string) error {
	if a != AccountGlobal && a != AccountUser {
		return fmt.Errorf("payout account %q is not %q or %q", a, AccountGlobal, AccountUser)
	}
	return nil
}
