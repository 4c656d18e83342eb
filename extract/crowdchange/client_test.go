package crowdchange_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/extracttest"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"
)

// Paging ends on the first page shorter than the limit once the count agrees (or when no usable
// count says otherwise); a count that says more exist is followed to an empty page.
func TestFetchWindowPaging(t *testing.T) {
	tests := []struct {
		name      string
		n         int64 // transactions in the window
		count     int64 // what the API claims (-1: the truth)
		wantPages int
	}{
		{"short last page, count lies high: one more request", 7, 1000, 4},
		{"short last page, count lies zero", 7, 0, 3},
		{"exact multiple ends on an empty page", 6, -1, 3},
		{"empty window", 0, 5, 1},
		{"one short page", 2, -1, 1},
		{"one full page, then empty", 3, -1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, paged(txs(seq(1, tt.n)...), tt.count), nil)
			res, err := h.client.FetchWindow(context.Background(), day1)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fmtIDs(ids(res.Transactions)), fmtIDs(seq(1, tt.n)); got != want {
				t.Errorf("ids %s, want %s", got, want)
			}
			if res.Pages != tt.wantPages || res.Requests != tt.wantPages || res.Duplicates != 0 || res.Window != day1 {
				t.Errorf("pages %d, requests %d, duplicates %d; want %d pages and requests", res.Pages, res.Requests, res.Duplicates, tt.wantPages)
			}
			reqs := h.api.Requests()
			if len(reqs) != tt.wantPages {
				t.Fatalf("the API saw %d requests, want %d", len(reqs), tt.wantPages)
			}
			for i, r := range reqs {
				want := crowdchange.WindowQuery(day1, i+1, 3)
				if r.Path != crowdchange.TransactionsPath || r.Query.Encode() != want.Encode() {
					t.Errorf("request %d: %s?%s, want %s?%s", i+1, r.Path, r.Query.Encode(), crowdchange.TransactionsPath, want.Encode())
				}
				if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
					t.Errorf("request %d: Authorization %q", i+1, got)
				}
				if r.Header.Get("Accept") != "application/json" || r.Header.Get("User-Agent") != "ccsync/1.2.3" {
					t.Errorf("request %d: Accept %q, User-Agent %q", i+1, r.Header.Get("Accept"), r.Header.Get("User-Agent"))
				}
			}
			if s := h.client.Stats(); s.Pages != int64(tt.wantPages) || s.Requests != int64(tt.wantPages) || s.Retries != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestFetchWindowPayoutQuery(t *testing.T) {
	h := newHarness(t, okPage(), nil)
	w := extract.Window{Stream: crowdchange.StreamPayout, Account: crowdchange.AccountGlobal,
		Start: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), End: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := h.client.FetchWindow(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	q := h.api.Requests()[0].Query
	if q.Get(crowdchange.ParamPayoutDate) != "2024-02-29" || q.Get(crowdchange.ParamPayoutAccount) != "global" || q.Has(crowdchange.ParamDTStart) || q.Has(crowdchange.ParamDTEnd) {
		t.Errorf("query %s", q.Encode())
	}
}

// Transactions seen twice in a window are dropped (the first is kept), counted and logged with
// their id and page, never their values.
func TestFetchWindowDuplicates(t *testing.T) {
	tests := []struct {
		name     string
		pages    [][]json.RawMessage
		wantIDs  []int64
		wantDups int
		wantLogs []string
	}{
		{
			name:     "across pages",
			pages:    [][]json.RawMessage{txs(1, 2, 3), txs(3, 4, 5), txs(5, 6)},
			wantIDs:  seq(1, 6),
			wantDups: 2,
			wantLogs: []string{"id=3 page=2", "id=5 page=3"},
		},
		{
			name:     "within a page",
			pages:    [][]json.RawMessage{txs(1, 1, 2), txs(7)},
			wantIDs:  []int64{1, 2, 7},
			wantDups: 1,
			wantLogs: []string{"id=1 page=1"},
		},
		{
			name:     "a whole page again in another order, then new ones",
			pages:    [][]json.RawMessage{txs(1, 2, 3), txs(3, 2, 1), txs(4)},
			wantIDs:  seq(1, 4),
			wantDups: 3,
			wantLogs: []string{"id=1 page=2", "id=2 page=2", "id=3 page=2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, pages(tt.pages...), nil)
			res, err := h.client.FetchWindow(context.Background(), day1)
			if err != nil {
				t.Fatal(err)
			}
			if fmtIDs(ids(res.Transactions)) != fmtIDs(tt.wantIDs) || res.Duplicates != tt.wantDups || res.Pages != len(tt.pages) {
				t.Errorf("ids %v, duplicates %d, pages %d; want %v, %d, %d", ids(res.Transactions), res.Duplicates, res.Pages, tt.wantIDs, tt.wantDups, len(tt.pages))
			}
			logs := h.logs.String()
			for _, want := range tt.wantLogs {
				if !strings.Contains(logs, want) || !strings.Contains(logs, "level=warning msg=\"duplicate transaction") {
					t.Errorf("no warning with %q in\n%s", want, logs)
				}
			}
			assertNoValues(t, logs)
		})
	}
}

// A page longer than the limit is an anomaly: logged, and paging goes on.
func TestFetchWindowOverfullPage(t *testing.T) {
	h := newHarness(t, pages(txs(1, 2, 3, 4), txs(5)), nil)
	res, err := h.client.FetchWindow(context.Background(), day1)
	if err != nil {
		t.Fatal(err)
	}
	if fmtIDs(ids(res.Transactions)) != fmtIDs(seq(1, 5)) || res.Pages != 2 {
		t.Errorf("ids %v, pages %d", ids(res.Transactions), res.Pages)
	}
	if !strings.Contains(h.logs.String(), "more transactions than the limit") {
		t.Errorf("anomaly not logged:\n%s", h.logs.String())
	}
}

// The API's documented example goes through whole: raw bytes kept as sent, model fully decoded.
func TestFetchWindowExampleFixture(t *testing.T) {
	body, err := os.ReadFile("crowdchangetest/testdata/transactions_page_example.json")
	if err != nil {
		t.Fatal(err)
	}
	var want crowdchange.Page
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, extracttest.Always(extracttest.Reply{Body: body}), func(c *config.API) { c.PageSize = 100 })
	res, err := h.client.FetchWindow(context.Background(), day1)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Transactions) != 1 || res.Pages != 1 {
		t.Fatalf("%d transactions in %d pages", len(res.Transactions), res.Pages)
	}
	f := res.Transactions[0]
	if f.ID != 10001 || f.Err != nil || !bytes.Equal(f.Raw, want.Data[0]) {
		t.Errorf("ID %d, Err %v, raw kept: %v", f.ID, f.Err, bytes.Equal(f.Raw, want.Data[0]))
	}
	if f.Tx.Amount == nil || f.Tx.Amount.TotalPaid != "105.15" || f.Tx.Payout == nil || f.Tx.Payout.Date.Format(extract.DateLayout) != "2021-01-01" {
		t.Errorf("model not decoded: %+v", f.Tx.Amount)
	}
}

