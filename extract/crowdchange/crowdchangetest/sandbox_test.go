package crowdchangetest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
)

// The same seed serves the same bytes; another seed serves other bytes.
func TestDeterministic(t *testing.T) {
	_, a := yearSandbox(t, 1, 2000)
	_, b := yearSandbox(t, 1, 2000)
	_, c := yearSandbox(t, 2, 2000)
	queries := []url.Values{
		{"dt_start": {"2024-01-01T00:00:00"}, "dt_end": {"2024-01-31T23:59:59"}, "page": {"2"}, "limit": {"50"}},
		{"dt_start": {"2023-07-01T00:00:00"}, "dt_end": {"2024-06-30T23:59:59"}, "sort": {"date"}, "direction": {"desc"}},
		{"payout_date": {"2024-03-15"}},
	}
	for _, q := range queries {
		ga := do(t, http.MethodGet, txURL(a, q), "Bearer "+key, nil)
		gb := do(t, http.MethodGet, txURL(b, q), "Bearer "+key, nil)
		gc := do(t, http.MethodGet, txURL(c, q), "Bearer "+key, nil)
		if ga.status != http.StatusOK || len(ga.body) < 1000 {
			t.Fatalf("%s: status %d, %d bytes", q.Encode(), ga.status, len(ga.body))
		}
		if !bytes.Equal(ga.body, gb.body) {
			t.Errorf("%s: the same seed served different bytes", q.Encode())
		}
		if bytes.Equal(ga.body, gc.body) {
			t.Errorf("%s: another seed served the same bytes", q.Encode())
		}
	}
}

// Paging covers a window exactly once, in the requested order, whatever the limit, with the
// example and created transactions merged in.
func TestPagingCoversWindowOnce(t *testing.T) {
	t.Parallel()
	clk := newClock(time.Date(2021, 9, 24, 12, 0, 0, 0, time.UTC))
	s, base := sandbox(t, crowdchangetest.Options{Seed: 3, Transactions: 600, IncludeExample: true,
		From: time.Date(2021, 9, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2021, 10, 1, 0, 0, 0, 0, time.UTC), Now: clk.Now})
	for range 2 {
		if a := do(t, http.MethodPost, base+"/v2/client/transactions", key, validBody(101)); a.status != http.StatusOK {
			t.Fatalf("POST: %d %s", a.status, a.body)
		}
	}
	clk.Set(time.Date(2021, 10, 5, 0, 0, 0, 0, time.UTC))
	from, to := time.Date(2021, 9, 22, 0, 0, 0, 0, time.UTC), time.Date(2021, 9, 27, 0, 0, 0, 0, time.UTC)
	want := s.Truth(from, to).IDs
	if len(want) < 80 || !slices.Contains(want, 10001) || want[len(want)-1] < 100601 {
		t.Fatalf("the window should hold generated, example and created transactions: %d ids %v...", len(want), want[:3])
	}
	for _, tc := range []struct {
		limit     int
		sort, dir string
	}{
		{1, "id", "asc"}, {1, "date", "desc"}, {7, "id", "asc"}, {7, "id", "desc"}, {7, "date", "asc"},
		{7, "date", "desc"}, {100, "date", "desc"}, {33, "", ""},
	} {
		q := windowQuery(from, to.Add(-time.Second))
		if tc.sort != "" {
			q.Set("sort", tc.sort)
			q.Set("direction", tc.dir)
		}
		raws := fetchAll(t, base, q, tc.limit)
		keys := make([]idAndDate, len(raws))
		got := make([]int64, len(raws))
		for i, raw := range raws {
			keys[i] = idDate(t, raw)
			got[i] = keys[i].ID
		}
		if !equalIDs(sortedCopy(got), want) {
			t.Errorf("limit %d sort %s %s: %d ids, want %d (duplicates or gaps)", tc.limit, tc.sort, tc.dir, len(got), len(want))
			continue
		}
		for i := 1; i < len(keys); i++ {
			a, b := keys[i-1], keys[i]
			ka, kb := []int64{a.ID}, []int64{b.ID}
			if tc.sort == "date" {
				ka, kb = []int64{a.Date.Unix(), a.ID}, []int64{b.Date.Unix(), b.ID}
			}
			c := slices.Compare(ka, kb)
			if (tc.dir == "desc" && c <= 0) || (tc.dir != "desc" && c >= 0) {
				t.Errorf("limit %d sort %s %s: out of order at %d: %d then %d", tc.limit, tc.sort, tc.dir, i, a.ID, b.ID)
				break
			}
		}
	}
	if p := getPage(t, base, windowQuery(from, to.Add(-time.Second))); int(p.Count) != len(want) {
		t.Errorf("count %d, want %d", p.Count, len(want))
	}
	q := windowQuery(from, to.Add(-time.Second))
	q.Set("page", "1000")
	if p := getPage(t, base, q); len(p.Data) != 0 {
		t.Errorf("a page past the end has %d transactions", len(p.Data))
	}
}

