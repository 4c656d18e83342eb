package donately_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/donately"
	"github.com/ccsync/ccsync/extract/extracttest"
	"golang.org/x/time/rate"
)

func TestHeadersOnEveryRequest(t *testing.T) {
	var d dataset
	for i := 1; i <= 230; i++ {
		d.add(fmt.Sprintf("dnt_%04d", i), at(0, 0, i))
	}
	h := newHarness(t, func(n int, r *http.Request) extracttest.Reply {
		if r.URL.Path != "/v2/donations" {
			return extracttest.Reply{Body: listBody(nil, 0, 0)}
		}
		return d.serve(r, nil)
	})
	ctx := context.Background()
	if err := h.client.Check(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := h.client.Donations(ctx, donately.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.Campaigns(ctx, donately.Filter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.People(ctx, donately.Filter{}); err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 230 || res.Pages != 3 {
		t.Fatalf("read %d records in %d pages, want 230 in 3", len(res.Records), res.Pages)
	}
	reqs := h.api.Requests()
	if len(reqs) != 1+3+1+1 {
		t.Fatalf("%d requests, want 6", len(reqs))
	}
	for i, r := range reqs {
		want := map[string]string{
			"Authorization":    testAuthorization,
			"Donately-Account": testAccount,
			"Donately-Version": "2022-12-15",
			"User-Agent":       "ccsync/1.2.3",
			"Accept":           "application/json",
		}
		for name, v := range want {
			if got := r.Header.Values(name); len(got) != 1 || got[0] != v {
				t.Errorf("request %d (%s): %s = %q, want exactly %q", i+1, r.Path, name, got, v)
			}
		}
		if got := r.Query.Get("account_id"); got != testAccount {
			t.Errorf("request %d: account_id = %q", i+1, got)
		}
	}
	// Check asks for one donation; lists ask for pages of 100, ordered where the list takes an order.
	wantQueries := []struct{ path, limit, offset, orderBy string }{
		{"/v2/donations", "1", "0", "created_at"},
		{"/v2/donations", "100", "0", "created_at"},
		{"/v2/donations", "100", "100", "created_at"},
		{"/v2/donations", "100", "200", "created_at"},
		{"/v2/campaigns", "100", "0", "created_at"},
		{"/v2/people", "100", "0", ""},
	}
	for i, w := range wantQueries {
		r := reqs[i]
		if r.Path != w.path || r.Query.Get("limit") != w.limit || r.Query.Get("offset") != w.offset || r.Query.Get("order_by") != w.orderBy {
			t.Errorf("request %d: %s %v, want %+v", i+1, r.Path, r.Query, w)
		}
		if w.orderBy != "" && r.Query.Get("sort") != "ASC" {
			t.Errorf("request %d: sort = %q, want ASC", i+1, r.Query.Get("sort"))
		}
		if w.orderBy == "" && (r.Query.Has("sort") || r.Query.Has("order_by")) {
			t.Errorf("request %d: people have no order in the API, yet it asked for %v", i+1, r.Query)
		}
	}
}

func TestErrorFormats(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		header       map[string]string
		body         string
		want         donately.APIError
		forbidden    bool
		notFound     bool
		transient    bool
		wantRequests int
	}{
		{
			name: "401 in the 2022 format", status: 401,
			body:      `{"type":"unauthorized","message":"Invalid or missing API token.","code":"401","request_id":"req_1234567890123"}`,
			want:      donately.APIError{StatusCode: 401, Type: "unauthorized", Code: "401", Message: "Invalid or missing API token.", RequestID: "req_1234567890123"},
			forbidden: true, wantRequests: 1,
		},
		{
			name: "403 in the 2019 format", status: 403,
			body:      `{"success":false,"error":"This API token has no access to the requested account."}`,
			want:      donately.APIError{StatusCode: 403, Message: "This API token has no access to the requested account."},
			forbidden: true, wantRequests: 1,
		},
		{
			name: "401 with an HTML body and a request id header", status: 401, header: map[string]string{"X-Request-Id": "req_h"},
			body:      `<html>nope</html>`,
			want:      donately.APIError{StatusCode: 401, RequestID: "req_h"},
			forbidden: true, wantRequests: 1,
		},
		{
			name: "404", status: 404,
			body:     `{"type":"not_found","message":"Not found.","code":404,"request_id":"req_2"}`,
			want:     donately.APIError{StatusCode: 404, Type: "not_found", Code: "404", Message: "Not found.", RequestID: "req_2"},
			notFound: true, wantRequests: 1,
		},
		{
			name: "400 with a message that echoes the token", status: 400,
			body:         `{"type":"bad_request","message":"bad token ` + testToken + ` for act_x","code":"400","request_id":"req_3"}`,
			want:         donately.APIError{StatusCode: 400, Type: "bad_request", Code: "400", Message: "bad token [redacted] for act_x", RequestID: "req_3"},
			wantRequests: 1,
		},
		{
			name: "422 in the 2019 format with an object error", status: 422,
			body:         `{"success":false,"error":{"message":"limit must be at most 100"}}`,
			want:         donately.APIError{StatusCode: 422, Message: "limit must be at most 100"},
			wantRequests: 1,
		},
		{
			name: "200 with success false", status: 200,
			body:         `{"success":false,"error":"Account suspended."}`,
			want:         donately.APIError{StatusCode: 200, Message: "Account suspended."},
			wantRequests: 1,
		},
		{
			name: "500 every time: retried to the last attempt", status: 500,
			body:      `{"type":"api_error","message":"Internal server error.","code":"500","request_id":"req_5"}`,
			want:      donately.APIError{StatusCode: 500, Type: "api_error", Code: "500", Message: "Internal server error.", RequestID: "req_5"},
			transient: true, wantRequests: 4,
		},
		{
			name: "429 every time", status: 429, header: map[string]string{"Retry-After": "0"},
			body:      `{"type":"rate_limited","message":"Rate limit exceeded. Retry later.","code":"429","request_id":"req_6"}`,
			want:      donately.APIError{StatusCode: 429, Type: "rate_limited", Code: "429", Message: "Rate limit exceeded. Retry later.", RequestID: "req_6"},
			transient: true, wantRequests: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(int, *http.Request) extracttest.Reply {
				return extracttest.Reply{Status: tt.status, Header: tt.header, Body: []byte(tt.body)}
			})
			_, err := h.client.Donations(context.Background(), donately.Filter{})
			if err == nil {
				t.Fatal("no error")
			}
			var ae *donately.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T) is not an *APIError", err, err)
			}
			if *ae != tt.want {
				t.Errorf("APIError = %+v, want %+v", *ae, tt.want)
			}
			if got := errors.Is(err, extract.ErrForbidden); got != tt.forbidden {
				t.Errorf("errors.Is(err, ErrForbidden) = %v, want %v", got, tt.forbidden)
			}
			if got := errors.Is(err, extract.ErrNotFound); got != tt.notFound {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v", got, tt.notFound)
			}
			if got := extract.IsTransient(err); got != tt.transient {
				t.Errorf("IsTransient = %v, want %v", got, tt.transient)
			}
			if got := len(h.api.Requests()); got != tt.wantRequests {
				t.Errorf("%d requests, want %d", got, tt.wantRequests)
			}
			if tt.forbidden && !strings.Contains(err.Error(), config.DonatelyTokenEnv) {
				t.Errorf("a refused token's error %q does not say where the token comes from", err)
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(h.logText(), testToken) {
				t.Errorf("the token leaked: %v\n%s", err, h.logText())
			}
		})
	}
}