// A transaction the model cannot fully decode is kept (raw, id, what decoded) with Err naming the
// field; the error and the log line carry no value.
func TestFetchWindowPartlyDecoded(t *testing.T) {
	bad := json.RawMessage(`{"id":42,"type":"charge","parent_id":98765.4321,"billing":{"name":"Ada Privatename"}}`)
	h := newHarness(t, pages([]json.RawMessage{tx(1), bad}), nil)
	res, err := h.client.FetchWindow(context.Background(), day1)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Transactions) != 2 {
		t.Fatalf("%d transactions", len(res.Transactions))
	}
	f := res.Transactions[1]
	if f.ID != 42 || f.Tx.ID != 42 || f.Err == nil || !bytes.Equal(f.Raw, bad) || f.Tx.Type == nil || *f.Tx.Type != "charge" {
		t.Fatalf("got ID %d, Err %v, raw %s", f.ID, f.Err, f.Raw)
	}
	if !strings.Contains(f.Err.Error(), "parent_id") || strings.Contains(f.Err.Error(), "98765") {
		t.Errorf("Err = %q: want the field, not the value", f.Err)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "partly decoded") || strings.Contains(logs, "98765") {
		t.Errorf("logs:\n%s", logs)
	}
	assertNoValues(t, logs)
}

// An item without a readable id is quarantined whole, with its page, position and a value-free
// reason; the rest of the window is kept and nothing is retried.
func TestFetchWindowQuarantinesItemsWithoutID(t *testing.T) {
	noID := json.RawMessage(`{"type":"charge","billing":{"name":"Ada Privatename"},"amount":{"total_paid":105.15}}`)
	badID := json.RawMessage(`{"id":"Ada Privatename","type":"charge"}`)
	h := newHarness(t, pages(txs(1, 2, 3), []json.RawMessage{tx(4), noID, badID}), nil)
	res, err := h.client.FetchWindow(context.Background(), day1)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmtIDs(ids(res.Transactions)); got != fmtIDs(seq(1, 4)) {
		t.Errorf("ids %s", got)
	}
	if len(res.Quarantined) != 2 {
		t.Fatalf("%d quarantined, want 2", len(res.Quarantined))
	}
	for i, want := range []struct {
		raw    json.RawMessage
		pos    int
		reason string
	}{{noID, 1, `no "id"`}, {badID, 2, "not a positive integer"}} {
		q := res.Quarantined[i]
		if !bytes.Equal(q.Raw, want.raw) || q.Page != 2 || q.Position != want.pos || !strings.Contains(q.Reason, want.reason) {
			t.Errorf("quarantined %d: page %d, position %d, reason %q, raw kept %v", i, q.Page, q.Position, q.Reason, bytes.Equal(q.Raw, want.raw))
		}
		assertNoValues(t, q.Reason)
	}
	if n := len(h.api.Requests()); n != 3 {
		t.Errorf("%d requests, want 3 (two full pages and the empty one; no retry)", n)
	}
	assertNoValues(t, h.logs.String())
}