type idAndDate struct {
	ID   int64            `json:"id"`
	Date extract.DateTime `json:"date"`
}

func idDate(t *testing.T, raw []byte) idAndDate {
	t.Helper()
	var v idAndDate
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// dt_start and dt_end are both inclusive, to the second.
func TestWindowBoundariesInclusive(t *testing.T) {
	s, base := yearSandbox(t, 1, 2000)
	p := getPage(t, base, url.Values{"dt_start": {"2024-02-01T00:00:00"}, "dt_end": {"2024-02-10T00:00:00"}, "limit": {"10"}})
	tx := strict(t, p.Data[5])
	d := tx.Date.Time
	for _, tc := range []struct {
		name       string
		start, end time.Time
		contains   bool
	}{
		{"exactly its second", d, d, true},
		{"ending at it", d.Add(-time.Hour), d, true},
		{"starting at it", d, d.Add(time.Hour), true},
		{"ending a second before", d.Add(-time.Hour), d.Add(-time.Second), false},
		{"starting a second after", d.Add(time.Second), d.Add(time.Hour), false},
	} {
		got := ids(t, fetchAll(t, base, windowQuery(tc.start, tc.end), 100))
		if slices.Contains(got, tx.ID) != tc.contains {
			t.Errorf("%s: contains %d = %v, want %v", tc.name, tx.ID, !tc.contains, tc.contains)
		}
		if want := s.Truth(tc.start, tc.end.Add(time.Second)).IDs; !equalIDs(sortedCopy(got), want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, want)
		}
	}
}

// payout_date selects by payout date, with or without the account, and ignores dt_start/dt_end.
func TestPayoutDateFiltering(t *testing.T) {
	s, base := yearSandbox(t, 1, 2000)
	day := time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC)
	byAccount := map[string][]int64{}
	for _, acct := range []string{"", "global", "user"} {
		q := url.Values{"payout_date": {"2024-03-15"}, "dt_start": {"2000-01-01T00:00:00"}, "dt_end": {"2000-01-02T00:00:00"}}
		var accts []string
		if acct != "" {
			q.Set("payout_account", acct)
			accts = []string{acct}
		}
		raws := fetchAll(t, base, q, 7)
		for _, raw := range raws {
			tx := strict(t, raw)
			if tx.Payout == nil || !tx.Payout.Date.Equal(day) || (acct != "" && *tx.Payout.Account != acct) {
				t.Errorf("account %q: transaction %d has payout %+v", acct, tx.ID, tx.Payout)
			}
		}
		got := sortedCopy(ids(t, raws))
		if len(got) == 0 {
			t.Fatalf("account %q: no payouts on %s", acct, day.Format(time.DateOnly))
		}
		want := s.TruthByPayout(day, day, accts)
		if err := sameTruth(want, recount(t, decodeAll(t, raws))); err != nil {
			t.Errorf("account %q: %v", acct, err)
		}
		byAccount[acct] = got
	}
	if union := sortedCopy(append(append([]int64{}, byAccount["global"]...), byAccount["user"]...)); !equalIDs(union, byAccount[""]) {
		t.Errorf("global ∪ user (%d) differs from all accounts (%d)", len(union), len(byAccount[""]))
	}
	// Payouts are known from the day after: none for today, some for yesterday.
	if n := s.TruthByPayout(yearEnd, yearEnd, nil).Count; n != 0 {
		t.Errorf("%d payouts dated today", n)
	}
	if p := getPage(t, base, url.Values{"payout_date": {"2024-06-30"}}); len(p.Data) == 0 {
		t.Error("no payouts dated yesterday")
	}
	if n := s.TruthByPayout(yearStart, yearEnd, nil).Count; n < 1500 {
		t.Errorf("only %d of 2000 transactions paid out over the year", n)
	}
}

// A missing or wrong key is 403 with the error envelope; the Bearer prefix is optional.
func TestForbidden(t *testing.T) {
	s, base := yearSandbox(t, 1, 10)
	u := txURL(base, url.Values{})
	for _, tc := range []struct {
		auth   string
		status int
	}{
		{"", http.StatusForbidden},
		{"Bearer wrong", http.StatusForbidden},
		{"wrong", http.StatusForbidden},
		{"Bearer ", http.StatusForbidden},
		{"Basic " + key, http.StatusForbidden},
		{"Bearer " + key, http.StatusOK},
		{key, http.StatusOK},
		{"bearer " + key, http.StatusOK},
	} {
		a := do(t, http.MethodGet, u, tc.auth, nil)
		if a.status != tc.status {
			t.Errorf("%q: status %d, want %d", tc.auth, a.status, tc.status)
		}
		if tc.status == http.StatusForbidden {
			assertErrorEnvelope(t, a.body)
		}
	}
	if n := s.Stats().Forbidden; n != 5 {
		t.Errorf("Stats().Forbidden = %d, want 5", n)
	}
}

