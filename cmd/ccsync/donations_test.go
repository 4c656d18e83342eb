package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/extract/crowdtilt/crowdtilttest"
	"github.com/ccsync/ccsync/extract/donately/donatelytest"
	"github.com/ccsync/ccsync/schemas"
	crowdchangeschema "github.com/ccsync/ccsync/schemas/crowdchange"
	crowdtiltschema "github.com/ccsync/ccsync/schemas/crowdtilt"
	donatelyschema "github.com/ccsync/ccsync/schemas/donately"
)

// The donations model end to end: the three sandboxes loaded into one DuckDB file through the
// command line; the model's sums agree with each source's own current views and with each
// sandbox's ground truth, to the cent; a donor who gave on two platforms under one e-mail
// (spelled differently) is one donor.

// moneySums are sums of money by "source/CURRENCY/kind", as exact rationals; zero sums are left
// out, so that a kind without rows and a kind whose rows add up to nothing compare equal.
type moneySums map[string]*big.Rat

func (m moneySums) add(t *testing.T, source, currency, kind, amount string) {
	t.Helper()
	r, ok := new(big.Rat).SetString(amount)
	if !ok {
		t.Fatalf("%s/%s/%s: not a decimal: %q", source, currency, kind, amount)
	}
	k := source + "/" + strings.ToUpper(currency) + "/" + kind
	if m[k] == nil {
		m[k] = new(big.Rat)
	}
	m[k].Add(m[k], r)
	if m[k].Sign() == 0 {
		delete(m, k)
	}
}

func (m moneySums) addCents(t *testing.T, source, currency, kind string, cents int64) {
	t.Helper()
	m.add(t, source, currency, kind, new(big.Rat).SetFrac64(cents, 100).RatString())
}

func (m moneySums) String() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "\n  %s %s", k, m[k].FloatString(2))
	}
	return b.String()
}

// sumsOf reads rows of (source, currency, kind, amount as text) into sums.
func sumsOf(t *testing.T, db *sql.DB, into moneySums, q string) {
	t.Helper()
	queryRows(t, db, q, func(rows *sql.Rows) error {
		var source, currency, kind string
		var amount sql.NullString
		if err := rows.Scan(&source, &currency, &kind, &amount); err != nil {
			return err
		}
		if amount.Valid {
			into.add(t, source, currency, kind, amount.String)
		}
		return nil
	})
}

// postDonately creates a donation in the Donately sandbox through its API.
func postDonately(t *testing.T, url string, body map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url+"/v2/donations", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(donatelytest.DefaultToken, "")
	req.Header.Set(donatelytest.AccountHeader, donatelytest.DefaultAccount)
	req.Header.Set(donatelytest.VersionHeader, donatelytest.Version2022)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /v2/donations: %s", resp.Status)
	}
}

