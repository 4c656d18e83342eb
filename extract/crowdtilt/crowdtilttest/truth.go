package crowdtilttest

import (
	"encoding/json"
	"slices"
	"time"
)

// Truth is the ground truth of the sandbox at Now(), computed from its own records, never from
// ccsync's code: it is what a test compares a client's (or a warehouse's) reading with. Maps keyed
// by status hold every status of Statuses(), zero or not.
type Truth struct {
	// Count is the number of payments.
	Count int
	// Payments are the numbers of payments by status.
	Payments map[string]int
	// Cents, UserFeeCents and AdminFeeCents are the sums of amount, user_fee_amount and
	// admin_fee_amount by status (integer cents).
	Cents, UserFeeCents, AdminFeeCents map[string]int64
	// PerCampaign is the number of payments of every campaign (0 for one without any), and
	// CentsPerCampaign the sum of their amounts, all statuses.
	PerCampaign      map[string]int
	CentsPerCampaign map[string]int64
	// IDs are the payments' ids, sorted.
	IDs []string
	// Campaigns are the ids of every campaign, sorted; Users those of every user a campaign or a
	// payment names (admins and payers), sorted.
	Campaigns, Users []string
}

// Pages is the number of list pages a full walk reads at perPage (at most MaxPerPage): the
// campaign pages, then for each campaign its payment pages, an empty list counting one page. It
// is what a sync that changes nothing requests. It holds for Truth(), not TruthCreated.
func (t Truth) Pages(perPage int) int {
	perPage = min(max(perPage, 1), MaxPerPage)
	n := totalPages(len(t.Campaigns), perPage)
	for _, c := range t.Campaigns {
		n += totalPages(t.PerCampaign[c], perPage)
	}
	return n
}

// Truth is the ground truth of everything that exists at Now().
func (s *Server) Truth() Truth { return s.truth(time.Time{}, time.Time{}) }

// TruthCreated is the ground truth of the payments whose creation_date is in [from, to) (what a
// backfill of that range keeps): Count, the sums, PerCampaign and IDs count those payments only;
// Campaigns and Users are those of Truth.
func (s *Server) TruthCreated(from, to time.Time) Truth { return s.truth(from, to) }

func (s *Server) truth(from, to time.Time) Truth {
	now := s.now()
	tr := Truth{
		Payments: map[string]int{}, Cents: map[string]int64{}, UserFeeCents: map[string]int64{}, AdminFeeCents: map[string]int64{},
		PerCampaign: map[string]int{}, CentsPerCampaign: map[string]int64{}, IDs: []string{}, Campaigns: []string{}, Users: []string{},
	}
	for _, st := range Statuses() {
		tr.Payments[st], tr.Cents[st], tr.UserFeeCents[st], tr.AdminFeeCents[st] = 0, 0, 0, 0
	}
	in := func(t time.Time) bool {
		return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	users := map[*user]bool{}
	for _, c := range s.data.campaigns {
		if !c.existsAt(now) {
			continue
		}
		tr.Campaigns = append(tr.Campaigns, c.id)
		tr.PerCampaign[c.id], tr.CentsPerCampaign[c.id] = 0, 0
		users[c.admin] = true
		for _, p := range c.payments {
			if !p.existsAt(now) {
				continue
			}
			users[p.user] = true
			if !in(p.created) {
				continue
			}
			st := p.stateAt(now).status
			tr.Count++
			tr.Payments[st]++
			tr.Cents[st] += p.amount
			tr.UserFeeCents[st] += p.userFee
			tr.AdminFeeCents[st] += p.adminFe
			tr.PerCampaign[c.id]++
			tr.CentsPerCampaign[c.id] += p.amount
			tr.IDs = append(tr.IDs, p.id)
		}
	}
	for u := range users {
		tr.Users = append(tr.Users, u.id)
	}
	slices.Sort(tr.IDs)
	slices.Sort(tr.Campaigns)
	slices.Sort(tr.Users)
	return tr
}

// Payment is a payment as the sandbox holds it at Now(): the fields a test compares with what a
// client stored.
type Payment struct {
	ID, CampaignID, UserID, Status        string
	Amount, UserFeeAmount, AdminFeeAmount int64
	CreationDate, ModificationDate        time.Time
	// CardID is the token of the payment's card; CardNumber and CardSecurityCode what the card
	// was created with, which the answer echoes when CardEchoed.
	CardID, CardNumber, CardSecurityCode string
	CardEchoed                           bool
	Metadata                             json.RawMessage
}

// Payment returns payment id as it is at Now(), and whether it exists.
func (s *Server) Payment(id string) (Payment, bool) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.data.paymentByID[id]
	if p == nil || !p.existsAt(now) {
		return Payment{}, false
	}
	st := p.stateAt(now)
	return Payment{
		ID: p.id, CampaignID: p.campaign.id, UserID: p.user.id, Status: st.status, Amount: p.amount, UserFeeAmount: p.userFee,
		AdminFeeAmount: p.adminFe, CreationDate: p.created, ModificationDate: st.modified, CardID: st.card.id,
		CardNumber: st.card.number, CardSecurityCode: st.card.securityCode, CardEchoed: p.echoCard, Metadata: st.metadata,
	}, true
}

// PaymentJSON returns payment id as GET /v1/campaigns/:id/payments/:id answers it at Now(),
// without the envelope ({"payment": …}), and whether it exists.
func (s *Server) PaymentJSON(id string) (json.RawMessage, bool) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.data.paymentByID[id]
	if p == nil || !p.existsAt(now) {
		return nil, false
	}
	return newRenderer(now).payment(p), true
}

// Secrets are the card data the sandbox's payments carry at Now(), sorted: every card id (the
// token that charges the card) of a payment's current card, and every card number a payment
// echoes. None of them may reach a client's records, logs, errors or a warehouse. (The security
// codes, three or four digits, are too short to look for; a client drops the member.)
func (s *Server) Secrets() []string {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	set := map[string]bool{}
	for _, p := range s.data.payments {
		if !p.existsAt(now) {
			continue
		}
		cd := p.stateAt(now).card
		set[cd.id] = true
		if p.echoCard {
			set[cd.number] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