func TestCheckStopsAtOnceOnARefusedToken(t *testing.T) {
	for _, status := range []int{401, 403} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			h := newHarness(t, func(int, *http.Request) extracttest.Reply {
				return extracttest.Reply{Status: status, Body: []byte(`{"type":"unauthorized","message":"no","code":"x","request_id":"req_9"}`)}
			})
			err := h.client.Check(context.Background())
			if !errors.Is(err, extract.ErrForbidden) {
				t.Fatalf("Check() = %v, want ErrForbidden", err)
			}
			if n := len(h.api.Requests()); n != 1 {
				t.Errorf("%d requests, want exactly 1", n)
			}
			if w := h.sleeps.Waits(); len(w) != 0 {
				t.Errorf("backed off %v before giving up on a refused token", w)
			}
			if !strings.Contains(err.Error(), testAccount) {
				t.Errorf("error %q does not name the account", err)
			}
		})
	}
}

func TestRetriesHonourRetryAfter(t *testing.T) {
	page := listBody([]json.RawMessage{donationJSON("dnt_1", at(1, 0, 0))}, 0, 1)
	tests := []struct {
		name      string
		first     extracttest.Reply
		wantWaits []time.Duration
		wantStats extract.Stats
	}{
		{
			name:      "429 with Retry-After seconds",
			first:     extracttest.Reply{Status: 429, Header: map[string]string{"Retry-After": "7"}, Body: []byte(`{"type":"rate_limited","message":"slow down","code":"429"}`)},
			wantWaits: []time.Duration{7 * time.Second},
			wantStats: extract.Stats{Requests: 2, Retries: 1, Throttled: 1, Pages: 1, BackoffTotal: 7 * time.Second},
		},
		{
			name:      "429 with Retry-After as a date",
			first:     extracttest.Reply{Status: 429, Header: map[string]string{"Retry-After": testNow.Add(90 * time.Second).Format(http.TimeFormat)}},
			wantWaits: []time.Duration{90 * time.Second},
			wantStats: extract.Stats{Requests: 2, Retries: 1, Throttled: 1, Pages: 1, BackoffTotal: 90 * time.Second},
		},
		{
			name:      "503 without Retry-After: jittered backoff",
			first:     extracttest.Reply{Status: 503, Body: []byte(`<html>gateway</html>`)},
			wantWaits: []time.Duration{500 * time.Millisecond}, // 0.5 × BackoffBase
			wantStats: extract.Stats{Requests: 2, Retries: 1, ServerErrors: 1, Pages: 1, BackoffTotal: 500 * time.Millisecond},
		},
		{
			name:      "truncated body",
			first:     extracttest.Reply{Body: page[:len(page)/2]},
			wantWaits: []time.Duration{500 * time.Millisecond},
			wantStats: extract.Stats{Requests: 2, Retries: 1, InvalidBodies: 1, Pages: 1, BackoffTotal: 500 * time.Millisecond},
		},
		{
			name:      "not the envelope",
			first:     extracttest.Reply{Body: []byte(`{"object":"list"}`)},
			wantWaits: []time.Duration{500 * time.Millisecond},
			wantStats: extract.Stats{Requests: 2, Retries: 1, InvalidBodies: 1, Pages: 1, BackoffTotal: 500 * time.Millisecond},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(n int, r *http.Request) extracttest.Reply {
				if n == 1 {
					return tt.first
				}
				return extracttest.Reply{Body: page}
			})
			res, err := h.client.Donations(context.Background(), donately.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(res.Records); !slices.Equal(got, []string{"dnt_1"}) {
				t.Errorf("records %v", got)
			}
			if got := h.sleeps.Waits(); !slices.Equal(got, tt.wantWaits) {
				t.Errorf("waits %v, want %v", got, tt.wantWaits)
			}
			if got := h.client.Stats(); got != tt.wantStats {
				t.Errorf("Stats = %+v, want %+v", got, tt.wantStats)
			}
			if res.Requests != 2 || res.Pages != 1 {
				t.Errorf("Result: %d requests, %d pages; want 2, 1", res.Requests, res.Pages)
			}
		})
	}
}

