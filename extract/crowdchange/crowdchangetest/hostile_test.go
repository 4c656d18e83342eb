package crowdchangetest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
)

// zeroGolden are SHA-256 digests of answers recorded before Options.Hostile existed: a Hostile
// that changes nothing must keep every byte.
var zeroGolden = []struct {
	scenario, query, sha string
}{
	{"year", "dt_end=2024-01-31T23%3A59%3A59&dt_start=2024-01-01T00%3A00%3A00&limit=50&page=2", "6d7d1a3a0c49c7d265c7c1fb3b807397a6085d4cf07f2ffa9e00b8aeb47f95f1"},
	{"year", "direction=desc&dt_end=2024-06-30T23%3A59%3A59&dt_start=2023-07-01T00%3A00%3A00&sort=date", "582d5ead39361cea1852c2353949978428a4b9562b921c65e0941251ca22a3e3"},
	{"year", "direction=desc&dt_end=2023-12-31T23%3A59%3A59&dt_start=2023-09-01T00%3A00%3A00&limit=7&page=3", "179398c411c53f05a398aac5b8aee4e6c264c2bbcb7307eea09de04eb2132f87"},
	{"year", "payout_date=2024-03-15", "abe14f9789a9788b84bf77d40ad4d7a2fc5a4c682911094ee22afd14935e8a3b"},
	{"year", "limit=10&payout_account=user&payout_date=2024-03-16", "3fc5abaea988c9f2eaba95ff78d1c82ddeaccf53be41c1ee7add315fbc4bf06f"},
	{"example+mutate", "dt_end=2021-09-26T23%3A59%3A59&dt_start=2021-09-26T00%3A00%3A00", "5774e3ea73a8d7d9e9774c7c47b01cb835e398bd7172cbc7f6ee3b229802a24e"},
	{"example+mutate", "dt_start=2021-09-01T00%3A00%3A00&page=2", "feb2a0c785ad0387579ec73b1563dd9cb770008922335178fbf05325a1fff53b"},
	{"example+mutate", "payout_date=2021-10-04", "7cab5654f6d0f452af6fa61296ab8074899575774ae1fe74d680cae56f347337"},
}

// goldenOptions are the options of the zeroGolden scenarios, with hostile options h.
func goldenOptions(scenario string, h crowdchangetest.Hostile) (opts crowdchangetest.Options, mutate bool) {
	if scenario == "year" {
		return crowdchangetest.Options{Seed: 1, Transactions: 2000, From: yearStart, To: yearEnd,
			Now: func() time.Time { return yearEnd }, Hostile: h}, false
	}
	return crowdchangetest.Options{Seed: 3, Transactions: 600, IncludeExample: true,
		From: time.Date(2021, 9, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2021, 10, 1, 0, 0, 0, 0, time.UTC),
		Now: func() time.Time { return time.Date(2021, 10, 5, 0, 0, 0, 0, time.UTC) }, Hostile: h}, true
}

// A Hostile that changes nothing (the zero value, a cap no page reaches, a canary or tricks
// without a rate) serves the bytes served before Hostile existed.
func TestHostileZeroKeepsBytes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		h    crowdchangetest.Hostile
	}{
		{"zero", crowdchangetest.Hostile{}},
		{"cap 100", crowdchangetest.Hostile{PageCap: 100}},
		{"canary and tricks without rate", crowdchangetest.Hostile{Canary: "CANARY", Tricks: crowdchangetest.AllTricks()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bases := map[string]string{}
			for _, g := range zeroGolden {
				base, ok := bases[g.scenario]
				if !ok {
					opts, mutate := goldenOptions(g.scenario, tc.h)
					var s *crowdchangetest.Server
					s, base = sandbox(t, opts)
					if mutate {
						s.Mutate(0.2, 9)
					}
					bases[g.scenario] = base
				}
				q, err := url.ParseQuery(g.query)
				if err != nil {
					t.Fatal(err)
				}
				a := do(t, http.MethodGet, txURL(base, q), "Bearer "+key, nil)
				sum := sha256.Sum256(a.body)
				if a.status != http.StatusOK || len(a.body) < 1000 || hex.EncodeToString(sum[:]) != g.sha {
					t.Errorf("%s %s: status %d, %d bytes, sha256 %x: not the bytes served before Hostile", g.scenario, g.query, a.status, len(a.body), sum)
				}
			}
		})
	}
}

