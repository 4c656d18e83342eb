package crowdtilttest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract/crowdtilt/crowdtilttest"
)

var (
	idPattern        = regexp.MustCompile(`^(USR|CMP|CON|CCP)[0-9A-F]{12}1[0-9A-F]{19}$`)
	requestIDPattern = regexp.MustCompile(`^REQ[0-9A-F]{32}$`)
	secondsPattern   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	microsPattern    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}000Z$`)
)

var (
	userMembers = []string{"id", "email", "firstname", "lastname", "is_verified", "creation_date", "modification_date", "uri",
		"cards_uri", "banks_uri", "campaigns_uri", "payments_uri", "metadata"}
	campaignMembers = []string{"id", "title", "tilt_amount", "min_payment_amount", "fixed_payment_amount", "expiration_date",
		"is_tilted", "is_paid", "is_expired", "needs_bank", "uri", "payments_uri", "settlements_uri", "admin", "first_contributor",
		"tilter", "stats", "creation_date", "modification_date", "metadata"}
	paymentMembers = []string{"id", "status", "amount", "user_fee_amount", "admin_fee_amount", "uri", "campaign", "card", "user",
		"creation_date", "modification_date", "metadata"}
	cardMembers = []string{"id", "last_four", "expiration_year", "expiration_month", "user", "uri", "card_type", "creation_date",
		"modification_date", "metadata"}
	statsMembers = []string{"tilt_percent", "raised_amount", "unique_contributors", "number_of_contributions"}
)

// Envelopes and shapes: lists are {pagination, <member>}, single objects {<name>: {...}}, members
// in the seed's order, embedded objects in full; a single object is the list's item byte for byte.
func TestEnvelopesAndShapes(t *testing.T) {
	t.Parallel()
	_, base := small(t, 1)
	c := newClient(base)
	a := c.get(t, "/v1/campaigns", nil)
	if got := keys(t, a.body); !slices.Equal(got, []string{"pagination", "campaigns"}) {
		t.Fatalf("campaigns list members %v", got)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if got := keys(t, member(t, a.body, "pagination")); !slices.Equal(got, []string{"page", "entries_on_this_page", "total_pages", "total_entries", "per_page"}) {
		t.Errorf("pagination members %v", got)
	}
	camps := c.page(t, "/v1/campaigns", "campaigns", nil).Items
	var sawFirst, sawEcho bool
	for _, raw := range camps {
		if got := keys(t, raw); !slices.Equal(got, campaignMembers) {
			t.Fatalf("campaign members %v", got)
		}
		if got := keys(t, member(t, raw, "stats")); !slices.Equal(got, statsMembers) {
			t.Fatalf("stats members %v", got)
		}
		if got := keys(t, member(t, raw, "admin")); !slices.Equal(got, userMembers) {
			t.Fatalf("admin members %v", got)
		}
		if fc := member(t, raw, "first_contributor"); string(fc) != "null" {
			sawFirst = true
			if got := keys(t, fc); !slices.Equal(got, userMembers) {
				t.Fatalf("first_contributor members %v", got)
			}
		}
		r := decode(t, raw)
		if !idPattern.MatchString(r.ID) || !strings.HasPrefix(r.ID, "CMP") {
			t.Errorf("campaign id %q", r.ID)
		}
		one := c.get(t, "/v1/campaigns/"+r.ID, nil)
		if one.status != http.StatusOK || !bytes.Equal(member(t, one.body, "campaign"), raw) || !slices.Equal(keys(t, one.body), []string{"campaign"}) {
			t.Fatalf("GET campaign %s: %d %s", r.ID, one.status, one.body)
		}
		p := c.page(t, "/v1/campaigns/"+r.ID+"/payments", "payments", url.Values{"per_page": {"100"}})
		for _, praw := range p.Items {
			if got := keys(t, praw); !slices.Equal(got, paymentMembers) {
				t.Fatalf("payment members %v", got)
			}
			if got := keys(t, member(t, praw, "campaign")); !slices.Equal(got, campaignMembers) {
				t.Fatalf("payment's campaign members %v", got)
			}
			if got := keys(t, member(t, praw, "user")); !slices.Equal(got, userMembers) {
				t.Fatalf("payment's user members %v", got)
			}
			card := member(t, praw, "card")
			want := cardMembers
			pr := decode(t, praw)
			if pr.Card.Number != nil {
				sawEcho = true
				want = slices.Insert(slices.Clone(cardMembers), 1, "number", "security_code")
			}
			if got := keys(t, card); !slices.Equal(got, want) {
				t.Fatalf("card members %v", got)
			}
			if pr.Campaign.ID != r.ID || pr.Card.User.ID != pr.User.ID || !strings.HasPrefix(pr.ID, "CON") || !strings.HasPrefix(pr.Card.ID, "CCP") {
				t.Fatalf("payment %s: campaign %s, card user %s, user %s", pr.ID, pr.Campaign.ID, pr.Card.User.ID, pr.User.ID)
			}
		}
		if len(p.Items) > 0 {
			pr := decode(t, p.Items[0])
			one := c.get(t, "/v1/campaigns/"+r.ID+"/payments/"+pr.ID, nil)
			if one.status != http.StatusOK || !bytes.Equal(member(t, one.body, "payment"), p.Items[0]) {
				t.Fatalf("GET payment %s: %d", pr.ID, one.status)
			}
			u := c.get(t, "/v1/users/"+pr.User.ID, nil)
			if u.status != http.StatusOK || !bytes.Equal(member(t, u.body, "user"), member(t, p.Items[0], "user")) {
				t.Fatalf("GET user %s: %d %s", pr.User.ID, u.status, u.body)
			}
			// The user's lists name the payment and the campaign.
			up := c.page(t, "/v1/users/"+pr.User.ID+"/payments", "payments", url.Values{"per_page": {"100"}})
			uc := c.page(t, "/v1/users/"+pr.User.ID+"/campaigns", "campaigns", nil)
			if !slices.ContainsFunc(up.Items, func(b json.RawMessage) bool { return decode(t, b).ID == pr.ID }) ||
				!slices.ContainsFunc(uc.Items, func(b json.RawMessage) bool { return decode(t, b).ID == r.ID }) {
				t.Errorf("user %s: payments %d, campaigns %d do not name payment %s of campaign %s", pr.User.ID, len(up.Items), len(uc.Items), pr.ID, r.ID)
			}
		}
	}
	if !sawFirst || !sawEcho {
		t.Errorf("first_contributor seen %v, echoed card number seen %v", sawFirst, sawEcho)
	}
	if a := c.get(t, "/v1", nil); a.status != http.StatusOK || string(a.body) != "{}" {
		t.Errorf("GET /v1: %d %s", a.status, a.body)
	}
	users := c.page(t, "/v1/users", "users", url.Values{"per_page": {"3"}})
	if len(users.Items) != 3 || !slices.Equal(keys(t, users.Items[0]), userMembers) {
		t.Errorf("users list: %d items", len(users.Items))
	}
}

// Paging: defaults, caps, a page past the last, an empty list, invalid parameters.
func TestPaging(t *testing.T) {
	t.Parallel()
	s, base := small(t, 2)
	c := newClient(base)
	tr := s.Truth()
	var empty, big string
	for _, id := range tr.Campaigns {
		switch n := tr.PerCampaign[id]; {
		case n == 0 && empty == "":
			empty = id
		case n > crowdtilttest.MaxPerPage && big == "":
			big = id
		}
	}
	if empty == "" || big == "" {
		t.Fatalf("no empty campaign (%q) or none with more than a page (%q): %v", empty, big, tr.PerCampaign)
	}
	n := tr.PerCampaign[big]
	tests := []struct {
		name string
		path string
		q    url.Values
		want pagination
	}{
		{"defaults", "/v1/campaigns/" + big + "/payments", nil, pagination{1, 50, (n + 49) / 50, n, 50}},
		{"per_page at the maximum", "/v1/campaigns/" + big + "/payments", url.Values{"per_page": {"100"}}, pagination{1, 100, (n + 99) / 100, n, 100}},
		{"per_page above the maximum is capped", "/v1/campaigns/" + big + "/payments", url.Values{"per_page": {"1000"}}, pagination{1, 100, (n + 99) / 100, n, 100}},
		{"the second page", "/v1/campaigns/" + big + "/payments", url.Values{"per_page": {"100"}, "page": {"2"}}, pagination{2, min(100, n-100), (n + 99) / 100, n, 100}},
		{"the last page", "/v1/campaigns/" + big + "/payments", url.Values{"per_page": {"100"}, "page": {strconv.Itoa((n + 99) / 100)}},
			pagination{(n + 99) / 100, n - (n-1)/100*100, (n + 99) / 100, n, 100}},
		{"a page past the last", "/v1/campaigns/" + big + "/payments", url.Values{"per_page": {"100"}, "page": {"9"}}, pagination{9, 0, (n + 99) / 100, n, 100}},
		{"an empty list is one page", "/v1/campaigns/" + empty + "/payments", url.Values{"per_page": {"100"}}, pagination{1, 0, 1, 0, 100}},
		{"unknown parameters are ignored", "/v1/campaigns", url.Values{"sort": {"title"}, "per_page": {"4"}}, pagination{1, 4, 3, 10, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := c.page(t, tc.path, map[bool]string{true: "campaigns", false: "payments"}[tc.path == "/v1/campaigns"], tc.q)
			if p.Pagination != tc.want || len(p.Items) != tc.want.EntriesOnThisPage {
				t.Errorf("pagination %+v with %d items, want %+v", p.Pagination, len(p.Items), tc.want)
			}
		})
	}
	// Pages are disjoint and in (creation_date, id) order.
	first := c.page(t, "/v1/campaigns/"+big+"/payments", "payments", url.Values{"per_page": {"100"}}).Items
	second := c.page(t, "/v1/campaigns/"+big+"/payments", "payments", url.Values{"per_page": {"100"}, "page": {"2"}}).Items
	all := append(slices.Clone(first), second...)
	for i := 1; i < len(all); i++ {
		a, b := decode(t, all[i-1]), decode(t, all[i])
		ta, tb := parseTime(t, a.CreationDate), parseTime(t, b.CreationDate)
		if ta.After(tb) || ta.Equal(tb) && a.ID >= b.ID {
			t.Fatalf("payments %d and %d out of order: %s %s, %s %s", i-1, i, a.CreationDate, a.ID, b.CreationDate, b.ID)
		}
	}
	for _, q := range []url.Values{{"page": {"0"}}, {"page": {"-1"}}, {"page": {"x"}}, {"per_page": {"0"}}, {"per_page": {"1.5"}},
		{"page": {"99999999999999999999"}}} {
		a := c.get(t, "/v1/campaigns", q)
		checkError(t, a, http.StatusBadRequest)
	}
}

// checkError checks the seed's error shape {"error", "request_id", "status"}.
func checkError(t *testing.T, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	if got := keys(t, a.body); !slices.Equal(got, []string{"error", "request_id", "status"}) {
		t.Fatalf("error members %v: %s", got, a.body)
	}
	var e struct {
		Error     string `json:"error"`
		RequestID string `json:"request_id"`
		Status    int    `json:"status"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error == "" || e.Status != status || !requestIDPattern.MatchString(e.RequestID) {
		t.Errorf("error body %s", a.body)
	}
}

