package crowdchangetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
)

const key = "sandbox-key"

var (
	yearEnd   = time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	yearStart = yearEnd.AddDate(-1, 0, 0)
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

// sandbox starts a sandbox closed at the end of the test.
func sandbox(t *testing.T, opts crowdchangetest.Options) (*crowdchangetest.Server, string) {
	t.Helper()
	s, ts := crowdchangetest.Start(opts)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// yearSandbox is a sandbox of n transactions over the year before yearEnd, seen at yearEnd.
func yearSandbox(t *testing.T, seed int64, n int) (*crowdchangetest.Server, string) {
	return sandbox(t, crowdchangetest.Options{Seed: seed, Transactions: n, From: yearStart, To: yearEnd,
		Now: func() time.Time { return yearEnd }})
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, u, auth string, body []byte) answer {
	t.Helper()
	a, err := doCtx(context.Background(), method, u, auth, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return a
}

func doCtx(ctx context.Context, method, u, auth string, body []byte) (answer, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return answer{}, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
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

func txURL(base string, q url.Values) string { return base + "/v2/private/transactions?" + q.Encode() }

func qt(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

// page is one decoded answer page.
func getPage(t *testing.T, base string, q url.Values) crowdchange.Page {
	t.Helper()
	a := do(t, http.MethodGet, txURL(base, q), "Bearer "+key, nil)
	if a.status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", q.Encode(), a.status, a.body)
	}
	var p crowdchange.Page
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatalf("GET %s: %v", q.Encode(), err)
	}
	return p
}

// fetchAll pages through a query until a short page, the way ccsync does.
func fetchAll(t *testing.T, base string, q url.Values, limit int) []json.RawMessage {
	t.Helper()
	var all []json.RawMessage
	for page := 1; ; page++ {
		q := cloneValues(q)
		q.Set("page", strconv.Itoa(page))
		q.Set("limit", strconv.Itoa(limit))
		p := getPage(t, base, q)
		all = append(all, p.Data...)
		if len(p.Data) < limit {
			return all
		}
		if page > 100000 {
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

func windowQuery(from, to time.Time) url.Values {
	return url.Values{"dt_start": {qt(from)}, "dt_end": {qt(to)}}
}

// strict decodes a transaction refusing unknown fields.
func strict(t *testing.T, raw []byte) crowdchange.Transaction {
	t.Helper()
	var tx crowdchange.Transaction
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tx); err != nil {
		t.Fatalf("decoding a transaction strictly: %v\n%s", err, raw)
	}
	return tx
}

// decodeAll decodes transactions strictly.
func decodeAll(t *testing.T, raws []json.RawMessage) []crowdchange.Transaction {
	t.Helper()
	out := make([]crowdchange.Transaction, 0, len(raws))
	for _, raw := range raws {
		out = append(out, strict(t, raw))
	}
	return out
}

// byID indexes transactions by id.
func byID(txs []crowdchange.Transaction) map[int64]crowdchange.Transaction {
	m := make(map[int64]crowdchange.Transaction, len(txs))
	for _, tx := range txs {
		m[tx.ID] = tx
	}
	return m
}

func ids(t *testing.T, raws []json.RawMessage) []int64 {
	t.Helper()
	out := make([]int64, 0, len(raws))
	for _, r := range raws {
		var v struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(r, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v.ID)
	}
	return out
}

func sortedCopy(v []int64) []int64 {
	out := append([]int64(nil), v...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// recount adds up served transactions, independently of the sandbox: from the decoded model, with
// sums in math/big.
func recount(t *testing.T, txs []crowdchange.Transaction) crowdchangetest.Truth {
	t.Helper()
	tr := crowdchangetest.Truth{Sums: map[string]crowdchangetest.Sums{}, Items: map[crowdchangetest.ItemKey]int{}, CustomData: map[string]int{}, IDs: []int64{}}
	sums := map[string]*[3]big.Rat{}
	add := func(dir, cat string, n int) {
		if n > 0 {
			tr.Items[crowdchangetest.ItemKey{Direction: dir, Category: cat}] += n
		}
	}
	answers := func(level string, cd []crowdchange.CustomData) {
		if len(cd) > 0 {
			tr.CustomData[level] += len(cd)
		}
	}
	for _, tx := range txs {
		tr.Count++
		tr.IDs = append(tr.IDs, tx.ID)
		cur := *tx.Amount.Currency
		if sums[cur] == nil {
			sums[cur] = new([3]big.Rat)
		}
		for i, m := range []extract.Money{tx.Amount.TotalPaid, tx.Amount.Donation, tx.Amount.CoveredFees} {
			r, ok := new(big.Rat).SetString(string(m))
			if !ok {
				t.Fatalf("transaction %d: amount %q is not a decimal", tx.ID, m)
			}
			sums[cur][i].Add(&sums[cur][i], r)
		}
		if p := tx.PurchasedItems; p != nil {
			add("purchased", "apparel", group(p.Apparel))
			add("purchased", "registration", group(p.Registration))
			add("purchased", "tickets", group(p.Tickets))
			add("purchased", "ecards", group(p.Ecards))
			add("purchased", "tribute_cards", group(p.TributeCards))
			add("purchased", "custom_fees", group(p.CustomFees))
			if p.Registration != nil {
				for _, it := range p.Registration.Items {
					answers("registration", it.CustomData)
				}
			}
		}
		add("purchased", "sponsorship", group(tx.Sponsorship))
		if r := tx.RefundedItems; r != nil {
			add("refunded", "donations", group(r.Donations))
			add("refunded", "covered_fees", group(r.CoveredFees))
			add("refunded", "apparel", group(r.Apparel))
			add("refunded", "registration", group(r.Registration))
			add("refunded", "tickets", group(r.Tickets))
			add("refunded", "ecards", group(r.Ecards))
			add("refunded", "sponsorship", group(r.Sponsorship))
			add("refunded", "custom_fees", group(r.CustomFees))
			add("refunded", "self_donations", group(r.SelfDonations))
			if r.Registration != nil {
				for _, it := range r.Registration.Items {
					answers("registration", it.CustomData)
				}
			}
			if r.SelfDonations != nil {
				for _, it := range r.SelfDonations.Items {
					answers("self_donation_page", it.FundraiserPage.CustomData)
				}
			}
		}
		answers("transaction", tx.CustomData)
		answers("fundraiser", tx.Fundraiser.CustomData)
		if tx.FundraiserTeam != nil {
			answers("team", tx.FundraiserTeam.CustomData)
		}
		if tx.FundraiserUserPage != nil {
			answers("page", tx.FundraiserUserPage.CustomData)
		}
	}
	for cur, s := range sums {
		tr.Sums[cur] = crowdchangetest.Sums{TotalPaid: s[0].FloatString(2), Donation: s[1].FloatString(2), CoveredFees: s[2].FloatString(2)}
	}
	tr.IDs = sortedCopy(tr.IDs)
	return tr
}

func group[T any](g *crowdchange.ItemGroup[T]) int {
	if g == nil {
		return 0
	}
	return len(g.Items)
}

// sameTruth reports the first difference between two truths.
func sameTruth(want, got crowdchangetest.Truth) error {
	if want.Count != got.Count {
		return fmt.Errorf("count: want %d, got %d", want.Count, got.Count)
	}
	if !equalIDs(want.IDs, got.IDs) {
		return fmt.Errorf("ids differ: want %d ids, got %d", len(want.IDs), len(got.IDs))
	}
	if fmt.Sprint(want.Sums) != fmt.Sprint(got.Sums) {
		return fmt.Errorf("sums: want %v, got %v", want.Sums, got.Sums)
	}
	if fmt.Sprint(want.Items) != fmt.Sprint(got.Items) {
		return fmt.Errorf("items: want %v, got %v", want.Items, got.Items)
	}
	if fmt.Sprint(want.CustomData) != fmt.Sprint(got.CustomData) {
		return fmt.Errorf("custom data: want %v, got %v", want.CustomData, got.CustomData)
	}
	return nil
}

// cents parses a money literal with at most two decimals into integer cents.
func cents(t *testing.T, m extract.Money) int64 {
	t.Helper()
	lit := string(m)
	neg := strings.HasPrefix(lit, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(lit, "-"), ".")
	if len(frac) > 2 {
		t.Fatalf("%q has more than two decimals", m)
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt((frac + "00")[:2], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("%q is not a decimal", m)
	}
	if neg {
		return -(w*100 + f)
	}
	return w*100 + f
}
