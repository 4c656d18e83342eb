package crowdchangetest_test

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
)

// decimal reads a money value the way a lenient client does: a JSON number or a string holding
// one. ok is false for anything else (null included).
func decimal(v any) (r *big.Rat, ok bool) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = string(v)
	case string:
		s = v
	default:
		return nil, false
	}
	return new(big.Rat).SetString(s)
}

// lenientRecount adds up served transactions the way a lossless client can, independently of the
// sandbox and of ccsync: a transaction whose id is not an integer is quarantined and counts for
// nothing else; money is read from numbers and numeric strings alike; a donation that is neither
// (nor null) is unreadable and left out of the donation sum.
func lenientRecount(t *testing.T, raws []json.RawMessage) crowdchangetest.Truth {
	t.Helper()
	tr := crowdchangetest.Truth{Sums: map[string]crowdchangetest.Sums{}, Items: map[crowdchangetest.ItemKey]int{},
		CustomData: map[string]int{}, IDs: []int64{}}
	sums := map[string]*[3]big.Rat{}
	list := func(v any) []any { l, _ := v.([]any); return l }
	add := func(dir, cat string, group any) {
		if n := len(list(obj(group)["items"])); n > 0 {
			tr.Items[crowdchangetest.ItemKey{Direction: dir, Category: cat}] += n
		}
	}
	answers := func(level string, owner any) {
		if n := len(list(obj(owner)["custom_data"])); n > 0 {
			tr.CustomData[level] += n
		}
	}
	for _, raw := range raws {
		m := generic(t, raw)
		num, isNumber := m["id"].(json.Number)
		id, err := num.Int64()
		if !isNumber || err != nil {
			tr.Quarantined++
			continue
		}
		tr.Count++
		tr.IDs = append(tr.IDs, id)
		amount := obj(m["amount"])
		cur, _ := amount["currency"].(string)
		if sums[cur] == nil {
			sums[cur] = new([3]big.Rat)
		}
		for i, k := range []string{"total_paid", "donation", "covered_fees"} {
			r, ok := decimal(amount[k])
			switch {
			case ok:
				sums[cur][i].Add(&sums[cur][i], r)
			case amount[k] == nil:
			case k == "donation":
				tr.UnreadableDonations++
			default:
				t.Fatalf("transaction %d: amount.%s is %#v", id, k, amount[k])
			}
		}
		pi := obj(m["purchased_items"])
		for _, c := range []string{"apparel", "registration", "tickets", "ecards", "tribute_cards", "custom_fees"} {
			add(crowdchangetest.Purchased, c, pi[c])
		}
		for _, it := range list(obj(pi["registration"])["items"]) {
			answers(crowdchangetest.LevelRegistration, it)
		}
		add(crowdchangetest.Purchased, "sponsorship", m["sponsorship"])
		ri := obj(m["refunded_items"])
		for _, c := range []string{"donations", "covered_fees", "apparel", "registration", "tickets", "ecards", "sponsorship", "custom_fees", "self_donations"} {
			add(crowdchangetest.Refunded, c, ri[c])
		}
		for _, it := range list(obj(ri["registration"])["items"]) {
			answers(crowdchangetest.LevelRegistration, it)
		}
		for _, it := range list(obj(ri["self_donations"])["items"]) {
			answers(crowdchangetest.LevelSelfDonationPage, obj(it)["fundraiser_page"])
		}
		answers(crowdchangetest.LevelTransaction, m)
		answers(crowdchangetest.LevelFundraiser, m["fundraiser"])
		answers(crowdchangetest.LevelTeam, m["fundraiser_team"])
		answers(crowdchangetest.LevelPage, m["fundraiser_user_page"])
	}
	for cur, s := range sums {
		tr.Sums[cur] = crowdchangetest.Sums{TotalPaid: s[0].FloatString(2), Donation: s[1].FloatString(2), CoveredFees: s[2].FloatString(2)}
	}
	tr.IDs = sortedCopy(tr.IDs)
	return tr
}

// sameLenientTruth is sameTruth, Quarantined and UnreadableDonations included.
func sameLenientTruth(want, got crowdchangetest.Truth) error {
	if want.Quarantined != got.Quarantined || want.UnreadableDonations != got.UnreadableDonations {
		return fmt.Errorf("quarantined %d, unreadable donations %d; want %d, %d",
			got.Quarantined, got.UnreadableDonations, want.Quarantined, want.UnreadableDonations)
	}
	return sameTruth(want, got)
}

// Truth and TruthByPayout under every trick are what a lenient client reads off GET, before and
// after Mutate.
func TestHostileTruthMatchesLenientRecount(t *testing.T) {
	t.Parallel()
	const n = 400
	tw := twin(t, 9, n, crowdchangetest.Hostile{Rate: 0.3, Canary: "CANARY"})
	s := tw.tricked
	windows := []struct{ from, to time.Time }{
		{yearStart, yearEnd},
		{time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
	}
	payouts := func(from, to time.Time, account string) []json.RawMessage {
		var raws []json.RawMessage
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			q := url.Values{"payout_date": {d.Format(time.DateOnly)}}
			if account != "" {
				q.Set("payout_account", account)
			}
			raws = append(raws, fetchAll(t, tw.trickedURL, q, 100)...)
		}
		return raws
	}
	check := func(stage string) {
		for _, w := range windows {
			want := s.Truth(w.from, w.to)
			if want.Quarantined == 0 || want.UnreadableDonations == 0 {
				t.Fatalf("%s: window %s: %d quarantined, %d unreadable donations", stage, w.from, want.Quarantined, want.UnreadableDonations)
			}
			got := lenientRecount(t, fetchAll(t, tw.trickedURL, windowQuery(w.from, w.to.Add(-time.Second)), 100))
			if err := sameLenientTruth(want, got); err != nil {
				t.Errorf("%s: window %s..%s: %v", stage, w.from, w.to, err)
			}
		}
		for _, p := range []struct {
			from, to time.Time
			account  string
		}{
			{time.Date(2024, 3, 14, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 16, 0, 0, 0, 0, time.UTC), ""},
			{time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC), "user"},
			{yearEnd.AddDate(0, 0, -1), yearEnd.AddDate(0, 0, -1), ""},
		} {
			var accounts []string
			if p.account != "" {
				accounts = []string{p.account}
			}
			want := s.TruthByPayout(p.from, p.to, accounts)
			if err := sameLenientTruth(want, lenientRecount(t, payouts(p.from, p.to, p.account))); err != nil {
				t.Errorf("%s: payouts %s..%s %q: %v", stage, p.from.Format(time.DateOnly), p.to.Format(time.DateOnly), p.account, err)
			}
		}
	}
	check("generated")
	if changed := s.Mutate(0.1, 5); len(changed) != n/10 {
		t.Fatalf("Mutate changed %d transactions, want %d", len(changed), n/10)
	}
	check("after Mutate")
}