func TestDonationsModelMatchesEverySourceAndGroundTruth(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "w.duckdb")
	clock := &fakeClock{now: sandboxNow()}

	// CrowdChange: a quarter.
	ccSrv, ccURL := sandbox(t, crowdchangetest.Options{Seed: 41, Transactions: 400, From: yearFrom, To: quarterTo, Now: clock.Now})
	cc := cli{env: map[string]string{config.APIKeyEnv: crowdchangetest.DefaultAPIKey}, now: clock.Now}
	if r := cc.run(t, "--api-url", ccURL, "--rate", "2000", "--burst", "100", "--duckdb", db, "--log-format", "json", "--log-level", "warn",
		"backfill", "--from", "2025-01-01", "--to", "2025-03-31", "--batch-windows", "40", "--concurrency", "4"); r.code != 0 {
		t.Fatalf("crowdchange backfill exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A CrowdChange donor with a counted gift gives on Donately too, under the same e-mail in
	// upper case, in the same currency.
	var email, currency string
	var ccGifts int64
	var ccNet string
	withDuckDB(t, db, func(d *sql.DB) {
		err := d.QueryRow(`SELECT donor_key, currency, gift_count, CAST(lifetime_net AS VARCHAR) FROM `+schemas.QuoteIdent(schemas.DonorsView)+`
			WHERE currency IN ('USD', 'CAD', 'EUR', 'AUD') ORDER BY gift_count DESC, donor_key LIMIT 1`).Scan(&email, &currency, &ccGifts, &ccNet)
		if err != nil {
			t.Fatalf("no CrowdChange donor: %v", err)
		}
	})
	dnSrv, dnURL := donatelySandbox(t, donatelytest.Options{Seed: 42, Donations: 300, From: yearFrom, To: yearTo, Now: clock.Now})
	dn := donatelyCLI(clock.Now)
	if r := dn.run(t, append(donatelyArgs(dnURL, db), "backfill", "--from", "2025-01-01", "--to", "2025-12-31")...); r.code != 0 {
		t.Fatalf("donately backfill exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	postDonately(t, dnURL, map[string]any{"amount_in_cents": 1234, "currency": strings.ToLower(currency), "email": strings.ToUpper(email),
		"first_name": "Shared", "last_name": "Donor", "donation_type": "card"})
	clock.Advance(time.Hour)
	if r := dn.run(t, append(donatelyArgs(dnURL, db), "sync")...); r.code != 0 {
		t.Fatalf("donately sync exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	ctSrv, ctURL := crowdtiltSandbox(t, crowdtilttest.Options{Seed: 43, Campaigns: 5, Payments: 250, From: yearFrom, To: yearTo, Now: clock.Now})
	if r := crowdtiltCLI(clock.Now).run(t, append(crowdtiltArgs(ctURL, db), "sync")...); r.code != 0 {
		t.Fatalf("crowdtilt sync exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The sandboxes' ground truth. CrowdChange's Truth sums amount.donation per currency, charges
	// and refunds together; the split by kind comes from the sandbox's transactions themselves.
	truth := moneySums{}
	ccTruth := ccSrv.Truth(yearFrom, quarterTo)
	ccTotals := moneySums{}
	for _, id := range ccTruth.IDs {
		tx, ok := ccSrv.Transaction(id)
		if !ok || tx.Type == nil || tx.Amount == nil || tx.Amount.Currency == nil || tx.Amount.Donation.IsNull() {
			continue
		}
		kind := schemas.KindGift
		if *tx.Type == "refund" {
			kind = schemas.KindRefund
		}
		truth.add(t, crowdchangeschema.Name, *tx.Amount.Currency, kind, string(tx.Amount.Donation))
		ccTotals.add(t, crowdchangeschema.Name, *tx.Amount.Currency, "all", string(tx.Amount.Donation))
	}
	wantTotals := moneySums{}
	for cur, s := range ccTruth.Sums {
		wantTotals.add(t, crowdchangeschema.Name, cur, "all", s.Donation)
	}
	if ccTotals.String() != wantTotals.String() {
		t.Fatalf("the sandbox's transactions add up to%s\nits Truth says%s", ccTotals, wantTotals)
	}
	dnTruth := dnSrv.TruthAll()
	for k, cents := range dnTruth.Cents {
		truth.addCents(t, donatelyschema.Name, k.Currency, schemas.KindGift, cents)
		if k.Status == "refunded" {
			truth.addCents(t, donatelyschema.Name, k.Currency, schemas.KindRefund, -cents)
		}
	}
	ctTruth := ctSrv.Truth()
	for status, cents := range ctTruth.Cents {
		truth.addCents(t, crowdtiltschema.Name, "USD", schemas.KindGift, cents)
		if status == "refunded" {
			truth.addCents(t, crowdtiltschema.Name, "USD", schemas.KindRefund, -cents)
		}
	}
	for _, k := range []string{"crowdchange", "donately", "crowdtilt"} {
		var gifts, refunds bool
		for key := range truth {
			gifts = gifts || strings.HasPrefix(key, k+"/") && strings.HasSuffix(key, "/gift")
			refunds = refunds || strings.HasPrefix(key, k+"/") && strings.HasSuffix(key, "/refund")
		}
		if !gifts || !refunds {
			t.Fatalf("the %s sandbox has gifts %t, refunds %t: the test wants both", k, gifts, refunds)
		}
	}

	withDuckDB(t, db, func(d *sql.DB) {
		q := schemas.QuoteIdent
		model := moneySums{}
		sumsOf(t, d, model, `SELECT source, currency, kind, CAST(sum(amount) AS VARCHAR) FROM `+q(schemas.DonationsView)+` GROUP BY ALL`)
		// The same sums, straight from each source's current views.
		direct := moneySums{}
		sumsOf(t, d, direct, `SELECT 'crowdchange', amount_currency, CASE type WHEN 'refund' THEN 'refund' ELSE 'gift' END,
			CAST(sum(amount_donation) AS VARCHAR) FROM `+q(crowdchangeschema.Transactions+"_current")+` GROUP BY ALL`)
		for _, src := range []struct{ name, view string }{
			{donatelyschema.Name, donatelyschema.Donations + "_current"}, {crowdtiltschema.Name, crowdtiltschema.Payments + "_current"},
		} {
			sumsOf(t, d, direct, `SELECT '`+src.name+`', currency, 'gift', CAST(sum(amount) AS VARCHAR) FROM `+q(src.view)+` GROUP BY ALL`)
			sumsOf(t, d, direct, `SELECT '`+src.name+`', currency, 'refund', CAST(-sum(amount) AS VARCHAR) FROM `+q(src.view)+
				` WHERE status = 'refunded' GROUP BY ALL`)
		}
		t.Logf("donations, by source, currency and kind:%s", model)
		if model.String() != direct.String() {
			t.Errorf("donations sums to%s\nthe sources' current views to%s", model, direct)
		}
		if model.String() != truth.String() {
			t.Errorf("donations sums to%s\nthe sandboxes' ground truth is%s", model, truth)
		}

		// The marts add up to the counted donations.
		counted := moneySums{}
		sumsOf(t, d, counted, `SELECT 'all', currency, 'net', CAST(sum(amount) AS VARCHAR) FROM `+q(schemas.DonationsView)+`
			WHERE status IN ('completed', 'refunded') GROUP BY ALL`)
		for _, mart := range []struct{ view, col string }{{schemas.CampaignMonthlyView, "net"}, {schemas.DonorsView, "lifetime_net"}} {
			got := moneySums{}
			sumsOf(t, d, got, `SELECT 'all', currency, 'net', CAST(sum(`+mart.col+`) AS VARCHAR) FROM `+q(mart.view)+` GROUP BY ALL`)
			want := counted
			if mart.view == schemas.DonorsView {
				want = moneySums{}
				sumsOf(t, d, want, `SELECT 'all', currency, 'net', CAST(sum(amount) AS VARCHAR) FROM `+q(schemas.DonationsView)+`
					WHERE status IN ('completed', 'refunded') AND donor_key IS NOT NULL GROUP BY ALL`)
			}
			if got.String() != want.String() {
				t.Errorf("%s.%s sums to%s\nthe counted donations to%s", mart.view, mart.col, got, want)
			}
		}

		// The shared donor: one row of donors, with the gifts of both platforms.
		var sources, keys int64
		if err := d.QueryRow(`SELECT count(DISTINCT source), count(DISTINCT donor_key) FROM `+q(schemas.DonationsView)+`
			WHERE lower(donor_key) = ?`, email).Scan(&sources, &keys); err != nil {
			t.Fatal(err)
		}
		t.Logf("shared donor %s (%s): %d CrowdChange gifts, net %s", email, currency, ccGifts, ccNet)
		if sources != 2 || keys != 1 {
			t.Errorf("%s: donations has %d sources and %d donor keys, want 2 and 1", email, sources, keys)
		}
		var gifts int64
		var net string
		n := 0
		queryRows(t, d, `SELECT gift_count, CAST(lifetime_net AS VARCHAR) FROM `+q(schemas.DonorsView)+` WHERE donor_key = '`+email+`' AND currency = '`+currency+`'`,
			func(rows *sql.Rows) error { n++; return rows.Scan(&gifts, &net) })
		wantNet := new(big.Rat)
		wantNet.SetString(ccNet)
		wantNet.Add(wantNet, big.NewRat(1234, 100))
		gotNet, _ := new(big.Rat).SetString(net)
		if n != 1 || gifts != ccGifts+1 || gotNet == nil || gotNet.Cmp(wantNet) != 0 {
			t.Errorf("%s in %s: %d donors rows, %d gifts, lifetime net %s; want 1 row, %d gifts, %s", email, currency, n, gifts, net, ccGifts+1, wantNet.FloatString(2))
		}
	})
}
