package donatelytest_test

import (
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

// Mutate's changes and new donations are exactly what updated[gt] shows after the watermark, the
// truth follows them, and the same seed makes the same changes.
func TestMutateVisibleThroughUpdated(t *testing.T) {
	t.Parallel()
	clk := newClock(settled)
	s, base := sandbox(t, donatelytest.Options{Seed: 14, Donations: 500, From: rangeFrom, To: rangeTo, Now: clk.Now})
	c := newClient(base, donatelytest.Version2022)
	before := s.TruthAll()
	watermark := clk.Now()
	if p := c.page(t, "/v2/donations", url.Values{"updated[gt]": {strconv.FormatInt(watermark.Unix(), 10)}}); p.Summary.TotalCount != 0 {
		t.Fatalf("%d donations updated after the watermark before Mutate", p.Summary.TotalCount)
	}
	clk.Add(90 * time.Minute)
	ids := s.Mutate(0.1, 7)
	if len(ids) != 50+12 || !slices.IsSorted(ids) {
		t.Fatalf("Mutate returned %d ids (sorted %v)", len(ids), slices.IsSorted(ids))
	}
	raws, total := c.walk(t, "/v2/donations", url.Values{"updated[gt]": {watermark.Format(time.RFC3339)}}, 25)
	var got []string
	for _, r := range decode(t, raws) {
		got = append(got, r.ID)
		if r.UpdatedAt != clk.Now().Format(time.RFC3339) {
			t.Errorf("%s: updated_at %s, want %s", r.ID, r.UpdatedAt, clk.Now().Format(time.RFC3339))
		}
	}
	slices.Sort(got)
	if total != len(ids) || !slices.Equal(got, ids) {
		t.Errorf("updated[gt] the watermark: %d donations, Mutate changed %d", len(got), len(ids))
	}
	after := s.TruthAll()
	if after.Count != before.Count+12 {
		t.Errorf("truth counts %d donations after Mutate, %d before", after.Count, before.Count)
	}
	refunded := func(tr donatelytest.Truth) (n int) {
		for k, v := range tr.Donations {
			if k.Status == donatelytest.StatusRefunded {
				n += v
			}
		}
		return n
	}
	if refunded(after) <= refunded(before) {
		t.Errorf("no refund: %d refunded before, %d after", refunded(before), refunded(after))
	}
	// Changes by kind: the served record agrees with Donation.
	var statusChanges, commentEdits int
	for _, raw := range raws {
		r := decode(t, []json.RawMessage{raw})[0]
		d, ok := s.Donation(r.ID)
		if !ok || d.Status != r.Status || d.UpdatedAt.Format(time.RFC3339) != r.UpdatedAt {
			t.Errorf("%s: served %s, Donation %+v", r.ID, r.Status, d)
		}
		if r.Comment != nil && strings.Contains(*r.Comment, "dit") {
			commentEdits++
		}
		if r.Status == donatelytest.StatusRefunded || r.Status == donatelytest.StatusCompleted {
			statusChanges++
		}
	}
	if statusChanges == 0 || commentEdits == 0 {
		t.Errorf("%d status changes, %d comment edits", statusChanges, commentEdits)
	}

	// The same seed on the same data changes the same donations.
	twin, _ := sandbox(t, donatelytest.Options{Seed: 14, Donations: 500, From: rangeFrom, To: rangeTo, Now: clk.Now})
	if again := twin.Mutate(0.1, 7); !slices.Equal(again, ids) {
		t.Error("the same Mutate on the same data changed other donations")
	}
	if none := twin.Mutate(0, 7); len(none) != 0 {
		t.Errorf("Mutate(0) changed %d donations", len(none))
	}
}

// POST creates a donation at Now(), answered in the version's envelope; it is then served by GET,
// the lists and the truth. It works without a token (the public form), not with a wrong one.
func TestPostDonation(t *testing.T) {
	t.Parallel()
	clk := newClock(settled)
	s, base := sandbox(t, donatelytest.Options{Seed: 15, Donations: 100, From: rangeFrom, To: rangeTo, Now: clk.Now})
	before := s.TruthAll()
	var campaignID string
	{
		p := newClient(base, donatelytest.Version2022).page(t, "/v2/campaigns", url.Values{"status": {"published"}, "limit": {"1"}})
		campaignID = decode(t, p.Data)[0].ID
	}
	tests := []struct {
		name    string
		version string
		auth    bool
		body    string
		status  string
		typ     string
	}{
		{"2022 card with a new donor", donatelytest.Version2022, true,
			`{"amount_in_cents": 5000, "currency": "CAD", "campaign_id": "` + campaignID + `", "email": "nouveau@example.org", "first_name": "Zoë",
			"comment": "Keep it up ✨", "meta_data": {"source": "test"}, "notes": "internal", "origin": "dashboard"}`, donatelytest.StatusCompleted, "card"},
		{"2019 cc without a token", donatelytest.Version2019, false,
			`{"account_id": "` + donatelytest.DefaultAccount + `", "amount_in_cents": "2500", "donation_type": "cc"}`, donatelytest.StatusCompleted, "cc"},
		{"2022 ach is pending", donatelytest.Version2022, true, `{"amount_in_cents": 100000, "donation_type": "ach", "email": "nouveau@example.org"}`, donatelytest.StatusPending, "ach"},
	}
	var created []string
	for _, tc := range tests {
		clk.Add(time.Minute)
		c := newClient(base, tc.version)
		if !tc.auth {
			c.auth, c.account = "", ""
		}
		a := c.post(t, "/v2/donations", []byte(tc.body))
		if a.status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", tc.name, a.status, a.body)
		}
		obj := a.body
		if tc.version == donatelytest.Version2019 {
			obj = member(t, a.body, "data")
		} else if string(member(t, a.body, "request_id")) == "" {
			t.Errorf("%s: no request_id: %s", tc.name, a.body)
		}
		r := decode(t, []json.RawMessage{obj})[0]
		now := clk.Now().Format(time.RFC3339)
		if r.Status != tc.status || r.DonationType != tc.typ || r.CreatedAt != now || r.UpdatedAt != now || !idPattern.MatchString(r.ID) {
			t.Errorf("%s: created %s", tc.name, obj)
		}
		if tc.typ != "cash" && (r.Secret == nil || *r.Secret != s.SecretOf(r.ID) || !secretPattern.MatchString(*r.Secret)) {
			t.Errorf("%s: secret %v, SecretOf %q", tc.name, r.Secret, s.SecretOf(r.ID))
		}
		// DonationJSON is the served object without the envelope (nor request_id).
		if got, ok := s.DonationJSON(r.ID, tc.version); !ok || !strings.HasPrefix(string(obj), strings.TrimSuffix(string(got), "}")) ||
			slices.Contains(keys(t, got), "request_id") {
			t.Errorf("%s: DonationJSON %s, served %s", tc.name, got, obj)
		}
		one := newClient(base, tc.version).get(t, "/v2/donations/"+r.ID, nil)
		if one.status != http.StatusOK {
			t.Errorf("%s: GET the created donation: status %d", tc.name, one.status)
		}
		created = append(created, r.ID)
	}
	first, _ := s.Donation(created[0])
	third, _ := s.Donation(created[2])
	if first.Currency != "cad" || first.CampaignID != campaignID || first.PersonID == "" || first.PersonID != third.PersonID || first.AmountInCents != 5000 {
		t.Errorf("created donations %+v and %+v", first, third)
	}
	after := s.TruthAll()
	if after.Count != before.Count+3 || after.People != before.People+1 || after.Cents[donatelytest.CurrencyStatus{Currency: "CAD", Status: "completed"}] !=
		before.Cents[donatelytest.CurrencyStatus{Currency: "CAD", Status: "completed"}]+5000 {
		t.Errorf("truth before %+v, after %+v", before, after)
	}
	p := newClient(base, donatelytest.Version2022).page(t, "/v2/donations", url.Values{"created[gt]": {strconv.FormatInt(settled.Unix(), 10)}})
	if p.Summary.TotalCount != 3 {
		t.Errorf("%d donations created after the range", p.Summary.TotalCount)
	}
	if st := s.Stats(); st.Created != 3 {
		t.Errorf("stats %+v", st)
	}
}