// Missing or wrong credentials are 401 in the seed's shape, before anything else is read.
func TestAuth(t *testing.T) {
	t.Parallel()
	s, base := sandbox(t, crowdtilttest.Options{Seed: 3, Campaigns: 3, Payments: 30, Key: "k3y-Crowdtilt", Secret: "s3cret:with:colons",
		From: rangeFrom, To: rangeTo, Now: func() time.Time { return later }})
	tests := []struct {
		name        string
		key, secret string
		header      string
		status      int
	}{
		{"right", "k3y-Crowdtilt", "s3cret:with:colons", "", http.StatusOK},
		{"none", "", "", "", http.StatusUnauthorized},
		{"wrong key", "k3y-crowdtilt", "s3cret:with:colons", "", http.StatusUnauthorized},
		{"wrong secret", "k3y-Crowdtilt", "s3cret", "", http.StatusUnauthorized},
		{"key only", "k3y-Crowdtilt", "", "", http.StatusUnauthorized},
		{"bearer", "", "", "Bearer k3y-Crowdtilt", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, base+"/v1/campaigns", nil)
			if tc.key != "" {
				req.SetBasicAuth(tc.key, tc.secret)
			}
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == http.StatusUnauthorized {
				checkError(t, answer{status: resp.StatusCode, body: b.Bytes()}, http.StatusUnauthorized)
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("no WWW-Authenticate")
				}
				if strings.Contains(b.String(), "k3y") || strings.Contains(b.String(), "s3cret") {
					t.Errorf("the error quotes the credentials: %s", b.String())
				}
			}
		})
	}
	if st := s.Stats(); st.Unauthorized != 5 || st.Pages != 1 {
		t.Errorf("stats %+v", st)
	}
}