func TestPagingAcrossPagesWithTies(t *testing.T) {
	// 250 donations, 7 to a second: every page boundary falls inside a tie.
	var d dataset
	for i := 1; i <= 250; i++ {
		d.add(fmt.Sprintf("dnt_%04d", i), at(0, 0, (i-1)/7))
	}
	// reverseTies orders each group of records of the same second backwards.
	reverseTies := func(items []json.RawMessage) []json.RawMessage {
		for lo := 0; lo < len(items); lo += 7 {
			slices.Reverse(items[lo:min(lo+7, len(items))])
		}
		return items
	}
	all := seqIDs("dnt_", 1, 250)
	tests := []struct {
		name           string
		order          func(n int) func([]json.RawMessage) []json.RawMessage
		wantPasses     int
		wantDuplicates bool
	}{
		{"ties in a stable order", func(int) func([]json.RawMessage) []json.RawMessage { return nil }, 1, false},
		{"ties ordered differently on every request", func(n int) func([]json.RawMessage) []json.RawMessage {
			if n%2 == 0 {
				return reverseTies
			}
			return nil
		}, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(n int, r *http.Request) extracttest.Reply { return d.serve(r, tt.order(n)) })
			res, err := h.client.Donations(context.Background(), donately.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			got := ids(res.Records)
			sorted := slices.Sorted(slices.Values(got))
			if !slices.Equal(sorted, all) {
				t.Fatalf("read %d records, want each of the 250 once: %v", len(got), got)
			}
			if res.Passes != tt.wantPasses {
				t.Errorf("Passes = %d, want %d", res.Passes, tt.wantPasses)
			}
			if (res.Duplicates > 0) != tt.wantDuplicates {
				t.Errorf("Duplicates = %d", res.Duplicates)
			}
		})
	}
}

