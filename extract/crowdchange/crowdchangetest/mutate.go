package crowdchangetest

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
)

// A change Mutate can make to a transaction.
type change int

const (
	changeComplete change = iota // pending → completed
	changePayout                 // a payout gets assigned (dated yesterday)
	changeRefund                 // the charge is refunded in full by a new refund transaction
	changeReceipt                // a tax receipt gets issued
)

// Mutate changes the given fraction of the transactions that exist at Now(), deterministically
// from seed, the way transactions change after they are created: a pending charge completes, a
// payout is assigned (dated yesterday), a charge is refunded in full (a new refund transaction
// dated Now() with parent_id, and the charge gets is_refunded, status refunded and the refund in
// refund_children_ids), or a tax receipt is issued. Each chosen transaction gets one change among
// those that apply to it; transactions to which none applies are not chosen, and the example is
// never changed. It returns the ids of the changed transactions, sorted; the refunds it creates
// are new transactions (ids after the existing ones) and are not in the list.
func (s *Server) Mutate(fraction float64, seed int64) []int64 {
	now := s.opts.Now().UTC().Truncate(time.Second)
	g := s.gen
	s.mu.Lock()
	defer s.mu.Unlock()
	vis := g.firstAfter(now.Unix())
	stored := len(s.overlay)
	for stored > 0 && s.overlay[stored-1].date.After(now) {
		stored--
	}
	existing := vis + int64(stored)
	want := int64(math.Round(math.Max(0, math.Min(1, fraction)) * float64(existing)))

	var buf [4]change
	changeable := int64(0)
	for i := int64(0); i < vis; i++ {
		if len(s.genChanges(i, now, buf[:0])) > 0 {
			changeable++
		}
	}
	for _, e := range s.overlay[:stored] {
		if len(entryChanges(e, now, buf[:0])) > 0 {
			changeable++
		}
	}
	want = min(want, changeable)

	// Selection sampling (Knuth's algorithm S): exactly want of the changeable ones, in order.
	r := rand.New(rand.NewPCG(uint64(seed), 0x5EED))
	var changed []int64
	seen := int64(0)
	pickThis := func() bool {
		ok := r.Int64N(changeable-seen) < want-int64(len(changed))
		seen++
		return ok
	}
	for i := int64(0); i < vis && int64(len(changed)) < want; i++ {
		opts := s.genChanges(i, now, buf[:0])
		if len(opts) == 0 || !pickThis() {
			continue
		}
		m := s.muts[i]
		if m == nil {
			m = &mutation{}
			s.muts[i] = m
		}
		s.change(ref{idx: i}, m, opts[mix64(uint64(seed)^uint64(i)*0x9E3779B97F4A7C15)%uint64(len(opts))], now)
		changed = append(changed, idBase+i)
	}
	for _, e := range s.overlay[:stored] {
		if int64(len(changed)) >= want {
			break
		}
		opts := entryChanges(e, now, buf[:0])
		if len(opts) == 0 || !pickThis() {
			continue
		}
		s.change(ref{e: e}, &e.mut, opts[mix64(uint64(seed)^uint64(e.id)*0x9E3779B97F4A7C15)%uint64(len(opts))], now)
		changed = append(changed, e.id)
	}
	slices.Sort(changed)
	return changed
}

// genChanges lists the changes that apply to generated transaction i. Call with s.mu held.
func (s *Server) genChanges(i int64, now time.Time, out []change) []change {
	g := s.gen
	m := s.muts[i]
	if m == nil {
		m = &mutation{}
	}
	_, refund := g.parentOf(i)
	pending := !refund && g.pendingBase(i) && !m.completed
	if pending {
		return append(out, changeComplete)
	}
	p := txPlan{idx: i, refund: refund, pending: !refund && g.pendingBase(i)}
	if !m.payout.ok && !g.payout(&p).visible(now) {
		out = append(out, changePayout)
	}
	if refund {
		return out
	}
	var buf [8]int64
	if len(m.refunds) == 0 && len(g.children(i, buf[:0])) == 0 {
		out = append(out, changeRefund)
	}
	hasReceipt := !p.pending && g.hasDonation(i) && g.chance(sTaxReceipt, i, 350) && !g.receiptIssued(i).After(now)
	if !hasReceipt && m.receiptAt.IsZero() {
		out = append(out, changeReceipt)
	}
	return out
}

// entryChanges lists the changes that apply to a created transaction.
func entryChanges(e *entry, now time.Time, out []change) []change {
	tx, m := &e.tx, &e.mut
	if tx.IsPending != nil && *tx.IsPending && !m.completed {
		return append(out, changeComplete)
	}
	if !m.payout.ok && !e.payout.visible(now) {
		out = append(out, changePayout)
	}
	if tx.Type == nil || *tx.Type != "charge" {
		return out
	}
	if len(tx.RefundChildrenIDs) == 0 && len(m.refunds) == 0 {
		out = append(out, changeRefund)
	}
	if tx.TaxReceipt == nil && m.receiptAt.IsZero() {
		out = append(out, changeReceipt)
	}
	return out
}