// pageOf fetches one page and checks its count.
func pageOf(t *testing.T, base string, q url.Values, page, limit int) crowdchange.Page {
	t.Helper()
	q = cloneValues(q)
	q.Set("page", strconv.Itoa(page))
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return getPage(t, base, q)
}

// PageCap shortens every page to the cap, at the positions the cap implies, whatever the order;
// count stays the window's total.
func TestHostilePageCap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		cap       int
		limit     int // 0: no limit parameter (the default 100)
		desc      bool
		sizes     []int
		capped    int64
		ignore    bool
		wantPages int
	}{
		{name: "cap 50 limit 100", cap: 50, limit: 100, sizes: []int{50, 50, 20, 0}, capped: 4},
		{name: "cap 50 default limit", cap: 50, sizes: []int{50, 50, 20, 0}, capped: 4},
		{name: "cap 50 limit 100 desc", cap: 50, limit: 100, desc: true, sizes: []int{50, 50, 20, 0}, capped: 4},
		{name: "cap 50 limit 30", cap: 50, limit: 30, sizes: []int{30, 30, 30, 30, 0}, capped: 0},
		{name: "cap 50 limit 50", cap: 50, limit: 50, sizes: []int{50, 50, 20, 0}, capped: 0},
		{name: "cap 7 limit 100", cap: 7, limit: 100, sizes: []int{7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 1, 0}, capped: 19},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, base := sandbox(t, crowdchangetest.Options{Seed: 4, Transactions: 120, From: yearStart, To: yearEnd,
				Now: func() time.Time { return yearEnd }, Hostile: crowdchangetest.Hostile{PageCap: tc.cap}})
			want := s.Truth(yearStart, yearEnd).IDs
			if len(want) != 120 {
				t.Fatalf("the window holds %d transactions, want 120", len(want))
			}
			if tc.desc {
				want = slices.Clone(want)
				slices.Reverse(want)
			}
			q := windowQuery(yearStart, yearEnd)
			if tc.desc {
				q.Set("direction", "desc")
			}
			var got []int64
			for n, size := range tc.sizes {
				p := pageOf(t, base, q, n+1, tc.limit)
				if len(p.Data) != size || p.Count != 120 {
					t.Errorf("page %d: %d transactions, count %d; want %d, count 120", n+1, len(p.Data), p.Count, size)
				}
				got = append(got, ids(t, p.Data)...)
			}
			if !equalIDs(got, want) {
				t.Errorf("the pages hold %v..., want %v... in that order", got[:min(5, len(got))], want[:5])
			}
			if st := s.Stats(); st.CappedPages != tc.capped || st.Pages != int64(len(tc.sizes)) || st.IgnoredPages != 0 {
				t.Errorf("stats: %d capped of %d pages, %d ignored; want %d capped of %d", st.CappedPages, st.Pages, st.IgnoredPages, tc.capped, len(tc.sizes))
			}
		})
	}
}

