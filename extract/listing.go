package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"runtime/debug"
	"time"
)

// DefaultMaxPages bounds the pages of one window: an API that never returns a short page must not
// keep a run going forever.
const DefaultMaxPages = 100_000

// Stats are a client's counters since it was made.
type Stats struct {
	// Requests are the HTTP requests sent (every attempt).
	Requests int64
	// Retries are the attempts after a failed one.
	Retries int64
	// Throttled are the 429 answers.
	Throttled int64
	// ServerErrors are the 5xx answers.
	ServerErrors int64
	// InvalidBodies are the 2xx answers whose body was truncated or not a valid page.
	InvalidBodies int64
	// Pages are the 2xx answers (pages, and the one of Check) received.
	Pages int64
	// BackoffTotal is the time spent waiting between attempts.
	BackoffTotal time.Duration
	// Rate is what the rate limiter did, when it adapts (AdaptiveLimiter).
	Rate RateStats
}

// RateStats are an AdaptiveLimiter's figures.
type RateStats struct {
	// Adaptive says the client's limiter adapts; the other fields are zero when it does not.
	Adaptive bool
	// Ceiling is the configured rate and Limit the rate at the time of the figures, in requests
	// per second.
	Ceiling, Limit float64
	// Cuts are the times 429s lowered the rate; Restores the times the 429s turned out not to
	// depend on the rate and it went back up.
	Cuts, Restores int
	// Baseline is the share of 429s found at rates the API accepted: those that do not depend on
	// the rate.
	Baseline float64
}

// Quarantined is an item of a page that cannot be kept as a transaction version: it has no
// readable numeric id, so it can be neither deduplicated nor versioned. It is kept whole, with
// where it was found and why, so that nothing is lost and its window can still be committed.
type Quarantined struct {
	// Raw is the item exactly as the API sent it.
	Raw json.RawMessage
	// Page (from 1) and Position (from 0) locate the item in the window's answers.
	Page, Position int
	// Reason says what is wrong with the item; it names no value.
	Reason string
}

// Paging says when a window has no more pages.
type Paging int

const (
	// PagingShortPage ends a window on a page shorter than the limit once the API's count agrees
	// that every row was read, and confirms a short page that looks like a capped one with one
	// more request. It is the extraction's mode: nearly no request more than the rows need.
	PagingShortPage Paging = iota
	// PagingUntilEmpty reads until an empty page, whatever the pages' lengths and the count say:
	// one more request per window, and blind to no cap. verify reads this way, with another page
	// size, so that a paging bug of the extraction shows up as a difference.
	PagingUntilEmpty
)

// ErrPagingBroken is a window whose pages cannot be trusted to end: the API answered the same
// page again (it ignores the page parameter), or kept sending pages without a new transaction.
// It is permanent: retrying the window would read the same pages.
var ErrPagingBroken = errors.New("the API's paging is broken")

// SamePage reports whether two pages hold the same items, byte for byte: an API that ignores the
// paging parameter repeats a page. Pages that differ usually differ in their first item's first
// bytes, so this costs next to nothing.
func SamePage(a, b []json.RawMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func defaultBaseTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32 // windows are fetched concurrently from one host
	return t
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