func TestListingShortOfTheTotalFails(t *testing.T) {
	// The API's total counts a record it never sends.
	var d dataset
	for i := 1; i <= 30; i++ {
		d.add(fmt.Sprintf("dnt_%04d", i), at(0, 0, i))
	}
	h := newHarness(t, func(n int, r *http.Request) extracttest.Reply {
		rep := d.serve(r, nil)
		rep.Body = []byte(strings.Replace(string(rep.Body), `"total_count":30`, `"total_count":31`, 1))
		return rep
	})
	_, err := h.client.Donations(context.Background(), donately.Filter{})
	if !errors.Is(err, donately.ErrIncomplete) {
		t.Fatalf("err = %v, want ErrIncomplete", err)
	}
	// Each pass reads the page and, as the total says one more exists, the empty page after it.
	if n := len(h.api.Requests()); n != 4 {
		t.Errorf("%d requests, want 4 (two pages, two passes)", n)
	}
}

func TestPagingTermination(t *testing.T) {
	items := func(from, to int) []json.RawMessage {
		var out []json.RawMessage
		for i := from; i <= to; i++ {
			out = append(out, donationJSON(fmt.Sprintf("dnt_%04d", i), at(0, 0, i%60)))
		}
		return out
	}
	noSummary := func(its []json.RawMessage) []byte {
		b, _ := json.Marshal(map[string]any{"object": "list", "data": its})
		return b
	}
	tests := []struct {
		name         string
		answer       func(offset int) []byte
		wantRecords  int
		wantRequests int
		wantErr      error
	}{
		{
			name: "a short page that the total confirms ends the listing",
			answer: func(offset int) []byte {
				if offset == 0 {
					return listBody(items(1, 100), 0, 130)
				}
				return listBody(items(101, 130), 100, 130)
			},
			wantRecords: 130, wantRequests: 2,
		},
		{
			name: "a full last page that has_more and the total confirm ends the listing",
			answer: func(offset int) []byte {
				return listBody(items(1, 100), 0, 100)
			},
			wantRecords: 100, wantRequests: 1,
		},
		{
			name: "pages capped below the limit are read on while the total says more",
			answer: func(offset int) []byte {
				return listBody(items(offset+1, min(offset+40, 130)), offset, 130)
			},
			wantRecords: 130, wantRequests: 4,
		},
		{
			name: "without a summary, a full page is followed by the next, and the empty page ends",
			answer: func(offset int) []byte {
				if offset == 0 {
					return noSummary(items(1, 100))
				}
				return noSummary(nil)
			},
			wantRecords: 100, wantRequests: 2,
		},
		{
			name: "without a summary, a short page of a round length is confirmed by one more request",
			answer: func(offset int) []byte {
				switch offset {
				case 0:
					return noSummary(items(1, 50))
				case 50:
					return noSummary(items(51, 73))
				}
				return noSummary(nil)
			},
			wantRecords: 73, wantRequests: 2,
		},
		{
			name: "a repeated page: the API ignores offset",
			answer: func(offset int) []byte {
				b, _ := json.Marshal(map[string]any{"object": "list", "data": items(1, 100)})
				return b
			},
			wantErr: extract.ErrPagingBroken, wantRequests: 2,
		},
		{
			name: "params say another offset than asked",
			answer: func(offset int) []byte {
				return listBody(items(1, 100), 0, 1000)
			},
			wantErr: extract.ErrPagingBroken, wantRequests: 2,
		},
		{
			name: "pages without a new record, each different",
			answer: func(offset int) []byte {
				if offset == 0 {
					return noSummary(items(1, 100))
				}
				its := items(1, 100)
				if offset%200 == 100 {
					slices.Reverse(its)
				}
				return noSummary(its)
			},
			wantErr: extract.ErrPagingBroken, wantRequests: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(n int, r *http.Request) extracttest.Reply {
				var offset int
				fmt.Sscan(r.URL.Query().Get("offset"), &offset)
				return extracttest.Reply{Body: tt.answer(offset)}
			})
			res, err := h.client.Donations(context.Background(), donately.Filter{})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if len(res.Records) != tt.wantRecords {
				t.Errorf("%d records, want %d", len(res.Records), tt.wantRecords)
			}
			if n := len(h.api.Requests()); n != tt.wantRequests {
				t.Errorf("%d requests, want %d", n, tt.wantRequests)
			}
		})
	}
}

