package donatelytest_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract/donately/donatelytest"
)

// checkError checks an error answer's status and format: structured with 2022-12-15,
// {success:false, error} otherwise. The message must never carry the token.
func checkError(t *testing.T, a answer, version string, status int, typ string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	if strings.Contains(string(a.body), donatelytest.DefaultToken) {
		t.Errorf("the error carries the token: %s", a.body)
	}
	if version == donatelytest.Version2022 {
		if got := keys(t, a.body); !slices.Equal(got, []string{"type", "message", "code", "request_id"}) {
			t.Fatalf("error members %v: %s", got, a.body)
		}
		var e struct {
			Type      string `json:"type"`
			Message   string `json:"message"`
			Code      string `json:"code"`
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(a.body, &e); err != nil {
			t.Fatal(err)
		}
		if e.Type != typ || e.Code != strconv.Itoa(status) || e.Message == "" || !requestIDPattern.MatchString(e.RequestID) {
			t.Errorf("error %+v, want type %s code %d", e, typ, status)
		}
		return
	}
	if got := keys(t, a.body); !slices.Equal(got, []string{"success", "error"}) {
		t.Fatalf("error members %v: %s", got, a.body)
	}
	var e struct {
		Success *bool  `json:"success"`
		Error   string `json:"error"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil || e.Success == nil || *e.Success || e.Error == "" {
		t.Errorf("error %s", a.body)
	}
}

// Errors come in the version's format with the reference's status codes, and are counted.
func TestErrors(t *testing.T) {
	t.Parallel()
	good := donatelytest.DefaultToken
	tests := []struct {
		name    string
		edit    func(*client)
		method  string
		path    string
		q       url.Values
		status  int
		typ     string
		counted func(donatelytest.ServerStats) int64
	}{
		{"no token", func(c *client) { c.auth = "" }, "GET", "/v2/donations", nil, 401, "unauthorized", func(s donatelytest.ServerStats) int64 { return s.Unauthorized }},
		{"wrong token", func(c *client) { c.auth = basic("nope") }, "GET", "/v2/donations", nil, 401, "unauthorized", func(s donatelytest.ServerStats) int64 { return s.Unauthorized }},
		{"token without the colon", func(c *client) { c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(good)) }, "GET", "/v2/campaigns", nil, 401, "unauthorized", func(s donatelytest.ServerStats) int64 { return s.Unauthorized }},
		{"bearer token", func(c *client) { c.auth = "Bearer " + good }, "GET", "/v2/people", nil, 401, "unauthorized", func(s donatelytest.ServerStats) int64 { return s.Unauthorized }},
		{"token checked on accounts/mine", func(c *client) { c.auth = basic("nope") }, "GET", "/v2/accounts/mine", nil, 401, "unauthorized", func(s donatelytest.ServerStats) int64 { return s.Unauthorized }},
		{"no account", func(c *client) { c.account = "" }, "GET", "/v2/donations", nil, 400, "bad_request", func(s donatelytest.ServerStats) int64 { return s.MissingAccount }},
		{"no account on one object", func(c *client) { c.account = "" }, "GET", "/v2/donations/dnt_000000000000", nil, 400, "bad_request", func(s donatelytest.ServerStats) int64 { return s.MissingAccount }},
		{"other account", func(c *client) { c.account = "act_000000000000" }, "GET", "/v2/donations", nil, 403, "forbidden", func(s donatelytest.ServerStats) int64 { return s.ForbiddenAccount }},
		{"other account in the query", func(c *client) { c.account = "" }, "GET", "/v2/people", url.Values{"account_id": {"act_000000000000"}}, 403, "forbidden", func(s donatelytest.ServerStats) int64 { return s.ForbiddenAccount }},
		{"other account's record", nil, "GET", "/v2/accounts/act_000000000000", nil, 403, "forbidden", func(s donatelytest.ServerStats) int64 { return s.ForbiddenAccount }},
		{"unknown donation", nil, "GET", "/v2/donations/dnt_000000000000", nil, 404, "not_found", func(s donatelytest.ServerStats) int64 { return s.NotFound }},
		{"unknown person", nil, "GET", "/v2/people/per_000000000000", nil, 404, "not_found", func(s donatelytest.ServerStats) int64 { return s.NotFound }},
		{"unknown path", nil, "GET", "/v2/teleport", nil, 404, "not_found", func(s donatelytest.ServerStats) int64 { return s.NotFound }},
		{"limit 0", nil, "GET", "/v2/donations", url.Values{"limit": {"0"}}, 400, "bad_request", func(s donatelytest.ServerStats) int64 { return s.BadRequests }},
		{"negative offset", nil, "GET", "/v2/donations", url.Values{"offset": {"-1"}}, 400, "bad_request", func(s donatelytest.ServerStats) int64 { return s.BadRequests }},
		{"bad sort", nil, "GET", "/v2/campaigns", url.Values{"sort": {"sideways"}}, 400, "bad_request", func(s donatelytest.ServerStats) int64 { return s.BadRequests }},
		{"bad order_by", nil, "GET", "/v2/people", url.Values{"order_by": {"amount_in_cents"}}, 400, "bad_request", func(s donatelytest.ServerStats) int64 { return s.BadRequests }},
		{"bad created[gt]", nil, "GET", "/v2/donations", url.Values{"created[gt]": {"yesterday"}}, 400, "bad_request", func(s donatelytest.ServerStats) int64 { return s.BadRequests }},
		{"bad updated[lt]", nil, "GET", "/v2/donations", url.Values{"updated[lt]": {"2026-13-01T00:00:00Z"}}, 400, "bad_request", func(s donatelytest.ServerStats) int64 { return s.BadRequests }},
		{"bad status", nil, "GET", "/v2/donations", url.Values{"status": {"lost"}}, 400, "bad_request", func(s donatelytest.ServerStats) int64 { return s.BadRequests }},
		{"method", nil, "DELETE", "/v2/donations", nil, 405, "method_not_allowed", nil},
	}
	for _, version := range []string{donatelytest.Version2022, donatelytest.Version2019, ""} {
		for _, tc := range tests {
			t.Run(tc.name+"@"+version, func(t *testing.T) {
				t.Parallel()
				s, base := settledSandbox(t, 1, 30)
				c := newClient(base, version)
				if tc.edit != nil {
					tc.edit(&c)
				}
				a, err := c.do(t.Context(), tc.method, tc.path, tc.q, nil)
				if err != nil {
					t.Fatal(err)
				}
				checkError(t, a, version, tc.status, tc.typ)
				if tc.status == http.StatusUnauthorized && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic") {
					t.Errorf("WWW-Authenticate %q", a.header.Get("WWW-Authenticate"))
				}
				if tc.counted != nil && tc.counted(s.Stats()) != 1 {
					t.Errorf("not counted: %+v", s.Stats())
				}
			})
		}
	}
}

// An unknown Donately-Version is a 400 in the default (2019-03-15) format.
func TestUnknownVersion(t *testing.T) {
	t.Parallel()
	s, base := settledSandbox(t, 1, 10)
	a := newClient(base, "2020-01-01").get(t, "/v2/donations", nil)
	checkError(t, a, donatelytest.Version2019, http.StatusBadRequest, "")
	if s.Stats().BadRequests != 1 {
		t.Errorf("stats %+v", s.Stats())
	}
}

// The account may come as the account_id parameter instead of the header; accounts/mine answers
// the token's account without one.
func TestAccountScoping(t *testing.T) {
	t.Parallel()
	_, base := settledSandbox(t, 1, 10)
	c := newClient(base, donatelytest.Version2022)
	c.account = ""
	if a := c.get(t, "/v2/donations", url.Values{"account_id": {donatelytest.DefaultAccount}}); a.status != http.StatusOK {
		t.Errorf("account_id parameter: status %d: %s", a.status, a.body)
	}
	a := c.get(t, "/v2/accounts/mine", nil)
	var acct struct{ ID, Object string }
	if err := json.Unmarshal(a.body, &acct); err != nil || a.status != http.StatusOK || acct.ID != donatelytest.DefaultAccount || acct.Object != "account" {
		t.Errorf("accounts/mine: status %d: %s", a.status, a.body)
	}
	if got := newClient(base, "").get(t, "/v2/accounts/"+donatelytest.DefaultAccount, nil); got.status != http.StatusOK ||
		!strings.Contains(string(got.body), `"google_analytics_id"`) {
		t.Errorf("accounts/:id in 2019-03-15: status %d: %s", got.status, got.body)
	}
	custom, customBase := sandbox(t, donatelytest.Options{Seed: 1, Donations: 10, Token: "tok_custom", Account: "act_0123456789ab",
		Now: func() time.Time { return settled }, From: rangeFrom, To: rangeTo})
	cc := client{base: customBase, auth: basic("tok_custom"), account: "act_0123456789ab", version: donatelytest.Version2022}
	if a := cc.get(t, "/v2/donations", nil); a.status != http.StatusOK || custom.Account() != "act_0123456789ab" || custom.Token() != "tok_custom" {
		t.Errorf("custom token and account: status %d: %s", a.status, a.body)
	}
}

// With RPS the sandbox limits requests on its own clock: over the burst it answers 429 with
// Retry-After in whole seconds, until the clock gives a token back.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rps        float64
		burst      int
		retryAfter string
	}{{2, 2, "1"}, {0.25, 1, "4"}} {
		clk := newClock(settled)
		s, base := sandbox(t, donatelytest.Options{Seed: 1, Donations: 10, From: rangeFrom, To: rangeTo, Now: clk.Now, RPS: tc.rps})
		for _, version := range []string{donatelytest.Version2022, ""} {
			c := newClient(base, version)
			for k := 0; k < tc.burst; k++ {
				if a := c.get(t, "/v2/donations", nil); a.status != http.StatusOK {
					t.Fatalf("rps %v: request %d: status %d", tc.rps, k, a.status)
				}
			}
			a := c.get(t, "/v2/donations", nil)
			checkError(t, a, version, http.StatusTooManyRequests, "rate_limited")
			if got := a.header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("rps %v: Retry-After %q, want %q", tc.rps, got, tc.retryAfter)
			}
			wait, _ := strconv.Atoi(tc.retryAfter)
			clk.Add(time.Duration(wait) * time.Second * time.Duration(tc.burst))
		}
		if st := s.Stats(); st.RateLimited != 2 || st.Pages != int64(2*tc.burst) {
			t.Errorf("rps %v: stats %+v", tc.rps, st)
		}
	}
}

// Public endpoints answer without a token what the public sees: published campaigns only, and the
// account; a wrong token is still refused, and private lists still need one.
func TestPublicEndpoints(t *testing.T) {
	t.Parallel()
	s, base := settledSandbox(t, 17, 600)
	authed := newClient(base, donatelytest.Version2022)
	public := authed
	public.auth = ""
	published := authed.page(t, "/v2/campaigns", url.Values{"status": {"published"}, "limit": {"100"}})
	all := authed.page(t, "/v2/campaigns", url.Values{"limit": {"100"}})
	seen := public.page(t, "/v2/campaigns", url.Values{"limit": {"100"}})
	if seen.Summary.TotalCount != published.Summary.TotalCount || all.Summary.TotalCount <= published.Summary.TotalCount {
		t.Errorf("public campaigns %d, published %d, all %d", seen.Summary.TotalCount, published.Summary.TotalCount, all.Summary.TotalCount)
	}
	for _, r := range decode(t, all.Data) {
		a := public.get(t, "/v2/campaigns/"+r.ID, nil)
		switch {
		case r.Status == "published" && a.status != http.StatusOK:
			t.Errorf("public GET of a published campaign: status %d", a.status)
		case r.Status != "published":
			checkError(t, a, donatelytest.Version2022, http.StatusNotFound, "not_found")
		}
	}
	if a := public.get(t, "/v2/accounts/"+donatelytest.DefaultAccount, nil); a.status != http.StatusOK {
		t.Errorf("public account: status %d", a.status)
	}
	checkError(t, public.get(t, "/v2/accounts/act_000000000000", nil), donatelytest.Version2022, http.StatusNotFound, "not_found")
	wrong := authed
	wrong.auth = basic("nope")
	checkError(t, wrong.get(t, "/v2/campaigns", nil), donatelytest.Version2022, http.StatusUnauthorized, "unauthorized")
	checkError(t, public.get(t, "/v2/accounts/mine", nil), donatelytest.Version2022, http.StatusUnauthorized, "unauthorized")
	checkError(t, public.get(t, "/v2/people/per_000000000000", nil), donatelytest.Version2022, http.StatusUnauthorized, "unauthorized")
	if st := s.Stats(); st.Unauthorized != 3 {
		t.Errorf("stats %+v", st)
	}
}