func assertErrorEnvelope(t *testing.T, body []byte) {
	t.Helper()
	var e struct {
		Status  string `json:"status"`
		Message struct {
			Error []string `json:"error"`
		} `json:"message"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Status != "error" || len(e.Message.Error) != 1 || e.Message.Error[0] == "" {
		t.Errorf("not the error envelope (%v): %s", err, body)
	}
}

func assertValidation(t *testing.T, body []byte, fields ...string) {
	t.Helper()
	var e struct {
		Message string              `json:"message"`
		Errors  map[string][]string `json:"errors"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Message != "The given data was invalid." {
		t.Errorf("not the validation envelope (%v): %s", err, body)
		return
	}
	for _, f := range fields {
		if len(e.Errors[f]) == 0 {
			t.Errorf("no error for %s: %s", f, body)
		}
	}
	if len(e.Errors) != len(fields) {
		t.Errorf("errors %v, want exactly %v", e.Errors, fields)
	}
}

// Invalid parameters are 422 with the validation envelope naming them.
func TestInvalidParams(t *testing.T) {
	s, base := yearSandbox(t, 1, 10)
	for _, tc := range []struct {
		query string
		field []string
	}{
		{"limit=0", []string{"limit"}},
		{"limit=101", []string{"limit"}},
		{"limit=ten", []string{"limit"}},
		{"page=0", []string{"page"}},
		{"page=x", []string{"page"}},
		{"sort=amount", []string{"sort"}},
		{"direction=up", []string{"direction"}},
		{"dt_start=2024-01-01", []string{"dt_start"}},
		{"dt_end=2024-01-01+00:00:00", []string{"dt_end"}},
		{"dt_start=2024-02-01T00:00:00&dt_end=2024-01-01T00:00:00", []string{"dt_end"}},
		{"payout_account=bank", []string{"payout_account"}},
		{"payout_date=15/03/2024", []string{"payout_date"}},
		{"limit=0&sort=x&page=-1", []string{"limit", "sort", "page"}},
	} {
		a := do(t, http.MethodGet, base+"/v2/private/transactions?"+tc.query, "Bearer "+key, nil)
		if a.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", tc.query, a.status)
			continue
		}
		assertValidation(t, a.body, tc.field...)
	}
	// With payout_date, a bad window has no effect.
	if a := do(t, http.MethodGet, base+"/v2/private/transactions?payout_date=2024-03-15&dt_start=bad", "Bearer "+key, nil); a.status != http.StatusOK {
		t.Errorf("payout_date with a bad dt_start: status %d", a.status)
	}
	if n := s.Stats().Invalid; n != 13 {
		t.Errorf("Stats().Invalid = %d, want 13", n)
	}
}

// Unknown paths are 404 and other methods 405, with the error envelope.
func TestRoutes(t *testing.T) {
	_, base := yearSandbox(t, 1, 10)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/v2/private/transactions/", http.StatusNotFound},
		{http.MethodGet, "/v2/private/transaction", http.StatusNotFound},
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodPost, "/v2/private/transactions", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/v2/private/transactions", http.StatusMethodNotAllowed},
		{http.MethodGet, "/v2/client/transactions", http.StatusMethodNotAllowed},
	} {
		a := do(t, tc.method, base+tc.path, "Bearer "+key, nil)
		if a.status != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, a.status, tc.status)
		}
		assertErrorEnvelope(t, a.body)
	}
}