func TestPageCap(t *testing.T) {
	h := newHarness(t, func(n int, r *http.Request) extracttest.Reply {
		var offset int
		fmt.Sscan(r.URL.Query().Get("offset"), &offset)
		var its []json.RawMessage
		for i := range 100 {
			its = append(its, donationJSON(fmt.Sprintf("dnt_%06d", offset+i), at(0, 0, 0)))
		}
		return extracttest.Reply{Body: listBody(its, offset, 1_000_000)}
	}, extract.WithMaxPages(3))
	_, err := h.client.Donations(context.Background(), donately.Filter{})
	if !errors.Is(err, extract.ErrPagingBroken) {
		t.Fatalf("err = %v, want ErrPagingBroken", err)
	}
	if n := len(h.api.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestWindowEdgeRecordLandsOnce(t *testing.T) {
	d0, d1, d2 := at(0, 0, 0), at(1, 0, 0), at(2, 0, 0)
	var d dataset
	d.add("dnt_before", d0.Add(-time.Second))
	d.add("dnt_at_d0", d0)
	d.add("dnt_inside_1", d0.Add(30*time.Minute))
	d.add("dnt_last_second_1", d1.Add(-time.Second))
	d.add("dnt_at_d1", d1)
	d.add("dnt_inside_2", d1.Add(time.Minute))
	d.add("dnt_at_d2", d2)
	windows := []donately.Filter{
		{Field: donately.FieldCreated, After: d0, Before: d1},
		{Field: donately.FieldCreated, After: d1, Before: d2},
	}
	want := [][]string{{"dnt_at_d0", "dnt_inside_1", "dnt_last_second_1"}, {"dnt_at_d1", "dnt_inside_2"}}

	tests := []struct {
		name        string
		serve       func(r *http.Request) extracttest.Reply
		wantOutside []int
	}{
		{"the API filters strictly", func(r *http.Request) extracttest.Reply { return d.serve(r, nil) }, []int{0, 0}},
		{"the API ignores the filter: the client drops what is outside", func(r *http.Request) extracttest.Reply {
			r.URL.RawQuery = strings.NewReplacer("created%5Bgt%5D", "x", "created%5Blt%5D", "y").Replace(r.URL.RawQuery)
			return d.serve(r, nil)
		}, []int{4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(n int, r *http.Request) extracttest.Reply { return tt.serve(r) })
			for i, f := range windows {
				res, err := h.client.Donations(context.Background(), f)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(res.Records); !slices.Equal(got, want[i]) {
					t.Errorf("window %s: %v, want %v", f, got, want[i])
				}
				if res.OutsideWindow != tt.wantOutside[i] {
					t.Errorf("window %s: OutsideWindow = %d, want %d", f, res.OutsideWindow, tt.wantOutside[i])
				}
			}
			// [d0, d1) is asked as gt = d0 − 1s, lt = d1.
			q := h.api.Requests()[0].Query
			if q.Get("created[gt]") != "2026-02-28T23:59:59Z" || q.Get("created[lt]") != "2026-03-01T01:00:00Z" {
				t.Errorf("query %v: want created[gt]=2026-02-28T23:59:59Z, created[lt]=2026-03-01T01:00:00Z", q)
			}
		})
	}
	// The parameters, exactly.
	h := newHarness(t, func(n int, r *http.Request) extracttest.Reply { return d.serve(r, nil) })
	if _, err := h.client.Donations(context.Background(), donately.Filter{Field: donately.FieldUpdated, After: d1, Before: d2}); err != nil {
		t.Fatal(err)
	}
	q := h.api.Requests()[0].Query
	if q.Get("updated[gt]") != "2026-03-01T00:59:59Z" || q.Get("updated[lt]") != "2026-03-01T02:00:00Z" || q.Has("created[gt]") {
		t.Errorf("query %v: want updated[gt]=2026-03-01T00:59:59Z, updated[lt]=2026-03-01T02:00:00Z", q)
	}
	if q.Get("order_by") != "created_at" {
		t.Errorf("order_by = %q, want created_at (it never changes while the list is read)", q.Get("order_by"))
	}
}

func TestWindowEdgeWithFinerTimestamps(t *testing.T) {
	// An API that keeps fractions of a second but filters on them: a record 0.4s before the edge
	// is sent to both windows by gt = After − 1s; the client keeps it in the first only.
	d1 := at(1, 0, 0)
	var d dataset
	d.add("dnt_just_before_edge", d1.Add(-400*time.Millisecond))
	d.add("dnt_at_edge", d1)
	var got []string
	h := newHarness(t, func(n int, r *http.Request) extracttest.Reply { return d.serve(r, nil) })
	for _, f := range []donately.Filter{
		{Field: donately.FieldCreated, After: at(0, 0, 0), Before: d1},
		{Field: donately.FieldCreated, After: d1, Before: at(2, 0, 0)},
	} {
		res, err := h.client.Donations(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join(ids(res.Records), ","))
	}
	if want := []string{"dnt_just_before_edge", "dnt_at_edge"}; !slices.Equal(got, want) {
		t.Errorf("windows hold %q, want %q", got, want)
	}
}

func TestFilterValidation(t *testing.T) {
	tests := []struct {
		f    donately.Filter
		want string
	}{
		{donately.Filter{Field: "paid"}, `field "paid"`},
		{donately.Filter{After: at(0, 0, 0)}, "bounds without a field"},
		{donately.Filter{Field: donately.FieldCreated, After: at(0, 0, 0).Add(time.Millisecond)}, "not a whole second"},
		{donately.Filter{Field: donately.FieldCreated, After: at(1, 0, 0), Before: at(1, 0, 0)}, "is not after"},
	}
	h := newHarness(t, func(int, *http.Request) extracttest.Reply { return extracttest.Reply{Body: listBody(nil, 0, 0)} })
	for _, tt := range tests {
		_, err := h.client.Donations(context.Background(), tt.f)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Donations(%+v) = %v, want an error containing %q", tt.f, err, tt.want)
		}
	}
	if n := len(h.api.Requests()); n != 0 {
		t.Errorf("%d requests for invalid filters", n)
	}
}

