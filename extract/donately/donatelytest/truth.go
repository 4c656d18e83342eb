package donatelytest

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// CurrencyStatus keys the sums of Truth: Currency is the ISO code in upper case ("USD", although
// the API sends "usd"), Status a donation status as the API spells it (StatusCompleted, ...).
type CurrencyStatus struct {
	Currency, Status string
}

// Truth is the ground truth of the records created in a range, as they are at Now(), computed from
// the sandbox's own records, never from ccsync's code: it is what a test compares ccsync's
// warehouse with.
type Truth struct {
	// Count is the number of donations.
	Count int
	// Cents are the sums of amount_in_cents by currency and status.
	Cents map[CurrencyStatus]int64
	// Donations are the numbers of donations by currency and status.
	Donations map[CurrencyStatus]int
	// IDs are the donations' ids, sorted.
	IDs []string
	// Campaigns and People are the numbers of campaigns and people created in the range.
	Campaigns, People int
}

// farFuture bounds TruthAll.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Truth is the ground truth of the donations, campaigns and people with created_at in
// [from, to) that exist at Now(): generated, created by POST or added by Mutate, each in its state
// at Now().
func (s *Server) Truth(from, to time.Time) Truth {
	now := s.now()
	tr := Truth{Cents: map[CurrencyStatus]int64{}, Donations: map[CurrencyStatus]int{}, IDs: []string{}}
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) && !t.After(now) }
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, d := range s.data.donations {
		if !in(d.created) {
			continue
		}
		k := CurrencyStatus{Currency: strings.ToUpper(d.currency), Status: d.stateAt(now).status}
		tr.Count++
		tr.Cents[k] += d.amount
		tr.Donations[k]++
		tr.IDs = append(tr.IDs, d.id)
	}
	for _, c := range s.data.campaigns {
		if in(c.created) {
			tr.Campaigns++
		}
	}
	for _, p := range s.data.people {
		if in(p.created) {
			tr.People++
		}
	}
	slices.Sort(tr.IDs)
	return tr
}

// TruthAll is the ground truth of every record that exists at Now().
func (s *Server) TruthAll() Truth { return s.Truth(time.Unix(0, 0).UTC(), farFuture) }

// Donation is a donation as the sandbox holds it at Now(): the fields a test compares with what a
// client stored. Nullable references are "" when absent.
type Donation struct {
	ID             string
	AmountInCents  int64
	Currency       string // lower case, as the API sends it
	Status         string
	CampaignID     string
	PersonID       string
	FundraiserID   string
	SubscriptionID string
	Recurring      bool
	Anonymous      bool
	Comment        *string
	DonationType   string // Version2022 vocabulary
	// PaymentIntentSecret is the credential the API sends ("" when none): a client must drop it.
	PaymentIntentSecret string
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Donation returns donation id as it is at Now(), and whether it exists.
func (s *Server) Donation(id string) (Donation, bool) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.data.donationByID[id]
	if d == nil || !d.existsAt(now) {
		return Donation{}, false
	}
	st := d.stateAt(now)
	out := Donation{ID: d.id, AmountInCents: d.amount, Currency: d.currency, Status: st.status, Recurring: d.recurring,
		Anonymous: d.anonymous, DonationType: d.donationType, PaymentIntentSecret: d.secret, CreatedAt: d.created, UpdatedAt: st.at}
	if st.comment != nil {
		out.Comment = ptr(*st.comment)
	}
	if d.campaign != nil {
		out.CampaignID = d.campaign.id
	}
	if d.person != nil {
		out.PersonID = d.person.id
	}
	if d.fundraiser != nil {
		out.FundraiserID = d.fundraiser.id
	}
	if d.subscription != nil {
		out.SubscriptionID = d.subscription.id
	}
	return out, true
}

// DonationJSON returns donation id as GET /v2/donations/:id answers it in version at Now(), without
// the envelope (no success, data or request_id), and whether it exists.
func (s *Server) DonationJSON(id, version string) (json.RawMessage, bool) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.data.donationByID[id]
	if d == nil || !d.existsAt(now) {
		return nil, false
	}
	if version != Version2022 {
		version = Version2019
	}
	b, err := json.Marshal(renderDonation(d, version, now))
	if err != nil {
		return nil, false
	}
	return b, true
}

// SecretOf is the payment_intent_secret of donation id ("pi_…_secret_…"), "" when it has none or
// does not exist.
func (s *Server) SecretOf(id string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if d := s.data.donationByID[id]; d != nil {
		return d.secret
	}
	return ""
}

// Secrets are the payment_intent_secret values of every donation that exists at Now(), sorted:
// none of them may ever reach a log, an error or the warehouse.
func (s *Server) Secrets() []string {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for _, d := range s.data.donations {
		if d.secret != "" && d.existsAt(now) {
			out = append(out, d.secret)
		}
	}
	slices.Sort(out)
	return out
}