// An API that ignores the page parameter (the same page again, or pages without a new id) fails
// the window within a few requests, with a permanent error that says so.
func TestFetchWindowPagingBroken(t *testing.T) {
	tests := []struct {
		name     string
		answer   func(int, *http.Request) extracttest.Reply
		wantReqs int
	}{
		{"the same page every time", extracttest.Always(extracttest.Reply{Body: pageBody(9, txs(1, 2, 3))}), 2},
		{"the same ids, other bytes", func(n int, _ *http.Request) extracttest.Reply {
			if n%2 == 0 {
				return extracttest.Reply{Body: pageBody(9, txs(3, 2, 1))}
			}
			return extracttest.Reply{Body: pageBody(9, txs(1, 2, 3))}
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.answer, nil)
			_, err := h.client.FetchWindow(context.Background(), day1)
			if !errors.Is(err, extract.ErrPagingBroken) || extract.IsTransient(err) || !strings.Contains(err.Error(), `ignore "page"`) {
				t.Fatalf("got %v, want ErrPagingBroken naming the page parameter", err)
			}
			if n := len(h.api.Requests()); n != tt.wantReqs {
				t.Errorf("%d requests, want %d", n, tt.wantReqs)
			}
		})
	}
}

// An API that caps its pages below the limit loses nothing: the count says more exist, or a short
// page of a round length is confirmed with one more request; the cap is then remembered, so that
// later windows read on after a capped page without asking again.
func TestFetchWindowCappedPages(t *testing.T) {
	const pageCap = 10
	capped := func(items []json.RawMessage, count int64) func(int, *http.Request) extracttest.Reply {
		return func(_ int, r *http.Request) extracttest.Reply {
			page, _ := strconv.Atoi(r.URL.Query().Get(crowdchange.ParamPage))
			limit, _ := strconv.Atoi(r.URL.Query().Get(crowdchange.ParamLimit))
			size := min(limit, pageCap)
			lo, hi := min((page-1)*size, len(items)), min(page*size, len(items))
			c := count
			if c < 0 {
				c = int64(len(items))
			}
			return extracttest.Reply{Body: pageBody(c, items[lo:hi])}
		}
	}
	big := func(c *config.API) { c.PageSize = 100 }
	tests := []struct {
		name      string
		n         int64
		count     int64 // -1: the truth
		wantPages int
	}{
		{"count says more", 25, -1, 3},
		{"no count: round short pages are confirmed", 25, 0, 3},
		{"no count, exact multiple", 20, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, capped(txs(seq(1, tt.n)...), tt.count), big)
			res, err := h.client.FetchWindow(context.Background(), day1)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fmtIDs(ids(res.Transactions)), fmtIDs(seq(1, tt.n)); got != want {
				t.Errorf("ids %s, want %s", got, want)
			}
			if res.Pages != tt.wantPages {
				t.Errorf("%d pages, want %d", res.Pages, tt.wantPages)
			}
			if !strings.Contains(h.logs.String(), "caps its pages") {
				t.Errorf("the cap is not logged:\n%s", h.logs.String())
			}
			// The cap is remembered: a second window reads on after a page of the cap's length
			// even without a count.
			h.api.Reset(capped(txs(seq(1, 15)...), 0))
			res, err = h.client.FetchWindow(context.Background(), day1)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Transactions) != 15 || res.Pages != 2 {
				t.Errorf("second window: %d transactions in %d pages, want 15 in 2", len(res.Transactions), res.Pages)
			}
		})
	}
}