func TestCampaignsAndPeopleAreFilteredByTheClient(t *testing.T) {
	campaign := func(id string, created string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"object":"campaign","id":%q,"title":"Annual Fund Drive","status":"published","type":"donation",`+
			`"goal_in_cents":10000000,"total_raised_in_cents":4250000,"page_template":{"theme":"classic"},"created_at":%s,"updated_at":%s}`, id, created, created))
	}
	person := func(id string, created string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"object":"person","id":%q,"email":"jane@example.org","first_name":"Jane","last_name":"Doe",`+
			`"phone_number":null,"street_address":null,"street_address_2":null,"city":"Austin","state":"TX","zip_code":"78701","country":"US",`+
			`"created_at":%s,"updated_at":%s}`, id, created, created))
	}
	h := newHarness(t, func(n int, r *http.Request) extracttest.Reply {
		if r.URL.Path == "/v2/campaigns" {
			return extracttest.Reply{Body: listBody([]json.RawMessage{
				campaign("cmp_old", `"2026-01-01T00:00:00Z"`),
				campaign("cmp_edge", `"2026-02-01T00:00:00Z"`),
				campaign("cmp_no_date", `null`),
				campaign("cmp_new", `"2026-03-01T00:00:00Z"`),
			}, 0, 4)}
		}
		return extracttest.Reply{Body: listBody([]json.RawMessage{person("per_a", `"2026-02-15T10:00:00Z"`), person("per_b", `"not a time"`)}, 0, 2)}
	})
	ctx := context.Background()
	feb := donately.Filter{Field: donately.FieldCreated, After: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), Before: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	res, err := h.client.Campaigns(ctx, feb)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(res.Records); !slices.Equal(got, []string{"cmp_edge"}) {
		t.Errorf("February's campaigns: %v, want [cmp_edge]", got)
	}
	if res.OutsideWindow != 3 {
		t.Errorf("OutsideWindow = %d, want 3", res.OutsideWindow)
	}
	c := res.Records[0].Campaign
	if c == nil || *c.Title != "Annual Fund Drive" || *c.GoalInCents != 10000000 || *c.TotalRaisedInCents != 4250000 || string(c.PageTemplate) != `{"theme":"classic"}` {
		t.Errorf("campaign model %+v", c)
	}
	// Without an After bound, the campaign without a date is kept (once in a series of windows).
	res, err = h.client.Campaigns(ctx, donately.Filter{Field: donately.FieldCreated, Before: feb.After})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(res.Records); !slices.Equal(got, []string{"cmp_old", "cmp_no_date"}) {
		t.Errorf("campaigns before February: %v, want [cmp_old cmp_no_date]", got)
	}
	for _, r := range h.api.Requests() {
		if r.Query.Has("created[gt]") || r.Query.Has("created[lt]") {
			t.Errorf("sent a date filter the campaigns list does not have: %v", r.Query)
		}
	}
	res, err = h.client.People(ctx, feb)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(res.Records); !slices.Equal(got, []string{"per_a"}) {
		t.Errorf("February's people: %v, want [per_a]", got)
	}
	p := res.Records[0].Person
	if p == nil || *p.Email != "jane@example.org" || *p.City != "Austin" || p.PhoneNumber != nil || !p.CreatedAt.Equal(time.Date(2026, 2, 15, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("person model %+v", p)
	}
}

