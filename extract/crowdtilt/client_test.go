package crowdtilt_test

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
	"github.com/ccsync/ccsync/extract/crowdtilt"
)

func TestHeadersAndQueries(t *testing.T) {
	t.Parallel()
	camps := pages{member: "campaigns", items: []json.RawMessage{campaignJSON("CMPBDA")}, maxPer: 100}
	pays := pages{member: "payments", items: seqPayments(230), maxPer: 100}
	h := newHarness(t, func(n int, r *http.Request) reply {
		if strings.HasSuffix(r.URL.Path, "/payments") {
			return pays.serve(r)
		}
		return camps.serve(r)
	})
	ctx := context.Background()
	if err := h.client.Check(ctx); err != nil {
		t.Fatal(err)
	}
	cres, err := h.client.Campaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pres, err := h.client.Payments(ctx, "CMPBDA")
	if err != nil {
		t.Fatal(err)
	}
	if len(cres.Records) != 1 || cres.Pages != 1 || len(pres.Records) != 230 || pres.Pages != 3 || pres.Total != 230 || pres.Passes != 1 {
		t.Fatalf("campaigns %d in %d pages; payments %d in %d pages (total %d, passes %d)", len(cres.Records), cres.Pages,
			len(pres.Records), pres.Pages, pres.Total, pres.Passes)
	}
	if got := ids(pres.Records); !slices.Equal(got, seqIDs("CON", 1, 230)) {
		t.Errorf("payments %v…", got[:3])
	}
	want := []struct{ path, page, perPage string }{
		{"/v1/campaigns", "1", "1"},
		{"/v1/campaigns", "1", "100"},
		{"/v1/campaigns/CMPBDA/payments", "1", "100"},
		{"/v1/campaigns/CMPBDA/payments", "2", "100"},
		{"/v1/campaigns/CMPBDA/payments", "3", "100"},
	}
	reqs := h.api.requests()
	if len(reqs) != len(want) {
		t.Fatalf("%d requests, want %d", len(reqs), len(want))
	}
	for i, w := range want {
		r := reqs[i]
		if r.path != w.path || r.query.Get("page") != w.page || r.query.Get("per_page") != w.perPage || len(r.query) != 2 {
			t.Errorf("request %d: %s %v, want %+v", i+1, r.path, r.query, w)
		}
		for name, v := range map[string]string{"Authorization": testAuthorization, "Accept": "application/json", "User-Agent": "ccsync/1.2.3"} {
			if got := r.header.Values(name); len(got) != 1 || got[0] != v {
				t.Errorf("request %d: %s = %q, want %q", i+1, name, got, v)
			}
		}
	}
	for _, r := range pres.Records {
		if r.Kind != crowdtilt.KindPayment || r.CampaignID != "CMPBDA" || r.Payment == nil || r.Err != nil {
			t.Fatalf("record %+v", r)
		}
	}
	if st := h.client.Stats(); st.Requests != 5 || st.Pages != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestErrorFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		status       int
		header       map[string]string
		body         string
		want         crowdtilt.APIError
		forbidden    bool
		notFound     bool
		transient    bool
		wantRequests int
	}{
		{
			name: "401 in the seed's shape", status: 401,
			body:      `{"error":"Unauthorized","request_id":"REQ5735A0D8601F11E2998D00347AC0CAB6","status":401}`,
			want:      crowdtilt.APIError{StatusCode: 401, Message: "Unauthorized", RequestID: "REQ5735A0D8601F11E2998D00347AC0CAB6"},
			forbidden: true, wantRequests: 1,
		},
		{
			name: "403 with an object error", status: 403,
			body:      `{"error":{"key":"is suspended","secret":"expired"},"status":403}`,
			want:      crowdtilt.APIError{StatusCode: 403, Message: "key: is suspended; secret: expired"},
			forbidden: true, wantRequests: 1,
		},
		{
			name: "401 with an HTML body and a request id header", status: 401, header: map[string]string{"X-Request-Id": "req_h"},
			body:      `<html>Unauthorized</html>`,
			want:      crowdtilt.APIError{StatusCode: 401, RequestID: "req_h"},
			forbidden: true, wantRequests: 1,
		},
		{
			name: "an error in a 200 body names its status", status: 200,
			body:      `{"error":"Unauthorized","request_id":"REQ1","status":401}`,
			want:      crowdtilt.APIError{StatusCode: 401, Message: "Unauthorized", RequestID: "REQ1"},
			forbidden: true, wantRequests: 1,
		},
		{
			name: "404", status: 404,
			body:     `{"error":"Not Found","request_id":"REQ2","status":404}`,
			want:     crowdtilt.APIError{StatusCode: 404, Message: "Not Found", RequestID: "REQ2"},
			notFound: true, wantRequests: 1,
		},
		{
			name: "400 echoing the credentials", status: 400,
			body:         `{"error":"bad key ` + testKey + ` or secret ` + testSecret + ` (` + testKey + `:` + testSecret + `)","status":400}`,
			want:         crowdtilt.APIError{StatusCode: 400, Message: "bad key [redacted] or secret [redacted] ([redacted])"},
			wantRequests: 1,
		},
		{
			name: "400 quoting card data", status: 400,
			body:         `{"error":["card ` + testCardToken + ` declined","number 4111-1111-1111-1111 invalid","order 1234567890123"],"card":{"id":"` + testCardToken + `"},"status":400}`,
			want:         crowdtilt.APIError{StatusCode: 400, Message: "card [redacted] declined; number [redacted] invalid; order 1234567890123"},
			wantRequests: 1,
		},
		{
			name: "500 every time: retried to the last attempt", status: 500,
			body:      `{"error":"Internal Server Error","request_id":"REQ5","status":500}`,
			want:      crowdtilt.APIError{StatusCode: 500, Message: "Internal Server Error", RequestID: "REQ5"},
			transient: true, wantRequests: 4,
		},
		{
			name: "429 every time", status: 429, header: map[string]string{"Retry-After": "0"},
			body:      `{"error":"Too Many Requests","status":429}`,
			want:      crowdtilt.APIError{StatusCode: 429, Message: "Too Many Requests"},
			transient: true, wantRequests: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(int, *http.Request) reply {
				return reply{status: tt.status, header: tt.header, body: []byte(tt.body)}
			})
			_, err := h.client.Campaigns(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			var ae *crowdtilt.APIError
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
			if got := len(h.api.requests()); got != tt.wantRequests {
				t.Errorf("%d requests, want %d", got, tt.wantRequests)
			}
			if tt.forbidden && (!strings.Contains(err.Error(), config.CrowdtiltKeyEnv) || !strings.Contains(err.Error(), config.CrowdtiltSecretEnv)) {
				t.Errorf("a refused key's error %q does not say where the credentials come from", err)
			}
			if !strings.HasPrefix(err.Error(), "listing campaigns: reading page 1: ") {
				t.Errorf("error %q does not say what was being done", err)
			}
			for _, leak := range []string{testKey, testSecret, testCardToken, "4111-1111-1111-1111"} {
				if strings.Contains(err.Error(), leak) || strings.Contains(h.logs.all(), leak) {
					t.Errorf("%q leaked: %v\n%s", leak, err, h.logs.all())
				}
			}
		})
	}
}