// An API that never sends a short page is given up on after the maximum number of pages.
func TestFetchWindowMaxPages(t *testing.T) {
	endless := func(_ int, r *http.Request) extracttest.Reply { // always a full page of new ids
		page, _ := strconv.Atoi(r.URL.Query().Get(crowdchange.ParamPage))
		p := int64(page)
		return extracttest.Reply{Body: pageBody(3, txs(p*3-2, p*3-1, p*3))}
	}
	h := newHarness(t, endless, nil, extract.WithMaxPages(4))
	_, err := h.client.FetchWindow(context.Background(), day1)
	if err == nil || !strings.Contains(err.Error(), "after 4 pages") {
		t.Fatalf("got %v", err)
	}
	if n := len(h.api.Requests()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

// Transient failures are retried with the waits the API asks for, or the jittered backoff, and
// counted; then the page arrives.
func TestFetchWindowRetries(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		replies   []extracttest.Reply
		wantWaits []time.Duration
		want      extract.Stats // Requests, Retries, Throttled, ServerErrors, InvalidBodies
		wantObs   []observed
	}{
		{
			name:      "429 with Retry-After: 0",
			replies:   []extracttest.Reply{{Status: 429, Header: map[string]string{"Retry-After": "0"}}},
			wantWaits: []time.Duration{0},
			want:      extract.Stats{Requests: 2, Retries: 1, Throttled: 1},
			wantObs:   []observed{{1, 429, 0}},
		},
		{
			name:      "429 with Retry-After: 3",
			replies:   []extracttest.Reply{{Status: 429, Header: map[string]string{"Retry-After": "3"}, Body: []byte(`{"status":"error","message":{"error":["Too Many Attempts."]}}`)}},
			wantWaits: []time.Duration{3 * time.Second},
			want:      extract.Stats{Requests: 2, Retries: 1, Throttled: 1, BackoffTotal: 3 * time.Second},
			wantObs:   []observed{{1, 429, 3 * time.Second}},
		},
		{
			name:      "503 with Retry-After as an HTTP date",
			replies:   []extracttest.Reply{{Status: 503, Header: map[string]string{"Retry-After": now.Add(7 * time.Second).Format(http.TimeFormat)}}},
			wantWaits: []time.Duration{7 * time.Second},
			want:      extract.Stats{Requests: 2, Retries: 1, ServerErrors: 1, BackoffTotal: 7 * time.Second},
		},
		{
			name:      "Retry-After above the backoff maximum is honoured, up to the cap",
			replies:   []extracttest.Reply{{Status: 429, Header: map[string]string{"Retry-After": "90"}}, {Status: 429, Header: map[string]string{"Retry-After": "86400"}}},
			wantWaits: []time.Duration{90 * time.Second, extract.DefaultMaxRetryAfter},
			want:      extract.Stats{Requests: 3, Retries: 2, Throttled: 2, BackoffTotal: 90*time.Second + extract.DefaultMaxRetryAfter},
		},
		{
			name:      "malformed Retry-After falls back to the backoff",
			replies:   []extracttest.Reply{{Status: 429, Header: map[string]string{"Retry-After": "soon"}}},
			wantWaits: []time.Duration{50 * time.Millisecond},
			want:      extract.Stats{Requests: 2, Retries: 1, Throttled: 1, BackoffTotal: 50 * time.Millisecond},
		},
		{
			name:      "500, 502, 503 then success, with exponential backoff",
			replies:   []extracttest.Reply{{Status: 500}, {Status: 502, Body: []byte("<html>Bad Gateway</html>")}, {Status: 503}},
			wantWaits: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond},
			want:      extract.Stats{Requests: 4, Retries: 3, ServerErrors: 3, BackoffTotal: 350 * time.Millisecond},
			wantObs:   []observed{{1, 500, 50 * time.Millisecond}, {2, 502, 100 * time.Millisecond}, {3, 503, 200 * time.Millisecond}},
		},
		{
			name:      "truncated body",
			replies:   []extracttest.Reply{{Cut: true, Body: pageBody(2, txs(1, 2))[:40]}},
			wantWaits: []time.Duration{50 * time.Millisecond},
			want:      extract.Stats{Requests: 2, Retries: 1, InvalidBodies: 1, BackoffTotal: 50 * time.Millisecond},
			wantObs:   []observed{{1, 200, 50 * time.Millisecond}},
		},
		{
			name:      "complete but cut JSON",
			replies:   []extracttest.Reply{{Body: pageBody(2, txs(1, 2))[:40]}},
			wantWaits: []time.Duration{50 * time.Millisecond},
			want:      extract.Stats{Requests: 2, Retries: 1, InvalidBodies: 1, BackoffTotal: 50 * time.Millisecond},
		},
		{
			name:      "HTML with 200",
			replies:   []extracttest.Reply{{Body: []byte("<html>maintenance</html>")}},
			wantWaits: []time.Duration{50 * time.Millisecond},
			want:      extract.Stats{Requests: 2, Retries: 1, InvalidBodies: 1, BackoffTotal: 50 * time.Millisecond},
		},
		{
			name:      "JSON that is not a page",
			replies:   []extracttest.Reply{{Body: []byte(`{"status":"ok"}`)}, {Body: []byte(`{"data":"x"}`)}},
			wantWaits: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond},
			want:      extract.Stats{Requests: 3, Retries: 2, InvalidBodies: 2, BackoffTotal: 150 * time.Millisecond},
		},
		{
			name:      "connection dropped",
			replies:   []extracttest.Reply{{Drop: true}},
			wantWaits: []time.Duration{50 * time.Millisecond},
			want:      extract.Stats{Requests: 2, Retries: 1, BackoffTotal: 50 * time.Millisecond},
			wantObs:   []observed{{1, 0, 50 * time.Millisecond}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := &observer{}
			h := newHarness(t, extracttest.Scripted(okPage(), tt.replies...), nil, extract.WithClock(func() time.Time { return now }), extract.WithObserver(obs.observe))
			res, err := h.client.FetchWindow(context.Background(), day1)
			if err != nil {
				t.Fatal(err)
			}
			if fmtIDs(ids(res.Transactions)) != "[1 2]" || res.Pages != 1 || res.Requests != len(tt.replies)+1 {
				t.Errorf("ids %v, pages %d, requests %d", ids(res.Transactions), res.Pages, res.Requests)
			}
			if got := h.sleeps.Waits(); fmt.Sprint(got) != fmt.Sprint(tt.wantWaits) {
				t.Errorf("waits %v, want %v", got, tt.wantWaits)
			}
			want := tt.want
			want.Pages = 1
			if got := h.client.Stats(); got != want {
				t.Errorf("stats %+v\nwant  %+v", got, want)
			}
			if tt.wantObs != nil && fmtObserved(obs.calls()) != fmtObserved(tt.wantObs) {
				t.Errorf("observer saw %v, want %v", obs.calls(), tt.wantObs)
			}
			logs := h.logs.String()
			if !strings.Contains(logs, "retrying a request") || !strings.Contains(logs, "attempt=1") || !strings.Contains(logs, `window="`+day1.String()+`"`) {
				t.Errorf("no debug line for the retry:\n%s", logs)
			}
			assertNoValues(t, logs)
		})
	}
}