// Unknown paths and ids are 404, other methods 405 with Allow, all in the error shape.
func TestRoutes(t *testing.T) {
	t.Parallel()
	s, base := small(t, 4)
	c := newClient(base)
	camp := s.Truth().Campaigns[0]
	for _, path := range []string{"/v2/campaigns", "/v1/campaign", "/v1/campaigns/CMP0/payments", "/v1/campaigns/" + camp + "/payments/CON0",
		"/v1/users/USR0", "/v1/users/USR0/payments", "/v1/campaigns/" + camp + "/settlements", "/v1//campaigns", "/v1x"} {
		t.Run(path, func(t *testing.T) { checkError(t, c.get(t, path, nil), http.StatusNotFound) })
	}
	a := c.do(t, http.MethodPost, "/v1/campaigns", nil)
	checkError(t, a, http.StatusMethodNotAllowed)
	if a.header.Get("Allow") != http.MethodGet {
		t.Errorf("Allow %q", a.header.Get("Allow"))
	}
	a = c.do(t, http.MethodGet, "/v1/campaigns/"+camp+"/payments/CON0/refund", nil)
	checkError(t, a, http.StatusMethodNotAllowed)
	if a.header.Get("Allow") != http.MethodPost {
		t.Errorf("Allow %q", a.header.Get("Allow"))
	}
	if st := s.Stats(); st.NotFound != 9 || st.MethodNotAllowed != 2 {
		t.Errorf("stats %+v", st)
	}
}