// IgnorePage answers page 1 whatever the page asked, alone or under a cap.
func TestHostileIgnorePage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		cap, size int
	}{
		{"ignore page", 0, 100},
		{"ignore page under a cap of 50", 50, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, base := sandbox(t, crowdchangetest.Options{Seed: 4, Transactions: 400, From: yearStart, To: yearEnd,
				Now: func() time.Time { return yearEnd }, Hostile: crowdchangetest.Hostile{IgnorePage: true, PageCap: tc.cap}})
			q := windowQuery(yearStart, yearEnd)
			q.Set("limit", "100")
			var first []byte
			for page := 1; page <= 3; page++ {
				q.Set("page", strconv.Itoa(page))
				a := do(t, http.MethodGet, txURL(base, q), "Bearer "+key, nil)
				if a.status != http.StatusOK {
					t.Fatalf("page %d: status %d", page, a.status)
				}
				if page == 1 {
					first = a.body
					var p crowdchange.Page
					if err := json.Unmarshal(a.body, &p); err != nil || len(p.Data) != tc.size || p.Count != 400 {
						t.Fatalf("page 1: %d transactions, count %d, %v", len(p.Data), p.Count, err)
					}
					continue
				}
				if !bytes.Equal(a.body, first) {
					t.Errorf("page %d differs from page 1", page)
				}
			}
			wantCapped := int64(0)
			if tc.cap > 0 {
				wantCapped = 3
			}
			if st := s.Stats(); st.IgnoredPages != 2 || st.Pages != 3 || st.CappedPages != wantCapped {
				t.Errorf("stats: %d ignored, %d capped of %d pages; want 2 ignored, %d capped of 3", st.IgnoredPages, st.CappedPages, st.Pages, wantCapped)
			}
		})
	}
}

// replaceOnce replaces old by new in b[from:to], where it must occur exactly once.
func replaceOnce(t *testing.T, b []byte, from, to int, old, new string) []byte {
	t.Helper()
	seg := b[from:to]
	if n := bytes.Count(seg, []byte(old)); n != 1 {
		t.Fatalf("%q occurs %d times in %s", old, n, seg)
	}
	i := from + bytes.Index(seg, []byte(old))
	return slices.Concat(b[:i], []byte(new), b[i+len(old):])
}