// When the attempts run out, the error says so and wraps the last failure, which stays transient.
func TestFetchWindowAttemptsCapped(t *testing.T) {
	tests := []struct {
		name   string
		rep    extracttest.Reply
		check  func(t *testing.T, err error)
		status int
	}{
		{name: "503", rep: extracttest.Reply{Status: 503, Body: []byte(`{"status":"error","message":{"error":["Down for maintenance."]}}`)}, check: func(t *testing.T, err error) {
			var ae *crowdchange.APIError
			if !errors.As(err, &ae) || ae.StatusCode != 503 || ae.Message != "Down for maintenance." {
				t.Errorf("got %v, want an APIError 503", err)
			}
		}, status: 503},
		{name: "429", rep: extracttest.Reply{Status: 429, Header: map[string]string{"Retry-After": "1"}}, check: func(t *testing.T, err error) {
			var ae *crowdchange.APIError
			if !errors.As(err, &ae) || ae.StatusCode != 429 {
				t.Errorf("got %v, want an APIError 429", err)
			}
		}, status: 429},
		{name: "truncated body", rep: extracttest.Reply{Cut: true, Body: []byte(`{"data":[`)}, check: func(t *testing.T, err error) {
			if !errors.Is(err, extract.ErrInvalidBody) {
				t.Errorf("got %v, want ErrInvalidBody", err)
			}
		}, status: 200},
		{name: "connection dropped", rep: extracttest.Reply{Drop: true}, check: func(t *testing.T, err error) {}, status: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, extracttest.Always(tt.rep), func(c *config.API) { c.MaxAttempts = 3 })
			res, err := h.client.FetchWindow(context.Background(), day1)
			if err == nil {
				t.Fatalf("got %d transactions, want an error", len(res.Transactions))
			}
			tt.check(t, err)
			if !extract.IsTransient(err) || errors.Is(err, extract.ErrForbidden) {
				t.Errorf("%v: transient %v", err, extract.IsTransient(err))
			}
			if !strings.Contains(err.Error(), "giving up after 3 attempts") || !strings.Contains(err.Error(), "fetching page 1 of window "+day1.String()) {
				t.Errorf("error %q", err)
			}
			if n := len(h.api.Requests()); n != 3 {
				t.Errorf("%d requests, want 3", n)
			}
			if n := len(h.sleeps.Waits()); n != 2 {
				t.Errorf("%d waits, want 2", n)
			}
			if s := h.client.Stats(); s.Requests != 3 || s.Retries != 2 || s.Pages != 0 {
				t.Errorf("stats %+v", s)
			}
			logs := h.logs.String()
			if !strings.Contains(logs, "level=warning msg=\"giving up") || !strings.Contains(logs, "attempts=3") {
				t.Errorf("no warning when giving up:\n%s", logs)
			}
		})
	}
}

// Permanent errors are not retried: exactly one request, the envelope decoded, and 403 wraps
// ErrForbidden.
func TestFetchWindowPermanentErrors(t *testing.T) {
	tests := []struct {
		name          string
		rep           extracttest.Reply
		wantForbidden bool
		want          crowdchange.APIError
		wantMsg       string
	}{
		{
			name:          "403 other envelope echoing the key",
			rep:           extracttest.Reply{Status: 403, Body: []byte(`{"status":"error","message":{"error":["Invalid API key ` + testKey + `."]}}`)},
			wantForbidden: true,
			want:          crowdchange.APIError{StatusCode: 403, Message: "Invalid API key [redacted]."},
			wantMsg:       "crowdchange: 403 Forbidden: the API refused the key; check CROWDCHANGE_API_KEY (or --api-key-file) and the region: Invalid API key [redacted].",
		},
		{
			name:          "401 empty body",
			rep:           extracttest.Reply{Status: 401},
			wantForbidden: true,
			want:          crowdchange.APIError{StatusCode: 401},
			wantMsg:       "crowdchange: 401 Unauthorized: the API refused the key; check CROWDCHANGE_API_KEY (or --api-key-file) and the region",
		},
		{
			name: "422 validation envelope",
			rep: extracttest.Reply{Status: 422, Header: map[string]string{"X-Request-Id": "abc-123"},
				Body: []byte(`{"message":"The given data was invalid.","errors":{"limit":["must be <= 100"],"dt_end":["must be after dt_start"]}}`)},
			want: crowdchange.APIError{StatusCode: 422, Message: "The given data was invalid.", RequestID: "abc-123",
				Fields: map[string][]string{"limit": {"must be <= 100"}, "dt_end": {"must be after dt_start"}}},
			wantMsg: "crowdchange: 422 Unprocessable Entity: The given data was invalid. (dt_end: must be after dt_start; limit: must be <= 100) [request id abc-123]",
		},
		{
			name:    "400 other envelope",
			rep:     extracttest.Reply{Status: 400, Body: []byte(`{"status":"error","message":{"error":["Invalid date range."]}}`)},
			want:    crowdchange.APIError{StatusCode: 400, Message: "Invalid date range."},
			wantMsg: "crowdchange: 400 Bad Request: Invalid date range.",
		},
		{
			name:    "404 HTML",
			rep:     extracttest.Reply{Status: 404, Body: []byte("<html><body>Not Found: Ada Privatename</body></html>")},
			want:    crowdchange.APIError{StatusCode: 404},
			wantMsg: "crowdchange: 404 Not Found: no API answers at this address; check --api-url or --region",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, extracttest.Always(tt.rep), nil)
			_, err := h.client.FetchWindow(context.Background(), day1)
			var ae *crowdchange.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, want an APIError", err)
			}
			if ae.StatusCode != tt.want.StatusCode || ae.Message != tt.want.Message || ae.RequestID != tt.want.RequestID || fmtFields(ae.Fields) != fmtFields(tt.want.Fields) {
				t.Errorf("got %#v\nwant %#v", *ae, tt.want)
			}
			if ae.Error() != tt.wantMsg {
				t.Errorf("Error() = %q\nwant %q", ae.Error(), tt.wantMsg)
			}
			if errors.Is(err, extract.ErrNotFound) != (tt.want.StatusCode == 404) {
				t.Errorf("ErrNotFound %v for status %d", errors.Is(err, extract.ErrNotFound), tt.want.StatusCode)
			}
			if errors.Is(err, extract.ErrForbidden) != tt.wantForbidden || extract.IsTransient(err) {
				t.Errorf("forbidden %v, transient %v", errors.Is(err, extract.ErrForbidden), extract.IsTransient(err))
			}
			if n := len(h.api.Requests()); n != 1 {
				t.Errorf("%d requests, want exactly 1", n)
			}
			if len(h.sleeps.Waits()) != 0 || h.client.Stats().Retries != 0 {
				t.Errorf("waited %v", h.sleeps.Waits())
			}
			assertNoValues(t, err.Error())
		})
	}
}