// A full walk at any page size reads exactly the truth: payments once each, counts and cents
// per status, payments and cents per campaign, and the users the campaigns and payments embed;
// it takes Truth.Pages requests.
func TestWalkMatchesTruth(t *testing.T) {
	t.Parallel()
	s, base := small(t, 5)
	tr := s.Truth()
	c := newClient(base)
	for _, perPage := range []int{100, 37} {
		w := c.walk(t, perPage)
		if w.requests != tr.Pages(perPage) {
			t.Errorf("per_page %d: %d requests, Truth.Pages %d", perPage, w.requests, tr.Pages(perPage))
		}
		var ids, campaigns []string
		users := map[string]bool{}
		count := map[string]int{}
		cents, userFees, adminFees := map[string]int64{}, map[string]int64{}, map[string]int64{}
		for _, raw := range w.campaigns {
			r := decode(t, raw)
			campaigns = append(campaigns, r.ID)
			users[r.Admin.ID] = true
			var sum int64
			for _, praw := range w.payments[r.ID] {
				p := decode(t, praw)
				ids = append(ids, p.ID)
				count[p.Status]++
				cents[p.Status] += p.Amount
				userFees[p.Status] += p.UserFeeAmount
				adminFees[p.Status] += p.AdminFeeAmount
				sum += p.Amount
				users[p.User.ID] = true
			}
			if len(w.payments[r.ID]) != tr.PerCampaign[r.ID] || sum != tr.CentsPerCampaign[r.ID] {
				t.Errorf("campaign %s: %d payments, %d cents; truth %d, %d", r.ID, len(w.payments[r.ID]), sum, tr.PerCampaign[r.ID], tr.CentsPerCampaign[r.ID])
			}
		}
		slices.Sort(ids)
		slices.Sort(campaigns)
		if !slices.Equal(ids, tr.IDs) || !slices.Equal(campaigns, tr.Campaigns) || len(users) != len(tr.Users) {
			t.Fatalf("per_page %d: %d payments, %d campaigns, %d users; truth %d, %d, %d", perPage, len(ids), len(campaigns), len(users),
				len(tr.IDs), len(tr.Campaigns), len(tr.Users))
		}
		for _, st := range crowdtilttest.Statuses() {
			if count[st] != tr.Payments[st] || cents[st] != tr.Cents[st] || userFees[st] != tr.UserFeeCents[st] || adminFees[st] != tr.AdminFeeCents[st] {
				t.Errorf("%s: %d, %d, %d, %d; truth %d, %d, %d, %d", st, count[st], cents[st], userFees[st], adminFees[st],
					tr.Payments[st], tr.Cents[st], tr.UserFeeCents[st], tr.AdminFeeCents[st])
			}
		}
	}
	if tr.Count != 400 || len(tr.IDs) != 400 {
		t.Errorf("truth counts %d payments, want 400", tr.Count)
	}
	for _, st := range crowdtilttest.Statuses() {
		if tr.Payments[st] == 0 {
			t.Errorf("no %s payment: %v", st, tr.Payments)
		}
	}
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return v
}