// checkLinks checks refunds against their charges: every refund's parent lists it and is flagged
// refunded, every listed child is a refund of that charge, and a charge's refunds give back exactly
// what it cost.
func checkLinks(t *testing.T, txs map[int64]crowdchange.Transaction) (refunds int) {
	t.Helper()
	for _, tx := range txs {
		switch *tx.Type {
		case "refund":
			refunds++
			if tx.ParentID == nil {
				t.Errorf("refund %d has no parent_id", tx.ID)
				continue
			}
			p, ok := txs[*tx.ParentID]
			if !ok {
				t.Errorf("refund %d: parent %d not served", tx.ID, *tx.ParentID)
				continue
			}
			if !slices.Contains(p.RefundChildrenIDs, tx.ID) || !*p.IsRefunded || *p.Status != "refunded" {
				t.Errorf("refund %d: parent %d has children %v, is_refunded %v, status %s", tx.ID, p.ID, p.RefundChildrenIDs, *p.IsRefunded, *p.Status)
			}
			if tx.RefundedItems == nil || tx.PurchasedItems != nil || *tx.Amount.Currency != *p.Amount.Currency {
				t.Errorf("refund %d: refunded_items %v, purchased_items %v", tx.ID, tx.RefundedItems, tx.PurchasedItems)
			}
		case "charge":
			if tx.ParentID != nil || tx.RefundedItems != nil {
				t.Errorf("charge %d has a parent or refunded items", tx.ID)
			}
			if len(tx.RefundChildrenIDs) == 0 {
				if *tx.IsRefunded {
					t.Errorf("charge %d is refunded without refunds", tx.ID)
				}
				continue
			}
			total := cents(t, tx.Amount.TotalPaid)
			for _, c := range tx.RefundChildrenIDs {
				child, ok := txs[c]
				if !ok || *child.Type != "refund" || child.ParentID == nil || *child.ParentID != tx.ID {
					t.Errorf("charge %d lists %d, which is not its refund", tx.ID, c)
					continue
				}
				total += cents(t, child.Amount.TotalPaid)
			}
			if total != 0 {
				t.Errorf("charge %d: refunds leave %d cents", tx.ID, total)
			}
		default:
			t.Errorf("transaction %d has type %q", tx.ID, *tx.Type)
		}
	}
	return refunds
}

// Amounts add up: total_paid is the sum of the parts, total_net is total_paid minus covered fees.
func checkAmounts(t *testing.T, tx crowdchange.Transaction) {
	t.Helper()
	a := tx.Amount
	parts := cents(t, a.Apparel) + cents(t, a.CoveredFees) + cents(t, a.Donation) + cents(t, a.Ecards) +
		cents(t, a.Registration) + cents(t, a.Sponsorship) + cents(t, a.Tickets) + cents(t, a.CustomFees)
	if paid := cents(t, a.TotalPaid); paid != parts || cents(t, a.TotalNet) != paid-cents(t, a.CoveredFees) {
		t.Errorf("transaction %d: amounts do not add up: %+v", tx.ID, *a)
	}
}

// A generated year: every transaction decodes strictly, refunds and charges agree, amounts add up,
// and every currency, status, optional null and kind of text occurs.
func TestGeneratedYear(t *testing.T) {
	t.Parallel()
	_, base := yearSandbox(t, 1, 1000)
	raws := fetchAll(t, base, windowQuery(yearStart, yearEnd), 100)
	if len(raws) != 1000 {
		t.Fatalf("%d transactions, want 1000", len(raws))
	}
	txs := map[int64]crowdchange.Transaction{}
	nulls := map[string]int{}
	currencies := map[string]bool{}
	statuses := map[string]bool{}
	var all []byte
	for _, raw := range raws {
		all = append(all, raw...)
		tx := strict(t, raw)
		txs[tx.ID] = tx
		checkAmounts(t, tx)
		currencies[*tx.Amount.Currency] = true
		statuses[*tx.Type+"/"+*tx.Status] = true
		for name, isNull := range map[string]bool{"fundraiser_team": tx.FundraiserTeam == nil,
			"fundraiser_user_page": tx.FundraiserUserPage == nil, "tax_receipt": tx.TaxReceipt == nil,
			"recurring": tx.Recurring == nil, "payout": tx.Payout == nil, "payee": tx.Payee == nil,
			"mailing_address": tx.MailingAddress == nil, "donated_by": tx.DonatedBy == nil, "billing": tx.Billing == nil} {
			if isNull {
				nulls[name]++
			}
		}
	}
	for name, n := range nulls {
		if n == 0 || n == len(raws) {
			t.Errorf("%s is null in %d of %d transactions", name, n, len(raws))
		}
	}
	if len(nulls) != 9 {
		t.Errorf("some optional object is never null: %v", nulls)
	}
	if refunds := checkLinks(t, txs); refunds < 35 {
		t.Errorf("only %d refunds", refunds)
	}
	for _, c := range []string{"CAD", "USD", "AUD", "EUR"} {
		if !currencies[c] {
			t.Errorf("no %s transaction", c)
		}
	}
	for _, st := range []string{"charge/completed", "charge/refunded", "charge/pending", "refund/completed"} {
		if !statuses[st] {
			t.Errorf("no %s transaction", st)
		}
	}
	for _, text := range []string{"é", "ñ", "ü", "中文", "🎉", "O'Brien", `"covered_fees":-`, `"is_pending":true`,
		`"is_tax_receipt_issued":true`, `"is_recurring":true`, `"count":0,"items":[]`, `"apparel":null`, `"content":null`} {
		if !bytes.Contains(all, []byte(text)) {
			t.Errorf("%q never occurs", text)
		}
	}
}