// objectSpan is the span of the object that follows `"key":{` in b (first occurrence; the object
// must not hold objects itself).
func objectSpan(t *testing.T, b []byte, key string) (from, to int) {
	t.Helper()
	from = bytes.Index(b, []byte(`"`+key+`":{`))
	if from < 0 {
		t.Fatalf("no object %s in %s", key, b)
	}
	to = from + bytes.IndexByte(b[from:], '}') + 1
	return from, to
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func jsonPtr(s *string) string {
	if s == nil {
		return "null"
	}
	return jsonString(*s)
}

func twoDecimals(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// generic decodes JSON leniently: numbers stay json.Number, invalid UTF-8 becomes U+FFFD.
func generic(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, raw)
	}
	return m
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

const isoLayout = "2006-01-02T15:04:05Z"

// trickRow is one trick: what its bytes must be, derived from the plain transaction, and a check
// of the trick as specified on the tricked bytes alone.
type trickRow struct {
	trick crowdchangetest.Trick
	// expect rewrites the plain bytes into the tricked ones; it reports which branch it took.
	expect func(t *testing.T, plain []byte, tx crowdchange.Transaction) ([]byte, string)
	check  func(t *testing.T, raw []byte, tx crowdchange.Transaction)
}

var trickRows = []trickRow{
	{
		trick: crowdchangetest.TrickInvalidUTF8,
		expect: func(t *testing.T, plain []byte, tx crowdchange.Transaction) ([]byte, string) {
			bad := `"` + crowdchangetest.InvalidUTF8Value + `"`
			switch {
			case tx.DonatedBy != nil:
				a, b := objectSpan(t, plain, "donated_by")
				return replaceOnce(t, plain, a, b, `"first_name":`+jsonPtr(tx.DonatedBy.FirstName), `"first_name":`+bad), "donated_by"
			case tx.Billing != nil:
				a, b := objectSpan(t, plain, "billing")
				return replaceOnce(t, plain, a, b, `"first_name":`+jsonPtr(tx.Billing.FirstName), `"first_name":`+bad), "billing"
			}
			return replaceOnce(t, plain, 0, len(plain), `"donation_comment":`+jsonPtr(tx.DonationComment), `"donation_comment":`+bad), "donation_comment"
		},
		check: func(t *testing.T, raw []byte, tx crowdchange.Transaction) {
			if utf8.Valid(raw) || !bytes.Contains(raw, []byte(crowdchangetest.InvalidUTF8Value)) {
				t.Errorf("transaction %d: valid UTF-8 %v, holds the invalid bytes %v", tx.ID, utf8.Valid(raw), bytes.Contains(raw, []byte(crowdchangetest.InvalidUTF8Value)))
			}
			if !json.Valid(raw) {
				t.Errorf("transaction %d: not valid JSON but for its UTF-8", tx.ID)
			}
		},
	},
	{
		trick: crowdchangetest.TrickMistyped,
		expect: func(t *testing.T, plain []byte, tx crowdchange.Transaction) ([]byte, string) {
			a, b := objectSpan(t, plain, "amount")
			return replaceOnce(t, plain, a, b, `"donation":`+string(tx.Amount.Donation)+`,`, `"donation":"fifty",`), "amount"
		},
		check: func(t *testing.T, raw []byte, tx crowdchange.Transaction) {
			if d := obj(generic(t, raw)["amount"])["donation"]; d != "fifty" {
				t.Errorf("transaction %d: amount.donation is %#v", tx.ID, d)
			}
		},
	},
	{
		trick: crowdchangetest.TrickISODate,
		expect: func(t *testing.T, plain []byte, tx crowdchange.Transaction) ([]byte, string) {
			out := replaceOnce(t, plain, 0, len(plain), `"date":"`+tx.Date.UTC().Format(extract.DateTimeLayout)+`","donation_comment"`,
				`"date":"`+tx.Date.UTC().Format(isoLayout)+`","donation_comment"`)
			if tx.TaxReceipt == nil {
				return out, "date"
			}
			issued := tx.TaxReceipt.IssuedOn.UTC()
			return replaceOnce(t, out, 0, len(out), `"issued_on":"`+issued.Format(extract.DateTimeLayout)+`"`,
				`"issued_on":"`+issued.Format(isoLayout)+`"`), "date and issued_on"
		},
		check: func(t *testing.T, raw []byte, tx crowdchange.Transaction) {
			m := generic(t, raw)
			if d, _ := m["date"].(string); d != tx.Date.UTC().Format(time.RFC3339) {
				t.Errorf("transaction %d: date %q", tx.ID, d)
			}
			if tx.TaxReceipt != nil {
				if d, _ := obj(m["tax_receipt"])["issued_on"].(string); d != tx.TaxReceipt.IssuedOn.UTC().Format(time.RFC3339) {
					t.Errorf("transaction %d: issued_on %q", tx.ID, d)
				}
			}
		},
	},
	{
		trick: crowdchangetest.TrickMoneyString,
		expect: func(t *testing.T, plain []byte, tx crowdchange.Transaction) ([]byte, string) {
			out := plain
			am := tx.Amount
			for _, f := range []struct {
				key string
				m   extract.Money
			}{{"apparel", am.Apparel}, {"covered_fees", am.CoveredFees}, {"donation", am.Donation}, {"donation_to_pages", am.DonationToPages},
				{"ecards", am.Ecards}, {"registration", am.Registration}, {"sponsorship", am.Sponsorship}, {"tickets", am.Tickets},
				{"total_net", am.TotalNet}, {"total_paid", am.TotalPaid}, {"custom_fees", am.CustomFees}} {
				if f.m.IsNull() {
					continue
				}
				a, b := objectSpan(t, out, "amount")
				old, new := `"`+f.key+`":`+string(f.m), `"`+f.key+`":"`+twoDecimals(cents(t, f.m))+`"`
				if next := bytes.Index(out[a:b], []byte(old)) + a + len(old); next < b && out[next] != ',' && out[next] != '}' {
					t.Fatalf("%s is a prefix of another literal", old)
				}
				out = replaceOnce(t, out, a, b, old, new)
			}
			return out, "amount"
		},
		check: func(t *testing.T, raw []byte, tx crowdchange.Transaction) {
			for k, v := range obj(generic(t, raw)["amount"]) {
				if _, isNumber := v.(json.Number); isNumber {
					t.Errorf("transaction %d: amount.%s is still a number", tx.ID, k)
				}
			}
			if p := obj(generic(t, raw)["amount"])["total_paid"]; p != twoDecimals(cents(t, tx.Amount.TotalPaid)) {
				t.Errorf("transaction %d: total_paid %#v for %s", tx.ID, p, tx.Amount.TotalPaid)
			}
		},
	},
	{
		trick: crowdchangetest.TrickIntString,
		expect: func(t *testing.T, plain []byte, tx crowdchange.Transaction) ([]byte, string) {
			f := strconv.FormatInt(*tx.Fundraiser.ID, 10)
			out := replaceOnce(t, plain, 0, len(plain), `"fundraiser":{"id":`+f+`,`, `"fundraiser":{"id":"`+f+`",`)
			if tx.DonatedBy == nil || tx.DonatedBy.UserID == nil {
				return out, "fundraiser"
			}
			a, b := objectSpan(t, out, "donated_by")
			u := strconv.FormatInt(*tx.DonatedBy.UserID, 10)
			return replaceOnce(t, out, a, b, `"user_id":`+u+`,`, `"user_id":"`+u+`",`), "fundraiser and user"
		},
		check: func(t *testing.T, raw []byte, tx crowdchange.Transaction) {
			m := generic(t, raw)
			if id := obj(m["fundraiser"])["id"]; id != strconv.FormatInt(*tx.Fundraiser.ID, 10) {
				t.Errorf("transaction %d: fundraiser.id %#v", tx.ID, id)
			}
			if tx.DonatedBy != nil && tx.DonatedBy.UserID != nil {
				if id := obj(m["donated_by"])["user_id"]; id != strconv.FormatInt(*tx.DonatedBy.UserID, 10) {
					t.Errorf("transaction %d: donated_by.user_id %#v", tx.ID, id)
				}
			}
		},
	},
	{
		trick: crowdchangetest.TrickNoID,
		expect: func(t *testing.T, plain []byte, tx crowdchange.Transaction) ([]byte, string) {
			return replaceOnce(t, plain, 0, len(`{"id":`)+20, `{"id":`+strconv.FormatInt(tx.ID, 10)+`,`, `{`), "id"
		},
		check: func(t *testing.T, raw []byte, tx crowdchange.Transaction) {
			if _, ok := generic(t, raw)["id"]; ok || bytes.HasPrefix(raw, []byte(`{"id"`)) {
				t.Errorf("transaction %d still has an id", tx.ID)
			}
			if _, ok := generic(t, raw)["type"]; !ok {
				t.Errorf("transaction %d lost its other members", tx.ID)
			}
		},
	},
	{
		trick: crowdchangetest.TrickBadID,
		expect: func(t *testing.T, plain []byte, tx crowdchange.Transaction) ([]byte, string) {
			return replaceOnce(t, plain, 0, len(`{"id":`)+20, `{"id":`+strconv.FormatInt(tx.ID, 10)+`,`, `{"id":"abc",`), "id"
		},
		check: func(t *testing.T, raw []byte, tx crowdchange.Transaction) {
			if id := generic(t, raw)["id"]; id != "abc" {
				t.Errorf("transaction %d: id %#v", tx.ID, id)
			}
		},
	},
}

// twins are a sandbox with hostile options and one without, otherwise the same.
type twins struct {
	tricked, plain       *crowdchangetest.Server
	trickedURL, plainURL string
}

// twin starts a sandbox of n transactions over the year before yearEnd, seen at yearEnd, with
// hostile options h, and its plain twin.
func twin(t *testing.T, seed int64, n int, h crowdchangetest.Hostile) twins {
	t.Helper()
	var tw twins
	opts := crowdchangetest.Options{Seed: seed, Transactions: n, From: yearStart, To: yearEnd, Now: func() time.Time { return yearEnd }}
	tw.plain, tw.plainURL = sandbox(t, opts)
	opts.Hostile = h
	tw.tricked, tw.trickedURL = sandbox(t, opts)
	return tw
}

// fetchBoth fetches every page of q from both twins.
func (tw twins) fetchBoth(t *testing.T, q url.Values, limit int) (tricked, plain []json.RawMessage) {
	t.Helper()
	tricked, plain = fetchAll(t, tw.trickedURL, q, limit), fetchAll(t, tw.plainURL, q, limit)
	if len(tricked) != len(plain) {
		t.Fatalf("%s: %d tricked and %d plain transactions", q.Encode(), len(tricked), len(plain))
	}
	return tricked, plain
}

// Each trick rewrites exactly what it is documented to rewrite, and leaves every other byte of
// the transaction as a sandbox without Hostile serves it.
func TestHostileTricks(t *testing.T) {
	t.Parallel()
	if len(trickRows) != len(crowdchangetest.AllTricks()) {
		t.Fatalf("%d rows for %d tricks", len(trickRows), len(crowdchangetest.AllTricks()))
	}
	for _, row := range trickRows {
		t.Run(string(row.trick), func(t *testing.T) {
			t.Parallel()
			const n = 150
			tw := twin(t, 6, n, crowdchangetest.Hostile{Rate: 1, Tricks: []crowdchangetest.Trick{row.trick}})
			q := windowQuery(yearStart, yearEnd)
			branches := map[string]int{}
			compare := func(stage string) {
				tricked, plain := tw.fetchBoth(t, q, 100)
				if len(plain) < n {
					t.Fatalf("%s: %d transactions, want %d at least", stage, len(plain), n)
				}
				for i, raw := range plain {
					tx := strict(t, raw)
					tr, ok := tw.tricked.Tricked(tx.ID)
					if ok != (tx.ID < 100001+n) || ok && tr != row.trick {
						t.Fatalf("%s: Tricked(%d) = %q, %v", stage, tx.ID, tr, ok)
					}
					if !ok { // created by Mutate
						if !bytes.Equal(tricked[i], raw) {
							t.Fatalf("%s: the untricked transaction %d differs", stage, tx.ID)
						}
						continue
					}
					if !utf8.Valid(raw) {
						t.Fatalf("%s: the plain transaction %d is not valid UTF-8", stage, tx.ID)
					}
					want, branch := row.expect(t, raw, tx)
					branches[branch]++
					if !bytes.Equal(tricked[i], want) {
						t.Fatalf("%s: transaction %d:\n got %s\nwant %s", stage, tx.ID, tricked[i], want)
					}
					row.check(t, tricked[i], tx)
				}
			}
			compare("generated")
			// Mutate changes both twins alike; the tricks stay on the changed transactions, the
			// refunds it creates are not tricked.
			if a, b := tw.tricked.Mutate(0.2, 3), tw.plain.Mutate(0.2, 3); !equalIDs(a, b) || len(a) < n/10 {
				t.Fatalf("Mutate changed %d and %d transactions", len(a), len(b))
			}
			compare("after Mutate")
			t.Logf("branches: %v", branches)
			wantBranches := map[crowdchangetest.Trick][]string{
				crowdchangetest.TrickInvalidUTF8: {"donated_by", "billing", "donation_comment"},
				crowdchangetest.TrickISODate:     {"date", "date and issued_on"},
				crowdchangetest.TrickIntString:   {"fundraiser", "fundraiser and user"},
			}[row.trick]
			for _, b := range wantBranches {
				if branches[b] == 0 {
					t.Errorf("the case %q never occurs", b)
				}
			}
		})
	}
}

// Tricked draws about Rate of the generated transactions and every trick of Tricks; the example,
// created transactions and ids out of range are never tricked.
func TestHostileTricked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		h      crowdchangetest.Hostile
		lo, hi int // tricked out of 10000
	}{
		{"rate 0", crowdchangetest.Hostile{}, 0, 0},
		{"rate 0.3", crowdchangetest.Hostile{Rate: 0.3}, 2800, 3200},
		{"rate 1", crowdchangetest.Hostile{Rate: 1}, 10000, 10000},
		{"rate 0.5 two tricks", crowdchangetest.Hostile{Rate: 0.5, Tricks: []crowdchangetest.Trick{crowdchangetest.TrickNoID, crowdchangetest.TrickISODate}}, 4800, 5200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := crowdchangetest.New(crowdchangetest.Options{Seed: 2, Transactions: 10000, IncludeExample: true, Hostile: tc.h})
			byTrick := map[crowdchangetest.Trick]int{}
			n := 0
			for id := int64(100001); id < 110001; id++ {
				if tr, ok := s.Tricked(id); ok {
					n++
					byTrick[tr]++
				}
			}
			if n < tc.lo || n > tc.hi {
				t.Errorf("%d of 10000 tricked, want %d..%d", n, tc.lo, tc.hi)
			}
			want := tc.h.Tricks
			if len(want) == 0 && n > 0 {
				want = crowdchangetest.AllTricks()
			}
			if len(byTrick) != len(want) {
				t.Errorf("tricks drawn %v, want each of %v", byTrick, want)
			}
			for _, id := range []int64{10001, 100000, 110001, 110002, -1} {
				if tr, ok := s.Tricked(id); ok {
					t.Errorf("Tricked(%d) = %q", id, tr)
				}
			}
		})
	}
}