// Both of the seed's layouts occur where the seed uses each, every timestamp is one of them, and
// a payment's modification_date is at or after its creation_date.
func TestDateFormats(t *testing.T) {
	t.Parallel()
	s, base := small(t, 6)
	w := newClient(base).walk(t, 100)
	seen := map[string]map[string]int{} // field → layout → count
	note := func(field, v string) {
		layout := ""
		switch {
		case secondsPattern.MatchString(v):
			layout = "seconds"
		case microsPattern.MatchString(v):
			layout = "micros"
		default:
			t.Fatalf("%s %q is in neither layout", field, v)
		}
		if seen[field] == nil {
			seen[field] = map[string]int{}
		}
		seen[field][layout]++
	}
	for _, raw := range w.campaigns {
		r := decode(t, raw)
		note("campaign.creation_date", r.CreationDate)
		note("campaign.modification_date", r.ModificationDate)
		note("campaign.expiration_date", r.ExpirationDate)
		if !strings.HasSuffix(r.ExpirationDate, "T12:00:00Z") {
			t.Errorf("expiration_date %s is not noon", r.ExpirationDate)
		}
		for _, praw := range w.payments[r.ID] {
			p := decode(t, praw)
			note("payment.creation_date", p.CreationDate)
			note("payment.modification_date", p.ModificationDate)
			note("user.creation_date", p.User.CreationDate)
			if parseTime(t, p.ModificationDate).Before(parseTime(t, p.CreationDate)) {
				t.Errorf("payment %s modified %s before its creation %s", p.ID, p.ModificationDate, p.CreationDate)
			}
		}
	}
	for _, field := range []string{"campaign.creation_date", "payment.creation_date", "user.creation_date"} {
		if seen[field]["seconds"] == 0 || seen[field]["micros"] == 0 {
			t.Errorf("%s: layouts %v, want both", field, seen[field])
		}
	}
	if seen["payment.modification_date"]["micros"] != 0 || seen["campaign.expiration_date"]["micros"] != 0 {
		t.Errorf("processor dates and expirations must be whole seconds: %v", seen)
	}
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2011, 7, 2, 14, 20, 48, 0, time.UTC), "2011-07-02T14:20:48Z"},
		{time.Date(2013, 3, 19, 3, 29, 34, 605286000, time.UTC), "2013-03-19T03:29:34.605286000Z"},
		{time.Date(2013, 3, 19, 3, 29, 34, 605286000, time.FixedZone("x", 3600)), "2013-03-19T02:29:34.605286000Z"},
	} {
		if got := crowdtilttest.FormatTime(tc.t); got != tc.want {
			t.Errorf("FormatTime(%v) = %s, want %s", tc.t, got, tc.want)
		}
	}
	_ = s
}