// Every item category and every custom data level occurs in a generated year of 2000
// transactions, whatever the seed.
func TestGeneratedCoverage(t *testing.T) {
	t.Parallel()
	for seed := int64(1); seed <= 5; seed++ {
		s := crowdchangetest.New(crowdchangetest.Options{Seed: seed, Transactions: 2000, From: yearStart, To: yearEnd,
			Now: func() time.Time { return yearEnd }})
		truth := s.Truth(yearStart, yearEnd)
		for _, dir := range []string{"purchased", "refunded"} {
			cats := []string{"apparel", "registration", "tickets", "ecards", "tribute_cards", "custom_fees", "sponsorship"}
			if dir == "refunded" {
				cats = []string{"donations", "covered_fees", "apparel", "registration", "tickets", "ecards", "sponsorship", "custom_fees", "self_donations"}
			}
			for _, c := range cats {
				if truth.Items[crowdchangetest.ItemKey{Direction: dir, Category: c}] == 0 {
					t.Errorf("seed %d: no %s %s item", seed, dir, c)
				}
			}
		}
		for _, level := range []string{"transaction", "fundraiser", "team", "page", "registration", "self_donation_page"} {
			if truth.CustomData[level] == 0 {
				t.Errorf("seed %d: no custom data at level %s", seed, level)
			}
		}
		if len(truth.Items) != 16 || len(truth.CustomData) != 6 || len(truth.Sums) != 4 {
			t.Errorf("seed %d: unexpected keys: %v %v %v", seed, truth.Items, truth.CustomData, truth.Sums)
		}
	}
}

// Truth equals a recount of what the API serves, for the generated data, the example, created
// transactions and changed ones, by date and by payout.
func TestTruthMatchesRecount(t *testing.T) {
	t.Parallel()
	from, to := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2022, 3, 1, 0, 0, 0, 0, time.UTC)
	clk := newClock(time.Date(2021, 12, 24, 10, 30, 0, 0, time.UTC))
	s, base := sandbox(t, crowdchangetest.Options{Seed: 9, Transactions: 800, From: from, To: to, Now: clk.Now, IncludeExample: true})
	for _, fund := range []int64{103, 105, 999} {
		if a := do(t, http.MethodPost, base+"/v2/client/transactions", key, validBody(fund)); a.status != http.StatusOK {
			t.Fatalf("POST: %d %s", a.status, a.body)
		}
	}
	clk.Set(time.Date(2022, 3, 10, 0, 0, 0, 0, time.UTC))
	if changed := s.Mutate(0.05, 1); len(changed) != 40 {
		t.Fatalf("Mutate changed %d transactions, want 40", len(changed))
	}
	all := decodeAll(t, fetchAll(t, base, windowQuery(from, clk.Now()), 100))
	if err := sameTruth(s.Truth(from, clk.Now().Add(time.Second)), recount(t, all)); err != nil {
		t.Errorf("everything: %v", err)
	}
	for _, w := range []struct{ from, to time.Time }{
		{time.Date(2021, 9, 26, 0, 0, 0, 0, time.UTC), time.Date(2021, 9, 27, 0, 0, 0, 0, time.UTC)},
		{time.Date(2021, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		raws := fetchAll(t, base, windowQuery(w.from, w.to.Add(-time.Second)), 100)
		if err := sameTruth(s.Truth(w.from, w.to), recount(t, decodeAll(t, raws))); err != nil {
			t.Errorf("window %s..%s: %v", w.from, w.to, err)
		}
	}
	for _, day := range []time.Time{time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2022, 3, 9, 0, 0, 0, 0, time.UTC),
		time.Date(2021, 10, 4, 0, 0, 0, 0, time.UTC)} {
		raws := fetchAll(t, base, url.Values{"payout_date": {day.Format(time.DateOnly)}}, 100)
		if len(raws) == 0 {
			t.Errorf("no payouts on %s", day.Format(time.DateOnly))
		}
		if err := sameTruth(s.TruthByPayout(day, day, nil), recount(t, decodeAll(t, raws))); err != nil {
			t.Errorf("payouts of %s: %v", day.Format(time.DateOnly), err)
		}
	}
	// The links still hold with the example left out (its own links are illustrative).
	txs := byID(all)
	delete(txs, 10001)
	checkLinks(t, txs)
}