// change makes one change. Call with s.mu held for writing.
func (s *Server) change(rf ref, m *mutation, c change, now time.Time) {
	switch c {
	case changeComplete:
		m.completed = true
	case changePayout:
		key := rf.idx
		if rf.e != nil {
			key = rf.e.id
		}
		acct := "global"
		if s.gen.h(sPayoutAcct, key)%2 == 1 {
			acct = "user"
		}
		m.payout = payoutPlan{ok: true, account: acct, date: today(now).AddDate(0, 0, -1)}
	case changeReceipt:
		m.receiptAt = now
	case changeRefund:
		parent := deepCopy(s.txOf(rf, now))
		id := s.firstCreatedID() + int64(len(s.overlay))
		tx := refundOf(&parent, id, now)
		c, err := contributionOf(&tx)
		if err != nil { // amounts of stored transactions were validated when stored
			return
		}
		s.overlay = append(s.overlay, &entry{id: id, date: now, tx: tx, payout: s.createdPayout(id, now), contrib: c})
		m.refunds = append(m.refunds, id)
	}
}

func negate(m extract.Money) extract.Money {
	if m.IsNull() {
		return m
	}
	c, err := parseCents(string(m))
	if err != nil {
		return m
	}
	return money(-c)
}

func refundedCopy[T any](gr *crowdchange.ItemGroup[T], withCount bool) *crowdchange.ItemGroup[T] {
	if gr == nil {
		return nil
	}
	return refundedGroup(slices.Clone(gr.Items), withCount)
}

// refundOf is the refund of the whole charge parent: every line item, the covered fees, the
// self-donations and the rest of the donation, with negated amounts.
func refundOf(parent *crowdchange.Transaction, id int64, date time.Time) crowdchange.Transaction {
	tx := crowdchange.Transaction{
		ID: id, Type: extract.String("refund"), Status: extract.String("completed"), RefundChildrenIDs: []int64{},
		ParentID: extract.Int(parent.ID), PartnerID: parent.PartnerID, Billing: parent.Billing, DonatedBy: parent.DonatedBy,
		MailingAddress: parent.MailingAddress, CardType: parent.CardType, PaymentProcessor: parent.PaymentProcessor,
		ProcessorTransactionID: extract.String("re_" + strconv.FormatUint(mix64(uint64(id))>>16, 36)), CustomData: []crowdchange.CustomData{},
		Date: extract.DateTime{Time: date}, Fundraiser: parent.Fundraiser, FundraiserTeam: parent.FundraiserTeam,
		FundraiserUserPage: parent.FundraiserUserPage, IsDisputed: extract.Bool(false), IsRefunded: extract.Bool(false),
		IsPending: extract.Bool(false), IsTaxReceiptIssued: extract.Bool(false), Recurring: parent.Recurring,
		IsPledgeTransaction: extract.Bool(false), IsFulfillmentTransaction: extract.Bool(false),
		RefundedItems: &crowdchange.RefundedItems{},
	}
	var selfDon int64
	var selfs []crowdchange.SelfDonationItem
	ri := tx.RefundedItems
	if pi := parent.PurchasedItems; pi != nil {
		ri.Apparel = refundedCopy(pi.Apparel, false)
		ri.Tickets = refundedCopy(pi.Tickets, false)
		ri.Ecards = refundedCopy(pi.Ecards, false)
		ri.CustomFees = refundedCopy(pi.CustomFees, true)
		if pi.Registration != nil {
			regs := slices.Clone(pi.Registration.Items)
			for k := range regs {
				regs[k].RegistrantID = nil
				pg := regs[k].FundraiserPage
				if pg == nil || pg.SelfDonation == nil {
					continue
				}
				c, _ := parseCents(string(pg.SelfDonation.Amount))
				selfDon += c
				sp := &crowdchange.SelfDonationPage{ID: pg.ID, PartnerID: parent.PartnerID, Name: pg.Name, Goal: pg.Goal, CustomData: []crowdchange.CustomData{}}
				if pg.User != nil {
					sp.FirstName, sp.LastName = pg.User.FirstName, pg.User.LastName
				}
				if pg.Team != nil {
					sp.Language = pg.Team.Language
				}
				selfs = append(selfs, crowdchange.SelfDonationItem{ID: pg.SelfDonation.ID, Amount: pg.SelfDonation.Amount,
					Name: pg.SelfDonation.Name, FundraiserPage: sp})
			}
			ri.Registration = refundedGroup(regs, false)
		}
	}
	ri.Sponsorship = refundedCopy(parent.Sponsorship, false)
	ri.SelfDonations = refundedGroup(selfs, false)
	if a := parent.Amount; a != nil {
		tx.Amount = &crowdchange.Amount{Apparel: negate(a.Apparel), CoveredFees: negate(a.CoveredFees), Currency: a.Currency,
			Donation: negate(a.Donation), DonationToPages: negate(a.DonationToPages), Ecards: negate(a.Ecards),
			IsRecurring: a.IsRecurring, Registration: negate(a.Registration), Sponsorship: negate(a.Sponsorship),
			Tickets: negate(a.Tickets), TotalNet: negate(a.TotalNet), TotalPaid: negate(a.TotalPaid), CustomFees: negate(a.CustomFees)}
		if don, err := parseCents(string(a.Donation)); err == nil && don-selfDon > 0 {
			ri.Donations = refundedGroup([]crowdchange.AmountItem{{ID: extract.Int(7_000_000 + 2*(id-idBase)), Amount: money(don - selfDon)}}, false)
		}
		if cov, err := parseCents(string(a.CoveredFees)); err == nil && cov > 0 {
			ri.CoveredFees = refundedGroup([]crowdchange.AmountItem{{ID: extract.Int(7_000_001 + 2*(id-idBase)), Amount: a.CoveredFees}}, false)
		}
	}
	return tx
}