// POST bodies are validated: 400 for a body that is not a JSON object, 422 naming each invalid
// member, 401 for a wrong token, 400/403 for the account.
func TestPostErrors(t *testing.T) {
	t.Parallel()
	s, base := settledSandbox(t, 16, 30)
	tests := []struct {
		name   string
		edit   func(*client)
		body   string
		status int
		typ    string
	}{
		{"not an object", nil, `[1]`, 400, "bad_request"},
		{"not JSON", nil, `amount=5`, 400, "bad_request"},
		{"no amount", nil, `{"currency": "usd"}`, 422, "unprocessable_entity"},
		{"zero amount", nil, `{"amount_in_cents": 0}`, 422, "unprocessable_entity"},
		{"fractional amount", nil, `{"amount_in_cents": 12.5}`, 422, "unprocessable_entity"},
		{"bad currency", nil, `{"amount_in_cents": 100, "currency": "dollars"}`, 422, "unprocessable_entity"},
		{"unknown campaign", nil, `{"amount_in_cents": 100, "campaign_id": "cmp_000000000000"}`, 422, "unprocessable_entity"},
		{"bad email", nil, `{"amount_in_cents": 100, "email": "nobody"}`, 422, "unprocessable_entity"},
		{"bad meta_data", nil, `{"amount_in_cents": 100, "meta_data": [1]}`, 422, "unprocessable_entity"},
		{"bad donation_type", nil, `{"amount_in_cents": 100, "donation_type": "bitcoin"}`, 422, "unprocessable_entity"},
		{"wrong token", func(c *client) { c.auth = basic("nope") }, `{"amount_in_cents": 100}`, 401, "unauthorized"},
		{"no account", func(c *client) { c.account = "" }, `{"amount_in_cents": 100}`, 400, "bad_request"},
		{"other account in the body", func(c *client) { c.account = "" }, `{"amount_in_cents": 100, "account_id": "act_000000000000"}`, 403, "forbidden"},
	}
	for _, tc := range tests {
		c := newClient(base, donatelytest.Version2022)
		if tc.edit != nil {
			tc.edit(&c)
		}
		t.Run(tc.name, func(t *testing.T) {
			checkError(t, c.post(t, "/v2/donations", []byte(tc.body)), donatelytest.Version2022, tc.status, tc.typ)
		})
	}
	if st := s.Stats(); st.Created != 0 || st.Invalid != 8 || s.TruthAll().Count != 30 {
		t.Errorf("stats %+v", st)
	}
}