// The example transaction is served byte for byte as in the fixture, and counted in Truth.
func TestIncludeExample(t *testing.T) {
	s, base := sandbox(t, crowdchangetest.Options{Seed: 1, Transactions: 100, IncludeExample: true,
		From: time.Date(2021, 9, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2021, 10, 1, 0, 0, 0, 0, time.UTC),
		Now: func() time.Time { return yearEnd }})
	var fixture crowdchange.Page
	if err := json.Unmarshal(crowdchangetest.ExamplePage(), &fixture); err != nil {
		t.Fatal(err)
	}
	want := []byte(fixture.Data[0])
	p := getPage(t, base, url.Values{"dt_start": {"2021-09-26T16:00:03"}, "dt_end": {"2021-09-26T16:00:03"}})
	if len(p.Data) != 1 || !bytes.Equal(p.Data[0], want) {
		t.Fatalf("the example is not served verbatim: %d transactions", len(p.Data))
	}
	for _, q := range []url.Values{
		{"dt_start": {"2021-09-20T00:00:00"}, "dt_end": {"2021-09-30T00:00:00"}, "sort": {"date"}, "direction": {"desc"}},
		{"payout_date": {"2021-01-01"}, "payout_account": {"user"}},
	} {
		if a := do(t, http.MethodGet, txURL(base, q), "Bearer "+key, nil); !bytes.Contains(a.body, want) {
			t.Errorf("%s: the example is not in the answer", q.Encode())
		}
	}
	tr := s.Truth(time.Date(2021, 9, 26, 16, 0, 3, 0, time.UTC), time.Date(2021, 9, 26, 16, 0, 4, 0, time.UTC))
	wantTruth := crowdchangetest.Truth{
		Count: 1, IDs: []int64{10001},
		Sums: map[string]crowdchangetest.Sums{"USD": {TotalPaid: "105.15", Donation: "50.00", CoveredFees: "5.15"}},
		Items: map[crowdchangetest.ItemKey]int{
			{Direction: "purchased", Category: "apparel"}: 1, {Direction: "purchased", Category: "registration"}: 1,
			{Direction: "purchased", Category: "tickets"}: 1, {Direction: "purchased", Category: "ecards"}: 1,
			{Direction: "purchased", Category: "tribute_cards"}: 1, {Direction: "purchased", Category: "custom_fees"}: 1,
			{Direction: "purchased", Category: "sponsorship"}: 1,
			{Direction: "refunded", Category: "donations"}:    1, {Direction: "refunded", Category: "covered_fees"}: 1,
			{Direction: "refunded", Category: "apparel"}: 1, {Direction: "refunded", Category: "registration"}: 1,
			{Direction: "refunded", Category: "tickets"}: 1, {Direction: "refunded", Category: "ecards"}: 1,
			{Direction: "refunded", Category: "sponsorship"}: 1, {Direction: "refunded", Category: "custom_fees"}: 1,
			{Direction: "refunded", Category: "self_donations"}: 1,
		},
		CustomData: map[string]int{"transaction": 1, "fundraiser": 1, "team": 1, "page": 1, "registration": 2, "self_donation_page": 1},
	}
	if err := sameTruth(wantTruth, tr); err != nil {
		t.Error(err)
	}
	if tx, ok := s.Transaction(10001); !ok || tx.Date.Format(extract.DateTimeLayout) != "2021-09-26 16:00:03" {
		t.Errorf("Transaction(10001) = %v, %v", tx.ID, ok)
	}
	// Without IncludeExample it is not there.
	s2, _ := sandbox(t, crowdchangetest.Options{Seed: 1, Transactions: 100, From: time.Date(2021, 9, 1, 0, 0, 0, 0, time.UTC),
		To: time.Date(2021, 10, 1, 0, 0, 0, 0, time.UTC), Now: func() time.Time { return yearEnd }})
	if _, ok := s2.Transaction(10001); ok {
		t.Error("the example exists without IncludeExample")
	}
}

// Time moves: transactions after Now() do not exist yet, payouts appear the day after.
func TestClock(t *testing.T) {
	t.Parallel()
	clk := newClock(yearStart.AddDate(0, 6, 0))
	s, base := sandbox(t, crowdchangetest.Options{Seed: 4, Transactions: 300, From: yearStart, To: yearEnd, Now: clk.Now})
	half := len(ids(t, fetchAll(t, base, windowQuery(yearStart, yearEnd), 100)))
	if half < 120 || half > 180 {
		t.Errorf("%d of 300 transactions exist half way", half)
	}
	if tx, ok := s.Transaction(100001 + 299); ok {
		t.Errorf("the last transaction exists before its date: %v", tx.Date)
	}
	payouts := s.TruthByPayout(yearStart, yearEnd, nil).Count
	clk.Set(yearEnd.AddDate(0, 1, 0))
	if n := len(ids(t, fetchAll(t, base, windowQuery(yearStart, yearEnd), 100))); n != 300 {
		t.Errorf("%d of 300 transactions exist at the end", n)
	}
	if later := s.TruthByPayout(yearStart, yearEnd.AddDate(0, 1, 0), nil).Count; later <= payouts {
		t.Errorf("payouts did not grow: %d then %d", payouts, later)
	}
}