// The canary is in every tricked transaction and in no other, including the fallback of
// TrickInvalidUTF8 to donation_comment, before and after Mutate (whose refunds copy their
// charge's donor, untricked).
func TestHostileCanary(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-5f2c"
	tw := twin(t, 6, 200, crowdchangetest.Hostile{Rate: 0.4, Canary: canary})
	s := tw.tricked
	check := func(stage string) {
		tricked, plain := tw.fetchBoth(t, windowQuery(yearStart, yearEnd), 100)
		n := 0
		for i, raw := range plain {
			tx := strict(t, raw)
			tr, ok := s.Tricked(tx.ID)
			has := bytes.Contains(tricked[i], []byte(canary))
			if has != ok {
				t.Errorf("%s: transaction %d (trick %q): holds the canary %v", stage, tx.ID, tr, has)
			}
			if !ok {
				if !bytes.Equal(tricked[i], raw) {
					t.Errorf("%s: untricked transaction %d changed", stage, tx.ID)
				}
				continue
			}
			n++
			m := generic(t, tricked[i])
			if c, _ := m["donation_comment"].(string); !strings.Contains(c, canary) {
				t.Errorf("%s: transaction %d (trick %q): donation_comment %q", stage, tx.ID, tr, c)
			}
			for _, who := range []string{"donated_by", "billing"} {
				d := obj(m[who])
				if d == nil {
					continue
				}
				if d["email"] != canary+"@example.org" || d["last_name"] != canary || d["name"] != canary+" "+canary ||
					(tr != crowdchangetest.TrickInvalidUTF8 && d["first_name"] != canary) {
					t.Errorf("%s: transaction %d (trick %q): %s %v", stage, tx.ID, tr, who, d)
				}
			}
		}
		if n < 60 || bytes.Contains(slices.Concat(plain...), []byte(canary)) {
			t.Errorf("%s: %d tricked transactions; the plain sandbox holds the canary: %v", stage, n, bytes.Contains(slices.Concat(plain...), []byte(canary)))
		}
	}
	check("generated")
	if a, b := tw.tricked.Mutate(0.3, 4), tw.plain.Mutate(0.3, 4); !equalIDs(a, b) {
		t.Fatal("Mutate changed the twins differently")
	}
	check("after Mutate")
}