func TestNewClientRefusesABadConfiguration(t *testing.T) {
	tests := []struct {
		name string
		cfg  config.Donately
		api  config.API
		want string
	}{
		{"no token", config.Donately{Account: testAccount}, config.API{}, "donately token: not set"},
		{"no account", config.Donately{Token: testToken}, config.API{}, "donately-account"},
		{"plain http elsewhere", config.Donately{URL: "http://api.donately.com", Token: testToken, Account: testAccount}, config.API{}, "plain http is refused"},
		{"bad shared settings", config.Donately{Token: testToken, Account: testAccount}, config.API{Rate: -1}, "rate: -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := donately.NewClient(tt.cfg, tt.api, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q holds the token", err)
			}
		})
	}
	// The defaults: the real API over https, with the shared settings' defaults.
	if _, err := donately.NewClient(config.Donately{Token: testToken, Account: testAccount}, config.API{}, nil); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestSharedLimiterAndCounters(t *testing.T) {
	// A Donately client and a CrowdChange client given one limiter of one token that never
	// refills: once the Donately client has spent it, the CrowdChange client cannot send (its
	// context's deadline comes before the next token), so the limiter is the same one. Each client
	// keeps its own counters.
	limiter := rate.NewLimiter(rate.Limit(1e-9), 1)
	page := listBody([]json.RawMessage{donationJSON("dnt_1", at(1, 0, 0))}, 0, 1)
	h := newHarness(t, func(int, *http.Request) extracttest.Reply { return extracttest.Reply{Body: page} }, extract.WithLimiter(limiter))
	if _, err := h.client.Donations(context.Background(), donately.Filter{}); err != nil {
		t.Fatal(err)
	}
	cc, err := crowdchange.NewClient(config.API{URL: h.api.URL, Key: "ck_test_key_123"}, nil, extract.WithLimiter(limiter))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if err := cc.Check(ctx); err == nil || !strings.Contains(err.Error(), "rate limiter") {
		t.Fatalf("CrowdChange Check() = %v, want it stopped by the shared limiter", err)
	}
	if n := len(h.api.Requests()); n != 1 {
		t.Errorf("%d requests reached the API, want 1", n)
	}
	if s := h.client.Stats(); s.Requests != 1 || s.Pages != 1 {
		t.Errorf("Donately Stats = %+v, want 1 request, 1 page", s)
	}
	if s := cc.Stats(); s.Requests != 0 || s.Pages != 0 {
		t.Errorf("CrowdChange Stats = %+v, want nothing sent", s)
	}
}