// The same options give the same bytes; another seed other data.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	body := func(seed int64) []byte {
		_, base := small(t, seed)
		c := newClient(base)
		camps := c.page(t, "/v1/campaigns", "campaigns", url.Values{"per_page": {"100"}}).Items
		var b bytes.Buffer
		for _, raw := range camps {
			b.Write(raw)
			b.Write(c.get(t, "/v1/campaigns/"+decode(t, raw).ID+"/payments", url.Values{"per_page": {"100"}}).body)
		}
		return b.Bytes()
	}
	a, b, other := body(7), body(7), body(8)
	if !bytes.Equal(a, b) {
		t.Error("the same seed gave different answers")
	}
	if bytes.Equal(a, other) {
		t.Error("another seed gave the same answers")
	}
}

// The rate limit runs on the sandbox's clock: a burst of ⌈RPS⌉, then 429 with Retry-After until
// the clock moves.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	clk := newClock(later)
	s, base := sandbox(t, crowdtilttest.Options{Seed: 9, Campaigns: 3, Payments: 30, From: rangeFrom, To: rangeTo, RPS: 2, Now: clk.Now})
	c := newClient(base)
	for i := range 2 {
		if a := c.get(t, "/v1/campaigns", nil); a.status != http.StatusOK {
			t.Fatalf("request %d: status %d", i+1, a.status)
		}
	}
	a := c.get(t, "/v1/campaigns", nil)
	checkError(t, a, http.StatusTooManyRequests)
	if a.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", a.header.Get("Retry-After"))
	}
	clk.Add(500 * time.Millisecond)
	if a := c.get(t, "/v1/campaigns", nil); a.status != http.StatusOK {
		t.Errorf("after half a second: status %d", a.status)
	}
	if st := s.Stats(); st.RateLimited != 1 || st.Pages != 3 {
		t.Errorf("stats %+v", st)
	}
}

// A refund through the API: the payment is refunded at Now(), its modification_date moves, the
// truth follows; a refund of a payment that cannot be refunded is 400.
func TestRefund(t *testing.T) {
	t.Parallel()
	clk := newClock(later)
	s, base := sandbox(t, crowdtilttest.Options{Seed: 10, Campaigns: 5, Payments: 100, From: rangeFrom, To: rangeTo, Now: clk.Now})
	before := s.Truth()
	var target crowdtilttest.Payment
	for _, id := range before.IDs {
		if p, _ := s.Payment(id); p.Status == crowdtilttest.StatusCharged {
			target = p
			break
		}
	}
	if target.ID == "" {
		t.Fatal("no charged payment")
	}
	clk.Add(time.Minute)
	c := newClient(base)
	path := "/v1/campaigns/" + target.CampaignID + "/payments/" + target.ID + "/refund"
	if a := c.do(t, http.MethodPost, path, nil); a.status != http.StatusOK || string(a.body) != "{}" {
		t.Fatalf("refund: %d %s", a.status, a.body)
	}
	after, _ := s.Payment(target.ID)
	if after.Status != crowdtilttest.StatusRefunded || !after.ModificationDate.Equal(clk.Now()) {
		t.Errorf("after the refund: %+v", after)
	}
	tr := s.Truth()
	if tr.Cents[crowdtilttest.StatusRefunded] != before.Cents[crowdtilttest.StatusRefunded]+target.Amount {
		t.Errorf("refunded cents %d, before %d", tr.Cents[crowdtilttest.StatusRefunded], before.Cents[crowdtilttest.StatusRefunded])
	}
	checkError(t, c.do(t, http.MethodPost, path, nil), http.StatusBadRequest)
	checkError(t, c.do(t, http.MethodPost, "/v1/campaigns/CMP0/payments/"+target.ID+"/refund", nil), http.StatusNotFound)
	if st := s.Stats(); st.Refunds != 1 {
		t.Errorf("stats %+v", st)
	}
}