// Check makes one request of limit 1 and reports a refused key as ErrForbidden.
func TestCheck(t *testing.T) {
	tests := []struct {
		name          string
		rep           extracttest.Reply
		wantErr       bool
		wantForbidden bool
	}{
		{"ok", extracttest.Reply{Body: pageBody(0, nil)}, false, false},
		{"403", extracttest.Reply{Status: 403, Body: []byte(`{"status":"error","message":{"error":["Forbidden"]}}`)}, true, true},
		{"422", extracttest.Reply{Status: 422, Body: []byte(`{"message":"The given data was invalid.","errors":{"dt_start":["x"]}}`)}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, extracttest.Always(tt.rep), nil)
			err := h.client.Check(context.Background())
			if (err != nil) != tt.wantErr || errors.Is(err, extract.ErrForbidden) != tt.wantForbidden {
				t.Fatalf("got %v", err)
			}
			reqs := h.api.Requests()
			if len(reqs) != 1 || reqs[0].Query.Get(crowdchange.ParamLimit) != "1" || reqs[0].Query.Get(crowdchange.ParamPage) != "1" {
				t.Errorf("requests %+v", reqs)
			}
		})
	}
}

// A redirect is not followed: the key must not travel to another host.
func TestRedirectNotFollowed(t *testing.T) {
	elsewhere := extracttest.NewFakeAPI(t, okPage())
	h := newHarness(t, extracttest.Always(extracttest.Reply{Status: http.StatusFound, Header: map[string]string{"Location": elsewhere.URL + crowdchange.TransactionsPath}}), nil)
	_, err := h.client.FetchWindow(context.Background(), day1)
	var ae *crowdchange.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusFound {
		t.Fatalf("got %v, want an APIError 302", err)
	}
	if n := len(elsewhere.Requests()); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}

// A cancelled context stops a backoff at once, with the real sleeper and an hour-long backoff.
func TestCancelDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	api := extracttest.NewFakeAPI(t, extracttest.Always(extracttest.Reply{Status: 503}))
	cfg := testConfig(api.URL)
	cfg.BackoffBase, cfg.BackoffMax = time.Hour, time.Hour
	var waits []time.Duration
	c, err := crowdchange.NewClient(cfg, nil,
		extract.WithLimiter(rate.NewLimiter(rate.Inf, 1)),
		extract.WithRand(func() float64 { return 0.9 }),
		extract.WithObserver(func(_, _ int, wait time.Duration) {
			waits = append(waits, wait)
			cancel() // the run is interrupted while the client is about to back off
		}))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.FetchWindow(ctx, day1)
	if !errors.Is(err, context.Canceled) || extract.IsTransient(err) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("returned after %v", elapsed)
	}
	if len(waits) != 1 || waits[0] != 54*time.Minute {
		t.Errorf("waits %v", waits)
	}
	if n := len(api.Requests()); n != 1 {
		t.Errorf("%d requests", n)
	}
	if s := c.Stats(); s.BackoffTotal != 0 {
		t.Errorf("an interrupted wait counted: %v", s.BackoffTotal)
	}
}