func validBody(fund int64) []byte {
	return []byte(`{"amount": 49.95, "frequency": "month", "email": "zoe@example.com", "fundraiser_id": ` +
		strconv.FormatInt(fund, 10) + `,
	"card": {"type": "Visa", "token": "tok_123"},
	"billing": {"is_foundation": false, "title": "Ms.", "first_name": "Zoë", "last_name": "O'Brien", "address": "12 rue Sainte-Catherine",
		"city": "Montréal", "state": "QC", "zip": "H2X 1Y4", "country": "CA"},
	"custom_data": {"T-shirt size": "M", "Newsletter": true},
	"tribute": {"type": "In memory of", "honoree": "Grand-père", "method": "email", "email": "fam@example.com", "name": "Famille"},
	"extra": {"mail_receipt": true},
	"mail": {"same_as_billing": true}}`)
}

// POST creates a charge that the next GET serves and Truth counts.
func TestCreate(t *testing.T) {
	clk := newClock(yearEnd.Add(3 * time.Hour))
	s, base := sandbox(t, crowdchangetest.Options{Seed: 1, Transactions: 200, From: yearStart, To: yearEnd, Now: clk.Now})
	before := s.Truth(yearStart, yearEnd.AddDate(0, 0, 1))
	a := do(t, http.MethodPost, base+"/v2/client/transactions", "Bearer "+key, validBody(103))
	if a.status != http.StatusOK {
		t.Fatalf("POST: %d %s", a.status, a.body)
	}
	dec := json.NewDecoder(bytes.NewReader(a.body))
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	wantKeys := "id ref_id amount currency currency_symbol frequency fundraiser_id parent_id fundraiser_page_id fundraiser_team_id " +
		"organization_id fundraiser_name organization_name organization_code user_id email mail statement_descriptor summary upsell " +
		"promo_code billing_address dtd created_at status"
	if strings.Join(keys, " ") != wantKeys {
		t.Errorf("response keys %v", keys)
	}
	var resp struct {
		ID        int64         `json:"id"`
		Amount    extract.Money `json:"amount"`
		Currency  string        `json:"currency"`
		CreatedAt string        `json:"created_at"`
		Status    string        `json:"status"`
		Mail      *struct{}     `json:"mail"`
	}
	if err := json.Unmarshal(a.body, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.ID != 100201 || resp.Amount != "49.95" || resp.Currency != "AUD" || resp.Status != "received" ||
		resp.CreatedAt != "2024-07-01 03:00:00" || resp.Mail == nil {
		t.Errorf("response %+v", resp)
	}
	p := getPage(t, base, url.Values{"dt_start": {"2024-07-01T00:00:00"}, "dt_end": {"2024-07-02T00:00:00"}})
	if len(p.Data) != 1 {
		t.Fatalf("GET after POST: %d transactions", len(p.Data))
	}
	tx := strict(t, p.Data[0])
	checkAmounts(t, tx)
	if tx.ID != resp.ID || *tx.Type != "charge" || tx.Amount.TotalPaid != "49.95" || *tx.Amount.Currency != "AUD" ||
		*tx.Billing.LastName != "O'Brien" || len(tx.CustomData) != 2 || tx.Recurring == nil || tx.MailingAddress == nil ||
		tx.PurchasedItems.TributeCards == nil || tx.Payout != nil {
		t.Errorf("created transaction %s", p.Data[0])
	}
	after := s.Truth(yearStart, yearEnd.AddDate(0, 0, 1))
	if after.Count != before.Count+1 || after.IDs[len(after.IDs)-1] != resp.ID || after.CustomData["transaction"] != before.CustomData["transaction"]+2 {
		t.Errorf("Truth after POST: %d → %d", before.Count, after.Count)
	}
	if _, ok := s.Transaction(resp.ID); !ok {
		t.Error("Transaction does not know the created transaction")
	}
	// An unknown campaign is charged in USD; the payout comes days later.
	a = do(t, http.MethodPost, base+"/v2/client/transactions", key, validBody(999))
	if !bytes.Contains(a.body, []byte(`"currency":"USD"`)) {
		t.Errorf("unknown campaign: %s", a.body)
	}
	clk.Set(yearEnd.AddDate(0, 0, 12))
	if tx, _ := s.Transaction(resp.ID); tx.Payout == nil {
		t.Error("no payout 12 days after the transaction")
	}
	if s.Stats().Created != 2 {
		t.Errorf("Stats().Created = %d", s.Stats().Created)
	}
}

// POST validates its body and names the invalid fields.
func TestCreateInvalid(t *testing.T) {
	_, base := yearSandbox(t, 1, 10)
	for _, tc := range []struct {
		body   string
		fields []string
	}{
		{`{}`, []string{"amount", "frequency", "fundraiser_id", "card", "billing"}},
		{`{"amount":"abc","frequency":"weekly","fundraiser_id":1.5,"card":{"type":"Visa"},"billing":{"first_name":"A","last_name":"B"}}`,
			[]string{"amount", "frequency", "fundraiser_id", "card.token"}},
		{`{"amount":10.999,"frequency":"once","fundraiser_id":100,"card":{"token":"t"},"billing":{"first_name":"A"}}`,
			[]string{"amount", "billing.last_name"}},
		{`{"amount":-5,"frequency":"once","fundraiser_id":100,"card":"x","billing":{"first_name":"A","last_name":"B"},"email":"nope"}`,
			[]string{"amount", "card", "email"}},
	} {
		a := do(t, http.MethodPost, base+"/v2/client/transactions", key, []byte(tc.body))
		if a.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", tc.body, a.status)
			continue
		}
		assertValidation(t, a.body, tc.fields...)
	}
	if a := do(t, http.MethodPost, base+"/v2/client/transactions", key, []byte(`[1,2`)); a.status != http.StatusBadRequest {
		t.Errorf("not JSON: status %d", a.status)
	}
	if a := do(t, http.MethodPost, base+"/v2/client/transactions", "Bearer nope", validBody(100)); a.status != http.StatusForbidden {
		t.Errorf("wrong key: status %d", a.status)
	}
}

