package crowdtilttest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract/crowdtilt/crowdtilttest"
)

// The range of the generated data in most tests, and a clock after it (every generated history
// has unfolded), in the afternoon so that a test moving it by minutes crosses no expiration
// (campaigns expire at noon).
var (
	rangeFrom = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	rangeTo   = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	later     = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sandbox starts a sandbox closed at the end of the test.
func sandbox(t *testing.T, opts crowdtilttest.Options) (*crowdtilttest.Server, string) {
	t.Helper()
	s, ts := crowdtilttest.Start(opts)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// small is a sandbox of 10 campaigns and 400 payments over [rangeFrom, rangeTo), seen at later.
func small(t *testing.T, seed int64) (*crowdtilttest.Server, string) {
	return sandbox(t, crowdtilttest.Options{Seed: seed, Campaigns: 10, Payments: 400, From: rangeFrom, To: rangeTo,
		Now: func() time.Time { return later }})
}

// client sends requests the way a Crowdtilt client does.
type client struct {
	base        string
	key, secret string // empty key: no Authorization header
}

func newClient(base string) client {
	return client{base: base, key: crowdtilttest.DefaultKey, secret: crowdtilttest.DefaultSecret}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (c client) do(t *testing.T, method, path string, q url.Values) answer {
	t.Helper()
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.key != "" {
		req.SetBasicAuth(c.key, c.secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func (c client) get(t *testing.T, path string, q url.Values) answer {
	t.Helper()
	return c.do(t, http.MethodGet, path, q)
}

// pagination is the seed's pagination object.
type pagination struct {
	Page              int `json:"page"`
	EntriesOnThisPage int `json:"entries_on_this_page"`
	TotalPages        int `json:"total_pages"`
	TotalEntries      int `json:"total_entries"`
	PerPage           int `json:"per_page"`
}

// listPage is one list answer: its pagination and the items of its list member.
type listPage struct {
	Pagination pagination
	Items      []json.RawMessage
}

// page gets one list page, failing the test on anything but a 200 with the list envelope.
func (c client) page(t *testing.T, path, member string, q url.Values) listPage {
	t.Helper()
	a := c.get(t, path, q)
	if a.status != http.StatusOK {
		t.Fatalf("GET %s?%s: status %d: %s", path, q.Encode(), a.status, a.body)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("GET %s?%s: %v", path, q.Encode(), err)
	}
	var p listPage
	if err := json.Unmarshal(m["pagination"], &p.Pagination); err != nil {
		t.Fatalf("GET %s: pagination: %v", path, err)
	}
	if err := json.Unmarshal(m[member], &p.Items); err != nil || m[member] == nil {
		t.Fatalf("GET %s: no %q list: %s", path, member, a.body)
	}
	return p
}

// all pages through a list with per_page until a page shorter than per_page, and checks that
// every page's pagination agrees with what it holds.
func (c client) all(t *testing.T, path, member string, perPage int) ([]json.RawMessage, int) {
	t.Helper()
	var out []json.RawMessage
	requests := 0
	for page := 1; ; page++ {
		p := c.page(t, path, member, url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(perPage)}})
		requests++
		pg := p.Pagination
		if pg.Page != page || pg.PerPage != perPage || pg.EntriesOnThisPage != len(p.Items) ||
			pg.TotalPages != max(1, (pg.TotalEntries+perPage-1)/perPage) {
			t.Fatalf("%s page %d: pagination %+v for %d items", path, page, pg, len(p.Items))
		}
		out = append(out, p.Items...)
		if page >= pg.TotalPages {
			if len(out) != pg.TotalEntries {
				t.Fatalf("%s: %d items read, total_entries %d", path, len(out), pg.TotalEntries)
			}
			return out, requests
		}
	}
}

// record is the part of a served campaign, payment or user the tests read.
type record struct {
	ID               string          `json:"id"`
	Status           string          `json:"status"`
	Amount           int64           `json:"amount"`
	UserFeeAmount    int64           `json:"user_fee_amount"`
	AdminFeeAmount   int64           `json:"admin_fee_amount"`
	Title            string          `json:"title"`
	ExpirationDate   string          `json:"expiration_date"`
	CreationDate     string          `json:"creation_date"`
	ModificationDate string          `json:"modification_date"`
	IsVerified       int             `json:"is_verified"`
	Metadata         json.RawMessage `json:"metadata"`
	Campaign         *record         `json:"campaign"`
	User             *record         `json:"user"`
	Admin            *record         `json:"admin"`
	FirstContributor *record         `json:"first_contributor"`
	Tilter           *record         `json:"tilter"`
	Card             *struct {
		ID           string  `json:"id"`
		Number       *string `json:"number"`
		SecurityCode *string `json:"security_code"`
		LastFour     string  `json:"last_four"`
		User         *record `json:"user"`
	} `json:"card"`
	Stats *struct {
		TiltPercent           int64 `json:"tilt_percent"`
		RaisedAmount          int64 `json:"raised_amount"`
		UniqueContributors    int64 `json:"unique_contributors"`
		NumberOfContributions int64 `json:"number_of_contributions"`
	} `json:"stats"`
}

func decode(t *testing.T, raw json.RawMessage) record {
	t.Helper()
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return r
}

// walk is a full walk: every campaign, then every campaign's payments, at perPage.
type walk struct {
	campaigns []json.RawMessage
	payments  map[string][]json.RawMessage // by campaign id
	requests  int
}

func (c client) walk(t *testing.T, perPage int) walk {
	t.Helper()
	w := walk{payments: map[string][]json.RawMessage{}}
	var n int
	w.campaigns, n = c.all(t, "/v1/campaigns", "campaigns", perPage)
	w.requests += n
	for _, raw := range w.campaigns {
		id := decode(t, raw).ID
		w.payments[id], n = c.all(t, "/v1/campaigns/"+id+"/payments", "payments", perPage)
		w.requests += n
	}
	return w
}

// keys are the member names of a JSON object, in order.
func keys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", raw)
	}
	var out []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// member is one member of a JSON object.
func member(t *testing.T, raw []byte, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %s", raw)
	}
	return m[name]
}