// A Sleeper that returns nil although the context ended does not make the client carry on.
func TestCancelWithSleeperIgnoringContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newHarness(t, extracttest.Scripted(okPage(), extracttest.Reply{Status: 503}), nil,
		extract.WithSleeper(func(context.Context, time.Duration) error { cancel(); return nil }))
	_, err := h.client.FetchWindow(ctx, day1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if n := len(h.api.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestCancelledBeforeStart(t *testing.T) {
	h := newHarness(t, okPage(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.client.FetchWindow(ctx, day1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if n := len(h.api.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

// Retries wait for the shared limiter too: with one token and the next an hour away, the retry
// cannot be sent before the context's deadline, and the limiter says so at once.
func TestRateLimiterAppliesToRetries(t *testing.T) {
	limiter := rate.NewLimiter(rate.Every(time.Hour), 1)
	h := newHarness(t, extracttest.Scripted(okPage(), extracttest.Reply{Status: 503}), nil, extract.WithLimiter(limiter))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := h.client.FetchWindow(ctx, day1)
	if err == nil || !strings.Contains(err.Error(), "rate limiter") || extract.IsTransient(err) {
		t.Fatalf("got %v, want the limiter to refuse the retry", err)
	}
	if n := len(h.api.Requests()); n != 1 {
		t.Errorf("%d requests reached the API, want 1", n)
	}
	if n := len(h.sleeps.Waits()); n != 1 {
		t.Errorf("%d backoffs, want 1 (before the limiter)", n)
	}
}

// One attempt is bounded by the timeout, body included; the next attempt gets a fresh one.
func TestAttemptTimeout(t *testing.T) {
	tests := []struct {
		name    string
		first   extracttest.Reply
		invalid int64
	}{
		{"no answer", extracttest.Reply{Hang: true}, 0},
		{"body stalls", extracttest.Reply{Hang: true, Body: pageBody(2, txs(1, 2))[:30]}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, extracttest.Scripted(okPage(), tt.first), func(c *config.API) { c.Timeout = 300 * time.Millisecond })
			// A deadline far above the timeout, so that a broken timeout fails instead of hanging.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := h.client.FetchWindow(ctx, day1)
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests != 2 || len(res.Transactions) != 2 {
				t.Errorf("requests %d, transactions %d", res.Requests, len(res.Transactions))
			}
			if s := h.client.Stats(); s.Retries != 1 || s.InvalidBodies != tt.invalid {
				t.Errorf("stats %+v", s)
			}
			// A body that drips until the timeout is not silent: the retry is logged at info
			// level with its cause.
			if logs := h.logs.String(); !strings.Contains(logs, `level=info msg="retrying a request to the API"`) || !strings.Contains(logs, `cause="timed out (--timeout)"`) {
				t.Errorf("no info line with the cause:\n%s", logs)
			}
		})
	}
}

// Every retry is logged at info level with its cause.
func TestRetriesAreLoggedWithTheirCause(t *testing.T) {
	tests := []struct {
		rep   extracttest.Reply
		cause string
	}{
		{extracttest.Reply{Status: 429, Header: map[string]string{"Retry-After": "0"}}, `cause="throttled (429)"`},
		{extracttest.Reply{Status: 503}, `cause="server error (503)"`},
		{extracttest.Reply{Cut: true, Body: pageBody(2, txs(1, 2))[:40]}, `cause="invalid or truncated body"`},
		{extracttest.Reply{Drop: true}, `cause="network error"`},
	}
	for _, tt := range tests {
		t.Run(tt.cause, func(t *testing.T) {
			h := newHarness(t, extracttest.Scripted(okPage(), tt.rep), nil)
			if _, err := h.client.FetchWindow(context.Background(), day1); err != nil {
				t.Fatal(err)
			}
			logs := h.logs.String()
			if !strings.Contains(logs, `level=info msg="retrying a request to the API"`) || !strings.Contains(logs, tt.cause) {
				t.Errorf("want an info line with %s in\n%s", tt.cause, logs)
			}
		})
	}
}

func TestNewClientBaseURL(t *testing.T) {
	tests := []struct {
		url     string
		wantErr string
	}{
		{"http://api.crowdchange.co", "plain http is refused"},
		{"http://10.0.0.8:8080", "plain http is refused"},
		{"http://example.com", "plain http is refused"},
		{"ftp://127.0.0.1", "scheme"},
		{"127.0.0.1:8080", "not an absolute URL"},
		{"http://127.0.0.1:8080", ""},
		{"http://localhost:8080/", ""},
		{"http://[::1]:8080", ""},
		{"https://api.crowdchange.dev", ""},
		{"https://sandbox.internal:8443/prefix", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			cfg := testConfig(tt.url)
			_, err := crowdchange.NewClient(cfg, nil)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), testKey) {
				t.Errorf("the error holds the key: %v", err)
			}
		})
	}
	if _, err := crowdchange.NewClient(config.API{URL: "https://api.crowdchange.dev"}, nil); err == nil || !strings.Contains(err.Error(), "api key") {
		t.Errorf("a client without a key: %v", err)
	}
}

// The key is sent as "Bearer <key>" and nowhere else: not in any error, not in any log line (debug
// included), not in any formatting of the client, even when the API echoes it back.
func TestKeyNeverLeaks(t *testing.T) {
	echo := func(n int, r *http.Request) extracttest.Reply {
		auth := r.Header.Get("Authorization")
		switch n {
		case 1:
			return extracttest.Reply{Status: 503, Header: map[string]string{"X-Request-Id": auth}, Body: []byte(`{"status":"error","message":"` + auth + `"}`)}
		case 2:
			return extracttest.Reply{Status: 429, Header: map[string]string{"Retry-After": "0"}}
		case 3:
			return extracttest.Reply{Status: 422, Header: map[string]string{"X-Request-Id": auth}, Body: []byte(`{"message":"bad ` + auth + `","errors":{"` + testKey + `":["` + auth + `"]}}`)}
		default:
			return extracttest.Reply{Status: 403, Body: []byte(`{"status":"error","message":{"error":["` + auth + ` is refused"]}}`)}
		}
	}
	h := newHarness(t, echo, nil)
	var errs []string
	_, err := h.client.FetchWindow(context.Background(), day1)
	errs = append(errs, err.Error())
	err = h.client.Check(context.Background())
	if !errors.Is(err, extract.ErrForbidden) {
		t.Errorf("Check: %v", err)
	}
	errs = append(errs, err.Error())
	var ae *crowdchange.APIError
	if errors.As(err, &ae) {
		errs = append(errs, ae.Message, ae.RequestID, fmtFields(ae.Fields))
	}
	for _, r := range h.api.Requests() {
		if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
			t.Errorf("Authorization %q", got)
		}
		for name, vs := range r.Header {
			if name != "Authorization" && strings.Contains(strings.Join(vs, " "), testKey) {
				t.Errorf("header %s holds the key", name)
			}
		}
		if strings.Contains(r.Query.Encode(), testKey) {
			t.Errorf("the query holds the key")
		}
	}
	printed := []string{h.logs.String(), strings.Join(errs, "\n")}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		printed = append(printed, fmt.Sprintf(verb, h.client)) // a pointer to a struct prints its fields
	}
	for _, s := range printed {
		if strings.Contains(s, testKey) {
			t.Errorf("the key leaked into:\n%s", s)
		}
	}
	if !strings.Contains(h.logs.String(), "retrying") {
		t.Errorf("expected debug logs of the retries:\n%s", h.logs.String())
	}
}