// Mutate changes the requested fraction deterministically, keeps the links consistent, and its
// refunds are new transactions.
func TestMutate(t *testing.T) {
	t.Parallel()
	s1, base := yearSandbox(t, 5, 600)
	s2, _ := yearSandbox(t, 5, 600)
	s3, _ := yearSandbox(t, 5, 600)
	truth := s1.Truth(yearStart, yearEnd.Add(time.Second))
	yesterday := yearEnd.AddDate(0, 0, -1)
	paidBefore := s1.TruthByPayout(yesterday, yesterday, nil).Count
	changed := s1.Mutate(0.1, 7)
	if len(changed) != 60 {
		t.Fatalf("Mutate(0.1) changed %d of 600", len(changed))
	}
	for _, id := range changed {
		tx, ok := s1.Transaction(id)
		old, _ := s2.Transaction(id)
		a, _ := json.Marshal(tx)
		b, _ := json.Marshal(old)
		if !ok || bytes.Equal(a, b) {
			t.Errorf("transaction %d did not change", id)
		}
	}
	if again := s2.Mutate(0.1, 7); !equalIDs(again, changed) {
		t.Error("Mutate is not deterministic")
	}
	if other := s3.Mutate(0.1, 8); equalIDs(other, changed) {
		t.Error("another seed changed the same transactions")
	}
	after := s1.Truth(yearStart, yearEnd.Add(time.Second))
	all := decodeAll(t, fetchAll(t, base, windowQuery(yearStart, yearEnd), 100))
	if created := after.Count - truth.Count; created == 0 || len(all) != after.Count {
		t.Errorf("Mutate created %d refunds; GET serves %d of %d", created, len(all), after.Count)
	}
	checkLinks(t, byID(all))
	if err := sameTruth(after, recount(t, all)); err != nil {
		t.Error(err)
	}
	if raws := fetchAll(t, base, url.Values{"payout_date": {yesterday.Format(time.DateOnly)}}, 100); len(raws) <= paidBefore {
		t.Errorf("GET serves %d payouts of yesterday, %d before Mutate", len(raws), paidBefore)
	}
}

// Truth over 100k transactions keeps nothing per transaction.
func TestMemoryFlat(t *testing.T) {
	s := crowdchangetest.New(crowdchangetest.Options{Seed: 1, Transactions: 100_000, From: yearStart, To: yearEnd,
		Now: func() time.Time { return yearEnd }})
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	base := m.HeapAlloc
	tr := s.Truth(yearStart, yearEnd)
	if tr.Count != 100_000 {
		t.Fatalf("Truth counts %d", tr.Count)
	}
	tr = crowdchangetest.Truth{}
	runtime.GC()
	runtime.ReadMemStats(&m)
	if m.HeapAlloc > base+256<<10 {
		t.Errorf("the heap grew by %d bytes after Truth over 100k transactions", m.HeapAlloc-base)
	}
	runtime.KeepAlive(s)
	_ = tr
}