// The example and the transactions created by POST are served as without Hostile, whatever the
// rate.
func TestHostileSparesStored(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-9d1e"
	s, base := sandbox(t, crowdchangetest.Options{Seed: 1, Transactions: 100, IncludeExample: true,
		From: time.Date(2021, 9, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2021, 10, 1, 0, 0, 0, 0, time.UTC),
		Now: func() time.Time { return time.Date(2021, 10, 1, 0, 0, 0, 0, time.UTC) }, Hostile: crowdchangetest.Hostile{Rate: 1, Canary: canary}})
	var fixture crowdchange.Page
	if err := json.Unmarshal(crowdchangetest.ExamplePage(), &fixture); err != nil {
		t.Fatal(err)
	}
	if p := getPage(t, base, url.Values{"dt_start": {"2021-09-26T16:00:03"}, "dt_end": {"2021-09-26T16:00:03"}}); len(p.Data) != 1 || !bytes.Equal(p.Data[0], fixture.Data[0]) {
		t.Errorf("the example is not served verbatim: %d transactions", len(p.Data))
	}
	a := do(t, http.MethodPost, base+"/v2/client/transactions", "Bearer "+key, validBody(103))
	if a.status != http.StatusOK {
		t.Fatalf("POST: %d %s", a.status, a.body)
	}
	var created struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(a.body, &created); err != nil {
		t.Fatal(err)
	}
	p := getPage(t, base, url.Values{"dt_start": {"2021-09-30T23:59:59"}, "dt_end": {"2021-10-01T00:00:00"}})
	served := map[int64][]byte{}
	for i, id := range ids(t, p.Data) {
		served[id] = p.Data[i]
	}
	raw, ok := served[created.ID]
	if !ok || bytes.Contains(raw, []byte(canary)) {
		t.Fatalf("the created transaction %d: served %v, holds the canary %v", created.ID, ok, bytes.Contains(raw, []byte(canary)))
	}
	strict(t, raw)
	if _, ok := s.Tricked(created.ID); ok {
		t.Errorf("Tricked(%d) is true for a created transaction", created.ID)
	}
}

