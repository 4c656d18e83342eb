package donatelytest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract/donately/donatelytest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The range of the generated data in most tests, and a clock long after it, when every
// generated history has settled (histories last less than 20 days).
var (
	rangeFrom = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rangeTo   = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	settled   = rangeTo.AddDate(0, 1, 0)
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

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sandbox starts a sandbox closed at the end of the test.
func sandbox(t *testing.T, opts donatelytest.Options) (*donatelytest.Server, string) {
	t.Helper()
	s, ts := donatelytest.Start(opts)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// settledSandbox is a sandbox of n donations over [rangeFrom, rangeTo), seen at settled.
func settledSandbox(t *testing.T, seed int64, n int) (*donatelytest.Server, string) {
	return sandbox(t, donatelytest.Options{Seed: seed, Donations: n, From: rangeFrom, To: rangeTo,
		Now: func() time.Time { return settled }})
}

func basic(token string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(token+":"))
}

// client sends requests the way a Donately client does; zero fields leave their header out.
type client struct {
	base    string
	auth    string // Authorization header
	account string // Donately-Account header
	version string // Donately-Version header
}

func newClient(base, version string) client {
	return client{base: base, auth: basic(donatelytest.DefaultToken), account: donatelytest.DefaultAccount, version: version}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (c client) do(ctx context.Context, method, path string, q url.Values, body []byte) (answer, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return answer{}, err
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	if c.account != "" {
		req.Header.Set(donatelytest.AccountHeader, c.account)
	}
	if c.version != "" {
		req.Header.Set(donatelytest.VersionHeader, c.version)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func (c client) get(t *testing.T, path string, q url.Values) answer {
	t.Helper()
	a, err := c.do(context.Background(), http.MethodGet, path, q, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return a
}

func (c client) post(t *testing.T, path string, body []byte) answer {
	t.Helper()
	a, err := c.do(context.Background(), http.MethodPost, path, nil, body)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return a
}

// listPage is a Version2022 list answer.
type listPage struct {
	Object  string            `json:"object"`
	Data    []json.RawMessage `json:"data"`
	Summary struct {
		TotalCount int  `json:"total_count"`
		Count      int  `json:"count"`
		HasMore    bool `json:"has_more"`
	} `json:"summary"`
	Params    map[string]any `json:"params"`
	RequestID string         `json:"request_id"`
}

// page gets one Version2022 list page, failing the test on anything but a 200.
func (c client) page(t *testing.T, path string, q url.Values) listPage {
	t.Helper()
	a := c.get(t, path, q)
	if a.status != http.StatusOK {
		t.Fatalf("GET %s?%s: status %d: %s", path, q.Encode(), a.status, a.body)
	}
	var p listPage
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatalf("GET %s?%s: %v", path, q.Encode(), err)
	}
	return p
}

// walk pages through a Version2022 list with offset until the summary's total is reached, and
// checks that every page's total agrees.
func (c client) walk(t *testing.T, path string, q url.Values, limit int) ([]json.RawMessage, int) {
	t.Helper()
	var all []json.RawMessage
	total := -1
	for offset := 0; ; offset += limit {
		q := cloneValues(q)
		q.Set("limit", strconv.Itoa(limit))
		q.Set("offset", strconv.Itoa(offset))
		p := c.page(t, path, q)
		if total >= 0 && p.Summary.TotalCount != total {
			t.Fatalf("total_count changed from %d to %d while paging", total, p.Summary.TotalCount)
		}
		total = p.Summary.TotalCount
		all = append(all, p.Data...)
		if p.Summary.Count != len(p.Data) {
			t.Fatalf("summary.count %d for %d records", p.Summary.Count, len(p.Data))
		}
		if !p.Summary.HasMore {
			if offset+len(p.Data) != total && len(p.Data) > 0 {
				t.Fatalf("paging ended at %d of %d", offset+len(p.Data), total)
			}
			return all, total
		}
		if offset > 1_000_000 {
			t.Fatal("paging does not end")
		}
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// record is the part of a served donation, campaign or person the tests read.
type record struct {
	ID            string  `json:"id"`
	Object        string  `json:"object"`
	AmountInCents int64   `json:"amount_in_cents"`
	GoalInCents   int64   `json:"goal_in_cents"`
	Title         string  `json:"title"`
	Currency      string  `json:"currency"`
	Status        string  `json:"status"`
	Comment       *string `json:"comment"`
	DonationType  string  `json:"donation_type"`
	Secret        *string `json:"payment_intent_secret"`
	CreatedAt     string  `json:"created_at"`
	UpdatedAt     string  `json:"updated_at"`
}

func decode(t *testing.T, raws []json.RawMessage) []record {
	t.Helper()
	out := make([]record, 0, len(raws))
	for _, raw := range raws {
		var r record
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("decoding %s: %v", raw, err)
		}
		out = append(out, r)
	}
	return out
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return v
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

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		pretty.Reset()
		pretty.Write(got)
	}
	pretty.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the tests with -update to write it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("%s differs from the answer (run with -update to accept it):\n%s", path, pretty.Bytes())
	}
}