// Windows fetched concurrently share the client's limiter and counters safely.
func TestConcurrentWindows(t *testing.T) {
	var mu sync.Mutex
	firstSeen := map[string]bool{}
	answer := func(_ int, r *http.Request) extracttest.Reply {
		start := r.URL.Query().Get(crowdchange.ParamDTStart)
		mu.Lock()
		seen := firstSeen[start]
		firstSeen[start] = true
		mu.Unlock()
		if !seen {
			return extracttest.Reply{Status: 503} // every window's first request fails once
		}
		return paged(txs(seq(1, 5)...), -1)(0, r)
	}
	h := newHarness(t, answer, nil, extract.WithLimiter(rate.NewLimiter(rate.Inf, 1)))
	windows, err := extract.PlanDateWindows(day1.Start, day1.Start.AddDate(0, 0, 8), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	results := make([]*crowdchange.WindowResult, len(windows))
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(4)
	for i, w := range windows {
		g.Go(func() error {
			res, err := h.client.FetchWindow(ctx, w)
			results[i] = res
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for i, res := range results {
		if len(res.Transactions) != 5 || res.Pages != 2 || res.Requests != 3 || res.Window != windows[i] {
			t.Errorf("window %d: %d transactions, %d pages, %d requests", i, len(res.Transactions), res.Pages, res.Requests)
		}
	}
	want := extract.Stats{Requests: 24, Retries: 8, ServerErrors: 8, Pages: 16, BackoffTotal: 8 * 50 * time.Millisecond}
	if got := h.client.Stats(); got != want {
		t.Errorf("stats %+v\nwant  %+v", got, want)
	}
}

func TestFetchPageArguments(t *testing.T) {
	h := newHarness(t, okPage(), nil)
	tests := []struct {
		name string
		w    extract.Window
		page int
		want string
	}{
		{"page 0", day1, 0, "pages start at 1"},
		{"invalid window", extract.Window{Stream: extract.StreamDate, Start: day1.End, End: day1.Start}, 1, "end must be after start"},
		{"zero window", extract.Window{}, 1, "unknown stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := h.client.FetchPage(context.Background(), tt.w, tt.page); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := h.client.FetchWindow(context.Background(), extract.Window{}); err == nil {
		t.Error("FetchWindow accepted a zero window")
	}
	if n := len(h.api.Requests()); n != 0 {
		t.Errorf("%d requests for invalid arguments", n)
	}
	p, err := h.client.FetchPage(context.Background(), day1, 2)
	if err != nil || len(p.Data) != 2 || p.Count != 2 {
		t.Fatalf("FetchPage: %v, %+v", err, p)
	}
	if q := h.api.Requests()[0].Query; q.Get(crowdchange.ParamPage) != "2" || q.Get(crowdchange.ParamLimit) != "3" {
		t.Errorf("query %s", q.Encode())
	}
}

// assertNoValues fails when text holds any of the values the tests' transactions carry.
func assertNoValues(t *testing.T, text string) {
	t.Helper()
	for _, v := range []string{"Ada", "Privatename", "ada@private.example", "105.15", testKey} {
		if strings.Contains(text, v) {
			t.Errorf("%q leaked into:\n%s", v, text)
		}
	}
}

type observed struct {
	attempt, status int
	wait            time.Duration
}

type observer struct {
	mu sync.Mutex
	cs []observed
}

func (o *observer) observe(attempt, status int, wait time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cs = append(o.cs, observed{attempt, status, wait})
}

func (o *observer) calls() []observed {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]observed(nil), o.cs...)
}

func fmtObserved(v []observed) string { return fmt.Sprintf("%v", v) }

func fmtFields(f map[string][]string) string {
	if len(f) == 0 {
		return "map[]"
	}
	return fmt.Sprintf("%v", f) // fmt sorts map keys
}