// The same request gives the same bytes, on the same sandbox and on another one with the same
// options; a transaction is tricked the same way on the date and the payout streams and on every
// page size (TestHostileTricks checks it after Mutate).
func TestHostileDeterministic(t *testing.T) {
	t.Parallel()
	h := crowdchangetest.Hostile{Rate: 0.5, Canary: "CANARY"}
	tw, other := twin(t, 8, 500, h), twin(t, 8, 500, h)
	base := tw.trickedURL
	queries := []url.Values{
		{"dt_start": {"2024-01-01T00:00:00"}, "dt_end": {"2024-01-31T23:59:59"}, "page": {"2"}, "limit": {"50"}},
		{"dt_start": {"2023-07-01T00:00:00"}, "dt_end": {"2024-06-30T23:59:59"}, "sort": {"date"}, "direction": {"desc"}},
		{"payout_date": {"2024-03-15"}},
	}
	for _, q := range queries {
		a := do(t, http.MethodGet, txURL(base, q), "Bearer "+key, nil)
		b := do(t, http.MethodGet, txURL(base, q), "Bearer "+key, nil)
		c := do(t, http.MethodGet, txURL(other.trickedURL, q), "Bearer "+key, nil)
		if a.status != http.StatusOK || !bytes.Equal(a.body, b.body) || !bytes.Equal(a.body, c.body) {
			t.Errorf("%s: status %d; the same request served different bytes", q.Encode(), a.status)
		}
	}
	// servedByID maps each transaction's id (from the plain twin, by position) to its tricked bytes.
	servedByID := func(q url.Values, limit int) map[int64][]byte {
		tricked, plain := tw.fetchBoth(t, q, limit)
		m := map[int64][]byte{}
		for i, id := range ids(t, plain) {
			m[id] = tricked[i]
		}
		return m
	}
	check := func(what string, all, some map[int64][]byte) {
		t.Helper()
		if len(some) == 0 {
			t.Errorf("%s: nothing served", what)
		}
		for id, raw := range some {
			if !bytes.Equal(all[id], raw) {
				t.Errorf("%s: transaction %d is served otherwise than in the window", what, id)
			}
		}
	}
	year := windowQuery(yearStart, yearEnd)
	all := servedByID(year, 100)
	check("limit 7, by date, desc", all, servedByID(url.Values{"dt_start": {"2024-02-01T00:00:00"}, "dt_end": {"2024-02-29T23:59:59"},
		"sort": {"date"}, "direction": {"desc"}}, 7))
	for _, day := range []string{"2024-03-15", "2024-05-02"} {
		check("payouts of "+day, all, servedByID(url.Values{"payout_date": {day}}, 100))
	}
}