// Card data: every payment's card has a token id; a few echo the number and security code, which
// Secrets and Payment know.
func TestCardData(t *testing.T) {
	t.Parallel()
	s, base := small(t, 11)
	w := newClient(base).walk(t, 100)
	secrets := s.Secrets()
	echoed := 0
	for _, ps := range w.payments {
		for _, raw := range ps {
			p := decode(t, raw)
			held, _ := s.Payment(p.ID)
			if p.Card.ID != held.CardID || !slices.Contains(secrets, p.Card.ID) || p.Card.LastFour != held.CardNumber[len(held.CardNumber)-4:] {
				t.Fatalf("payment %s: card %s, held %+v", p.ID, p.Card.ID, held)
			}
			if p.Card.Number != nil {
				echoed++
				if !held.CardEchoed || *p.Card.Number != held.CardNumber || *p.Card.SecurityCode != held.CardSecurityCode || !slices.Contains(secrets, *p.Card.Number) {
					t.Errorf("payment %s: echoed %s/%s, held %+v", p.ID, *p.Card.Number, *p.Card.SecurityCode, held)
				}
			} else if held.CardEchoed {
				t.Errorf("payment %s: held as echoed, not echoed", p.ID)
			}
		}
	}
	if echoed == 0 || echoed > 40 {
		t.Errorf("%d payments echo their card number", echoed)
	}
}

// TruthCreated counts the payments created in a range; with the whole range it is Truth.
func TestTruthCreated(t *testing.T) {
	t.Parallel()
	s, _ := small(t, 12)
	all, whole := s.Truth(), s.TruthCreated(rangeFrom, rangeTo)
	a, _ := json.Marshal(all)
	b, _ := json.Marshal(whole)
	if !bytes.Equal(a, b) {
		t.Error("TruthCreated over the whole range differs from Truth")
	}
	mid := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	first, second := s.TruthCreated(rangeFrom, mid), s.TruthCreated(mid, rangeTo)
	if first.Count+second.Count != all.Count || first.Count == 0 || second.Count == 0 {
		t.Errorf("%d + %d payments, truth %d", first.Count, second.Count, all.Count)
	}
	for _, id := range first.IDs {
		p, _ := s.Payment(id)
		if p.CreationDate.Before(rangeFrom) || !p.CreationDate.Before(mid) {
			t.Fatalf("payment %s created %v is outside the range", id, p.CreationDate)
		}
	}
	for _, st := range crowdtilttest.Statuses() {
		if first.Cents[st]+second.Cents[st] != all.Cents[st] {
			t.Errorf("%s: cents do not add up", st)
		}
	}
}

// The default sandbox has the figures its documentation gives.
func TestDefaultFigures(t *testing.T) {
	t.Parallel()
	s := crowdtilttest.New(crowdtilttest.Options{Seed: 1, Now: func() time.Time { return later }})
	from, to := s.Range()
	if !to.Equal(later) || !from.Equal(later.AddDate(-1, 0, 0)) {
		t.Errorf("range [%v, %v)", from, to)
	}
	tr := s.Truth()
	var zero, big, full int
	for _, n := range tr.PerCampaign {
		switch {
		case n == 0:
			zero++
		case n == crowdtilttest.MaxPerPage:
			full++
		case n > crowdtilttest.MaxPerPage:
			big++
		}
	}
	if len(tr.Campaigns) != crowdtilttest.DefaultCampaigns || tr.Count != crowdtilttest.DefaultPayments || zero < 3 || big < 3 || full != 1 ||
		len(tr.Users) < 1000 {
		t.Errorf("%d campaigns (%d without payments, %d with more than a page, %d with exactly one), %d payments, %d users",
			len(tr.Campaigns), zero, big, full, tr.Count, len(tr.Users))
	}
	t.Logf("default sandbox: %d campaigns, %d payments, %d users, %d pages in a walk at 100 per page; payments by status %v",
		len(tr.Campaigns), tr.Count, len(tr.Users), tr.Pages(100), tr.Payments)
}