// Against the same sandbox without Hostile, Truth loses exactly the quarantined transactions, and
// the donation sums exactly the unreadable donations.
func TestHostileTruthDifference(t *testing.T) {
	t.Parallel()
	tw := twin(t, 10, 500, crowdchangetest.Hostile{Rate: 0.25})
	tricked, plain := tw.tricked.Truth(yearStart, yearEnd), tw.plain.Truth(yearStart, yearEnd)
	if plain.Quarantined != 0 || plain.UnreadableDonations != 0 {
		t.Fatalf("without Hostile: %d quarantined, %d unreadable donations", plain.Quarantined, plain.UnreadableDonations)
	}
	if tricked.Count+tricked.Quarantined != plain.Count || tricked.Quarantined == 0 {
		t.Errorf("count %d + quarantined %d, want %d", tricked.Count, tricked.Quarantined, plain.Count)
	}
	// What the tricked truth must lack, by currency: everything of the quarantined transactions
	// and the donations of the mistyped ones, read off the plain sandbox's answers.
	lost := map[string]*[3]big.Rat{}
	quarantined, unreadable := 0, 0
	for _, tx := range decodeAll(t, fetchAll(t, tw.plainURL, windowQuery(yearStart, yearEnd), 100)) {
		tr, ok := tw.tricked.Tricked(tx.ID)
		if !ok {
			continue
		}
		cur := *tx.Amount.Currency
		if lost[cur] == nil {
			lost[cur] = new([3]big.Rat)
		}
		amounts := [3]int64{cents(t, tx.Amount.TotalPaid), cents(t, tx.Amount.Donation), cents(t, tx.Amount.CoveredFees)}
		switch tr {
		case crowdchangetest.TrickNoID, crowdchangetest.TrickBadID:
			quarantined++
		case crowdchangetest.TrickMistyped:
			unreadable++
			amounts = [3]int64{0, amounts[1], 0}
		default:
			amounts = [3]int64{}
		}
		for i, c := range amounts {
			lost[cur][i].Add(&lost[cur][i], big.NewRat(c, 100))
		}
	}
	if quarantined != tricked.Quarantined || unreadable != tricked.UnreadableDonations || unreadable == 0 {
		t.Errorf("quarantined %d, unreadable %d; Truth says %d, %d", quarantined, unreadable, tricked.Quarantined, tricked.UnreadableDonations)
	}
	for cur, p := range plain.Sums {
		got := tricked.Sums[cur]
		for i, f := range [][2]string{{p.TotalPaid, got.TotalPaid}, {p.Donation, got.Donation}, {p.CoveredFees, got.CoveredFees}} {
			a, _ := new(big.Rat).SetString(f[0])
			b, _ := new(big.Rat).SetString(f[1])
			var want big.Rat
			if lost[cur] != nil {
				want.Set(&lost[cur][i])
			}
			if diff := new(big.Rat).Sub(a, b); diff.Cmp(&want) != 0 {
				t.Errorf("%s sum %d: without Hostile %s, with %s: the difference is %s, want %s", cur, i, f[0], f[1], diff.FloatString(2), want.FloatString(2))
			}
		}
	}
}

// Validate refuses what New cannot serve, and New panics on it; ParseTrick knows every trick.
func TestHostileValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		h    crowdchangetest.Hostile
		ok   bool
	}{
		{"zero", crowdchangetest.Hostile{}, true},
		{"everything", crowdchangetest.Hostile{PageCap: 10, IgnorePage: true, Rate: 1, Tricks: crowdchangetest.AllTricks(), Canary: "C"}, true},
		{"negative cap", crowdchangetest.Hostile{PageCap: -1}, false},
		{"rate above 1", crowdchangetest.Hostile{Rate: 1.5}, false},
		{"negative rate", crowdchangetest.Hostile{Rate: -0.1}, false},
		{"unknown trick", crowdchangetest.Hostile{Rate: 0.5, Tricks: []crowdchangetest.Trick{"no-id", "nonsense"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.h.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate: %v", err)
			}
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				crowdchangetest.New(crowdchangetest.Options{Transactions: 10, Hostile: tc.h})
				return false
			}()
			if panicked == tc.ok {
				t.Errorf("New panicked: %v", panicked)
			}
		})
	}
	for _, tr := range crowdchangetest.AllTricks() {
		if got, err := crowdchangetest.ParseTrick(string(tr)); err != nil || got != tr {
			t.Errorf("ParseTrick(%q) = %q, %v", tr, got, err)
		}
	}
	if _, err := crowdchangetest.ParseTrick("nonsense"); err == nil {
		t.Error("ParseTrick accepts an unknown trick")
	}
}