// 429 and 5xx are retried honouring Retry-After, truncated or non-envelope 2xx bodies too; the
// listing then succeeds.
func TestRetries(t *testing.T) {
	t.Parallel()
	good := listBody("campaigns", []json.RawMessage{campaignJSON("CMP1")}, map[string]any{"page": 1, "entries_on_this_page": 1,
		"total_pages": 1, "total_entries": 1, "per_page": 100})
	tests := []struct {
		name  string
		first reply
		waits []time.Duration
	}{
		{"429 with Retry-After seconds", reply{status: 429, header: map[string]string{"Retry-After": "7"}, body: []byte(`{"error":"Too Many Requests"}`)}, []time.Duration{7 * time.Second}},
		{"429 with Retry-After as a date", reply{status: 429, header: map[string]string{"Retry-After": testNow.Add(3 * time.Second).Format(http.TimeFormat)}}, []time.Duration{3 * time.Second}},
		{"503 without Retry-After: jittered backoff", reply{status: 503}, []time.Duration{500 * time.Millisecond}},
		{"502 with an HTML body", reply{status: 502, body: []byte("<html>502 Bad Gateway</html>")}, []time.Duration{500 * time.Millisecond}},
		{"truncated body", reply{body: good[:len(good)/2]}, []time.Duration{500 * time.Millisecond}},
		{"HTML in a 200", reply{body: []byte("<html>maintenance</html>")}, []time.Duration{500 * time.Millisecond}},
		{"not an envelope", reply{body: []byte(`{"pagination":{},"a":[],"b":[]}`)}, []time.Duration{500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(n int, _ *http.Request) reply {
				if n == 1 {
					return tt.first
				}
				return reply{body: good}
			})
			res, err := h.client.Campaigns(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Records) != 1 || res.Requests != 2 || res.Pages != 1 {
				t.Errorf("%d records, %d requests, %d pages", len(res.Records), res.Requests, res.Pages)
			}
			if got := h.sleeps.recorded(); !slices.Equal(got, tt.waits) {
				t.Errorf("waits %v, want %v", got, tt.waits)
			}
			if st := h.client.Stats(); st.Retries != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// A listing ends when the signals say so, never on total_pages alone, and fails on paging it cannot
// trust.
func TestPagingTermination(t *testing.T) {
	t.Parallel()
	full := func(n int) pages { return pages{member: "payments", items: seqPayments(n), maxPer: 100} }
	tests := []struct {
		name      string
		p         pages
		noPg      bool // serve without the pagination object
		opts      []extract.Option
		wantIDs   int
		wantPages int
		wantErr   error
	}{
		{name: "a short last page", p: full(230), wantIDs: 230, wantPages: 3},
		{name: "a full last page that both signals confirm", p: full(200), wantIDs: 200, wantPages: 2},
		{name: "exactly one full page", p: full(100), wantIDs: 100, wantPages: 1},
		{name: "an empty list", p: full(0), wantIDs: 0, wantPages: 1},
		{name: "total_pages lying low: total_entries says more", p: pages{member: "payments", items: seqPayments(250), maxPer: 100,
			edit: func(_ int, pg map[string]any, it []json.RawMessage) []json.RawMessage {
				pg["total_pages"] = 1
				return it
			}},
			wantIDs: 250, wantPages: 3},
		{name: "total_pages alone says last on a full page: one more request", p: pages{member: "payments", items: seqPayments(100), maxPer: 100,
			edit: func(_ int, pg map[string]any, it []json.RawMessage) []json.RawMessage {
				delete(pg, "total_entries")
				return it
			}},
			wantIDs: 100, wantPages: 2},
		{name: "total_entries lying low on full pages: read on", p: pages{member: "payments", items: seqPayments(150), maxPer: 100,
			edit: func(_ int, pg map[string]any, it []json.RawMessage) []json.RawMessage {
				pg["total_entries"] = 60
				pg["total_pages"] = 1
				return it
			}},
			wantIDs: 150, wantPages: 2},
		{name: "pages capped at 50, said in per_page", p: pages{member: "payments", items: seqPayments(120), maxPer: 50}, wantIDs: 120, wantPages: 3},
		{name: "without pagination: full pages, then the empty one", p: full(200), noPg: true, wantIDs: 200, wantPages: 3},
		{name: "without pagination: a short page of a round length is confirmed", p: pages{member: "payments", items: seqPayments(90), maxPer: 30},
			noPg: true, wantIDs: 90, wantPages: 4},
		{name: "without pagination: a short page of another length ends", p: full(57), noPg: true, wantIDs: 57, wantPages: 1},
		{name: "the page parameter ignored, said in pagination.page", p: pages{member: "payments", items: seqPayments(250), maxPer: 100,
			edit: func(page int, pg map[string]any, _ []json.RawMessage) []json.RawMessage {
				pg["page"] = 1
				return seqPayments(100)
			}}, wantErr: extract.ErrPagingBroken},
		{name: "the page parameter ignored, no pagination: the same page twice", p: pages{member: "payments", items: seqPayments(250), maxPer: 100,
			edit: func(int, map[string]any, []json.RawMessage) []json.RawMessage { return seqPayments(100) }}, noPg: true,
			wantErr: extract.ErrPagingBroken},
		{name: "pages without a new record, each different", p: pages{member: "payments", items: seqPayments(400), maxPer: 100,
			edit: func(page int, _ map[string]any, _ []json.RawMessage) []json.RawMessage {
				return seqPayments(100)[page-1:] // the same records again, one fewer each time: never a new one
			}}, wantErr: extract.ErrPagingBroken},
		{name: "total_entries above what the pages hold: two passes, then incomplete", p: pages{member: "payments", items: seqPayments(150), maxPer: 100,
			edit: func(_ int, pg map[string]any, it []json.RawMessage) []json.RawMessage {
				pg["total_entries"] = 160
				pg["total_pages"] = 2
				return it
			}},
			wantErr: crowdtilt.ErrIncomplete},
		{name: "no last page within the page budget", p: pages{member: "payments", items: seqPayments(1000), maxPer: 100},
			opts: []extract.Option{extract.WithMaxPages(3)}, wantErr: extract.ErrPagingBroken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(_ int, r *http.Request) reply {
				rep := tt.p.serve(r)
				if tt.noPg {
					var m map[string]json.RawMessage
					_ = json.Unmarshal(rep.body, &m)
					delete(m, "pagination")
					rep.body, _ = json.Marshal(m)
				}
				return rep
			}, tt.opts...)
			res, err := h.client.Payments(context.Background(), "CMPBDA")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if extract.IsTransient(err) {
					t.Errorf("%v is transient", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(res.Records); !slices.Equal(got, seqIDs("CON", 1, tt.wantIDs)) || res.Pages != tt.wantPages {
				t.Errorf("%d records in %d pages, want %d in %d", len(got), res.Pages, tt.wantIDs, tt.wantPages)
			}
		})
	}
}

// Overlapping pages (a record inserted before the reading position shifts the rest): the repeat
// is dropped and counted, nothing is lost.
func TestDuplicatesAcrossPages(t *testing.T) {
	t.Parallel()
	items := seqPayments(150)
	h := newHarness(t, func(_ int, r *http.Request) reply {
		p := pages{member: "payments", items: items, maxPer: 100}
		if r.URL.Query().Get("page") == "2" { // page 2 starts one early
			p.edit = func(_ int, _ map[string]any, _ []json.RawMessage) []json.RawMessage { return items[99:] }
		}
		return p.serve(r)
	})
	res, err := h.client.Payments(context.Background(), "CMPBDA")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 150 || res.Duplicates != 1 || res.Passes != 1 {
		t.Errorf("%d records, %d duplicates, %d passes", len(res.Records), res.Duplicates, res.Passes)
	}
}

// An item without a usable id is quarantined whole; a mistyped field empties that field only and
// is named; both layouts of the seed's dates are read.
func TestRecordsDecoding(t *testing.T) {
	t.Parallel()
	items := []json.RawMessage{
		json.RawMessage(`{"id":"CON1","status":"charged","amount":"2000","user_fee_amount":4.5,"admin_fee_amount":40,` +
			`"creation_date":"2013-03-19T03:38:38.736326000Z","modification_date":"2013-03-19T03:38:41Z","metadata":{"reward":"T-shirt"}}`),
		json.RawMessage(`{"status":"charged","amount":100}`),
		json.RawMessage(`{"id":12,"amount":100}`),
		json.RawMessage(`{"id":"CON/../x","amount":100}`),
		json.RawMessage(`{"id":"CON2","amount":300,"campaign":"CMPBDA","creation_date":"yesterday","modification_date":null}`),
	}
	h := newHarness(t, func(int, *http.Request) reply {
		return reply{body: listBody("payments", items, map[string]any{"page": 1, "total_pages": 1, "total_entries": 5, "per_page": 100})}
	})
	res, err := h.client.Payments(context.Background(), "CMPBDA")
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(res.Records); !slices.Equal(got, []string{"CON1", "CON2"}) || len(res.Quarantined) != 3 {
		t.Fatalf("records %v, %d quarantined", got, len(res.Quarantined))
	}
	for i, q := range res.Quarantined {
		if q.Page != 1 || q.Position != i+1 || string(q.Raw) != string(items[i+1]) || q.Reason == "" {
			t.Errorf("quarantined %d: %+v", i, q)
		}
	}
	one := res.Records[0]
	p := one.Payment
	if *p.Amount != 2000 || p.UserFeeAmount != nil || *p.AdminFeeAmount != 40 || *p.Status != "charged" || string(p.Metadata) != `{"reward":"T-shirt"}` {
		t.Errorf("CON1: %+v", p)
	}
	if one.Err == nil || !strings.Contains(one.Err.Error(), "user_fee_amount") || strings.Contains(one.Err.Error(), "4.5") {
		t.Errorf("CON1: Err %v", one.Err)
	}
	if !one.CreationDate.Equal(time.Date(2013, 3, 19, 3, 38, 38, 736326000, time.UTC)) ||
		!one.ModificationDate.Equal(time.Date(2013, 3, 19, 3, 38, 41, 0, time.UTC)) || one.CreationDate.Location() != time.UTC {
		t.Errorf("CON1: dates %v, %v", one.CreationDate, one.ModificationDate)
	}
	two := res.Records[1]
	if two.Err == nil || !strings.Contains(two.Err.Error(), "campaign") || !strings.Contains(two.Err.Error(), "creation_date") ||
		*two.Payment.Amount != 300 || !two.CreationDate.IsZero() || strings.Contains(two.Err.Error(), "yesterday") {
		t.Errorf("CON2: %+v, Err %v", two.Payment, two.Err)
	}
	if strings.Contains(h.logs.all(), "yesterday") || strings.Contains(h.logs.all(), "T-shirt") {
		t.Errorf("a value reached the log:\n%s", h.logs.all())
	}
}

func TestUser(t *testing.T) {
	t.Parallel()
	user := `{"id":"USREC5","email":"foo.bar@gmail.com","firstname":"Foo","lastname":"Bar","is_verified":0,` +
		`"creation_date":"2011-07-02T14:20:48Z","modification_date":"2011-09-02T14:20:48Z","uri":"/v1/users/USREC5",` +
		`"cards_uri":"/v1/users/USREC5/cards","banks_uri":"/v1/users/USREC5/banks","campaigns_uri":"/v1/users/USREC5/campaigns",` +
		`"payments_uri":"/v1/users/USREC5/payments","metadata" : { "img" : "http://www.example.com/path-to-profile-image" }}`
	tests := []struct {
		name    string
		id      string
		rep     reply
		wantErr []error
	}{
		{name: "the seed's user", id: "USREC5", rep: reply{body: []byte(`{"user": ` + user + `}`)}},
		{name: "unknown", id: "USR000", rep: reply{status: 404, body: []byte(`{"error":"Not Found","status":404}`)},
			wantErr: []error{crowdtilt.ErrUnknownID, extract.ErrNotFound}},
		{name: "refused", id: "USREC5", rep: reply{status: 401, body: []byte(`{"error":"Unauthorized","status":401}`)},
			wantErr: []error{extract.ErrForbidden}},
		{name: "another user", id: "USR999", rep: reply{body: []byte(`{"user": ` + user + `}`)}, wantErr: []error{}},
		{name: "another envelope", id: "USREC5", rep: reply{body: []byte(`{"campaign": ` + user + `}`)}, wantErr: []error{}},
		{name: "an id that is not one", id: "USR/../../campaigns", wantErr: []error{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(_ int, r *http.Request) reply { return tt.rep })
			rec, err := h.client.User(context.Background(), tt.id)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("no error")
				}
				for _, want := range tt.wantErr {
					if !errors.Is(err, want) {
						t.Errorf("err = %v, want %v", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if reqs := h.api.requests(); len(reqs) != 1 || reqs[0].path != "/v1/users/USREC5" {
				t.Errorf("requests %+v", reqs)
			}
			u := rec.User
			if rec.Kind != crowdtilt.KindUser || rec.ID != "USREC5" || *u.Email != "foo.bar@gmail.com" || *u.IsVerified != 0 ||
				string(rec.Raw) != user || rec.IsReference() || rec.ModificationDate.Format(time.RFC3339) != "2011-09-02T14:20:48Z" {
				t.Errorf("user %+v", rec)
			}
		})
	}
}

func TestNewClientRefusesABadConfiguration(t *testing.T) {
	t.Parallel()
	good := testConfig("https://api.example.org")
	tests := []struct {
		name string
		edit func(*config.Crowdtilt, *config.API)
		want string
	}{
		{"no key", func(c *config.Crowdtilt, _ *config.API) { c.Key = "" }, config.CrowdtiltKeyEnv},
		{"no secret", func(c *config.Crowdtilt, _ *config.API) { c.Secret = "" }, config.CrowdtiltSecretEnv},
		{"a colon in the key", func(c *config.Crowdtilt, _ *config.API) { c.Key = "a:bcdefgh" }, "colon"},
		{"a space in the secret", func(c *config.Crowdtilt, _ *config.API) { c.Secret = "abc defgh" }, "white space"},
		{"plain http elsewhere", func(c *config.Crowdtilt, _ *config.API) { c.URL = "http://api.example.org" }, "plain http"},
		{"a user in the URL", func(c *config.Crowdtilt, _ *config.API) { c.URL = "https://" + testKey + ":x@api.example.org" }, "no user"},
		{"not a URL", func(c *config.Crowdtilt, _ *config.API) { c.URL = "api.example.org" }, "absolute"},
		{"a bad rate", func(_ *config.Crowdtilt, a *config.API) { a.Rate = -1 }, "rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, api := good, testAPI()
			tt.edit(&cfg, &api)
			_, err := crowdtilt.NewClient(cfg, api, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), testSecret) {
				t.Errorf("the error quotes a credential: %v", err)
			}
		})
	}
	// Unset fields take their defaults: the default URL, and the shared HTTP settings.
	if _, err := crowdtilt.NewClient(config.Crowdtilt{Key: testKey, Secret: testSecret}, config.API{}, nil); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestDecimalString(t *testing.T) {
	t.Parallel()
	for cents, want := range map[int64]string{
		0: "0.00", 5: "0.05", 40: "0.40", 1234: "12.34", 2000: "20.00", 300000: "3000.00", -5: "-0.05", -1234: "-12.34",
		9223372036854775807: "92233720368547758.07", -9223372036854775808: "-92233720368547758.08",
	} {
		if got := crowdtilt.DecimalString(cents); got != want {
			t.Errorf("DecimalString(%d) = %s, want %s", cents, got, want)
		}
	}
}

func TestContentHash(t *testing.T) {
	t.Parallel()
	base := `{"id":"CON1","status":"charged","amount":2000,"campaign":{"id":"CMP1","title":"A","stats":{"raised_amount":1}},` +
		`"user":{"id":"USR1","lastname":"Bar"},"card":{"last_four":"1111","user":{"id":"USR1","lastname":"Bar"}},` +
		`"modification_date":"2012-10-20T15:45:47Z","metadata":{"user":{"id":"x","n":1}}}`
	h := crowdtilt.ContentHash([]byte(base))
	same := []string{
		// members reordered, white space, escapes
		"{ \"status\" : \"charged\",\n \"id\":\"CON1\",\"amount\":2000,\"metadata\":{\"user\":{\"n\":1,\"id\":\"x\"}},\"modification_date\":\"2012-10-20T15:45:47Z\"," +
			`"campaign":{"id":"CMP1","title":"A","stats":{"raised_amount":1}},"user":{"id":"USR1","lastname":"Bar"},"card":{"last_four":"1111","user":{"id":"USR1","lastname":"Bar"}}}`,
		strings.Replace(base, `"charged"`, `"\u0063harged"`, 1),
		// an embedded campaign or user changed: versioned on their own
		strings.Replace(base, `"title":"A","stats":{"raised_amount":1}`, `"title":"B","stats":{"raised_amount":9}`, 1),
		strings.ReplaceAll(base, `"lastname":"Bar"`, `"lastname":"Baz"`),
	}
	for i, s := range same {
		if got := crowdtilt.ContentHash([]byte(s)); got != h {
			t.Errorf("variant %d hashes differently: %s", i, s)
		}
	}
	differ := []string{
		strings.Replace(base, `"charged"`, `"refunded"`, 1),
		strings.Replace(base, `15:45:47Z`, `15:45:48Z`, 1),
		strings.Replace(base, `"n":1`, `"n":2`, 1), // metadata is the record's own, kept whole
		strings.Replace(base, `"last_four":"1111"`, `"last_four":"4444"`, 1),
		strings.Replace(base, `"id":"CMP1"`, `"id":"CMP2"`, 1),
		strings.Replace(base, `2000`, `2000.0`, 1),
	}
	for i, s := range differ {
		if got := crowdtilt.ContentHash([]byte(s)); got == h {
			t.Errorf("variant %d hashes the same: %s", i, s)
		}
	}
	if len(h) != 64 || crowdtilt.ContentHash([]byte("{")) == crowdtilt.ContentHash([]byte("[")) {
		t.Errorf("hash %q", h)
	}
	// A campaign's stats are its own: they move without its modification_date.
	c1 := campaignJSON("CMP1")
	c2 := []byte(strings.Replace(string(c1), `"raised_amount":0`, `"raised_amount":3000`, 1))
	if crowdtilt.ContentHash(c1) == crowdtilt.ContentHash(c2) {
		t.Error("a campaign's stats change is not seen")
	}
}

func TestEmbeddedAndCollectedUsers(t *testing.T) {
	t.Parallel()
	full := func(id, mod, name string) string {
		return fmt.Sprintf(`{"id":%q,"email":"%s@example.org","lastname":%q,"creation_date":"2011-07-02T14:20:48Z","modification_date":%q}`, id, id, name, mod)
	}
	campaign := `{"id":"CMP1","admin":` + full("USRA", "2012-01-01T00:00:00Z", "Admin") + `,"first_contributor":{"id":"USRB","uri":"/v1/users/USRB"},"tilter":null}`
	payment := `{"id":"CON1","campaign":` + campaign + `,"card":{"last_four":"1111","user":` + full("USRB", "2013-01-01T00:00:00Z", "Old") + `},` +
		`"user":` + full("USRB", "2013-01-01T00:00:00Z", "Old") + `}`
	later := `{"id":"CON2","user":` + full("USRB", "2014-01-01T00:00:00.5Z", "New") + `,"card":{"user":{"id":12}}}`
	rec := func(kind crowdtilt.Kind, id, raw string) crowdtilt.Record {
		return crowdtilt.Record{Kind: kind, ID: id, Raw: json.RawMessage(raw)}
	}
	got := crowdtilt.EmbeddedUsers(rec(crowdtilt.KindPayment, "CON1", payment))
	if len(got) != 4 || ids(got)[0] != "USRB" || ids(got)[2] != "USRA" || !got[3].IsReference() || got[0].IsReference() {
		t.Fatalf("embedded users %v", ids(got))
	}
	if string(got[2].Raw) != full("USRA", "2012-01-01T00:00:00Z", "Admin") || *got[2].User.Lastname != "Admin" {
		t.Errorf("admin %s", got[2].Raw)
	}
	users := crowdtilt.CollectUsers(
		[]crowdtilt.Record{rec(crowdtilt.KindCampaign, "CMP1", campaign)},
		[]crowdtilt.Record{rec(crowdtilt.KindPayment, "CON1", payment), rec(crowdtilt.KindPayment, "CON2", later)},
	)
	if !slices.Equal(ids(users), []string{"USRA", "USRB"}) {
		t.Fatalf("collected %v", ids(users))
	}
	if b := users[1]; b.IsReference() || *b.User.Lastname != "New" {
		t.Errorf("USRB: %s", b.Raw)
	}
	if len(crowdtilt.EmbeddedUsers(rec(crowdtilt.KindUser, "USRA", full("USRA", "2012-01-01T00:00:00Z", "A")))) != 0 {
		t.Error("a user embeds users")
	}
}
