package crowdchangetest

import (
	"fmt"
	"slices"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
)

// Truth is the ground truth of a set of transactions, computed from the sandbox's own data (the
// generator's plans and the stored transactions), never from ccsync's transform code. It is what a
// test compares ccsync's warehouse with.
//
// Under Options.Hostile it is what a lossless client can know from what GET serves: a
// transaction without a usable id (TrickNoID, TrickBadID) is only counted in Quarantined, and the
// donation of a TrickMistyped transaction only in UnreadableDonations. The other tricks change
// the form of the data, not what it says, and leave the truth as it is.
type Truth struct {
	// Count is the number of transactions served with a usable id.
	Count int
	// Quarantined is the number of transactions served without a usable id (TrickNoID,
	// TrickBadID); they are in no other field.
	Quarantined int
	// UnreadableDonations is the number of counted transactions whose amount.donation is not a
	// number (TrickMistyped): their donations are left out of Sums[cur].Donation, their total
	// paid and covered fees are not.
	UnreadableDonations int
	// Sums are the amount totals by amount.currency.
	Sums map[string]Sums
	// Items counts the line items by direction and category.
	Items map[ItemKey]int
	// CustomData counts the custom answers by level: transaction, fundraiser, team, page,
	// registration, self_donation_page.
	CustomData map[string]int
	// IDs are the transactions' ids, sorted.
	IDs []int64
}

// Sums are money totals of one currency: exact decimals with two places ("12345.67"), added up
// in integer cents.
type Sums struct {
	TotalPaid, Donation, CoveredFees string
}

// ItemKey is a line-item kind. Direction is purchased or refunded; Category is spelled as the JSON
// key (apparel, registration, tickets, ecards, tribute_cards, custom_fees, sponsorship, donations,
// covered_fees, self_donations). The transaction's top-level sponsorship list counts as purchased.
type ItemKey struct {
	Direction, Category string
}

// Directions and custom data levels, as Truth spells them.
const (
	Purchased = "purchased"
	Refunded  = "refunded"

	LevelTransaction      = "transaction"
	LevelFundraiser       = "fundraiser"
	LevelTeam             = "team"
	LevelPage             = "page"
	LevelRegistration     = "registration"
	LevelSelfDonationPage = "self_donation_page"
)

// tally adds transactions up.
type tally struct {
	count       int
	quarantined int
	unreadable  int
	sums        map[string]*[3]int64 // total paid, donation, covered fees
	items       map[ItemKey]int
	cd          map[string]int
	ids         []int64
}

func newTally() *tally {
	return &tally{sums: map[string]*[3]int64{}, items: map[ItemKey]int{}, cd: map[string]int{}}
}

func (t *tally) money(cur string, paid, don, cov int64) {
	s := t.sums[cur]
	if s == nil {
		s = new([3]int64)
		t.sums[cur] = s
	}
	s[0] += paid
	s[1] += don
	s[2] += cov
}

func (t *tally) item(dir, cat string, n int) {
	if n > 0 {
		t.items[ItemKey{dir, cat}] += n
	}
}

func (t *tally) answers(level string, n int) {
	if n > 0 {
		t.cd[level] += n
	}
}

// addPlan adds a generated transaction from its plan, as served with trick tr ("" for none).
func (t *tally) addPlan(g *generator, p *txPlan, tr Trick) {
	switch tr {
	case TrickNoID, TrickBadID:
		t.quarantined++
		return
	}
	t.count++
	t.ids = append(t.ids, idBase+p.idx)
	cp := &p.cp
	a := p.amounts()
	don := a.donation
	if tr == TrickMistyped {
		t.unreadable++
		don = 0
	}
	t.money(fundraisers[cp.fund].currency, a.totalPaid(), don, a.covered)
	t.answers(LevelFundraiser, fundCustomData(cp.fund))
	if cp.teamID != 0 {
		t.answers(LevelTeam, g.teamCD(cp.teamID))
	}
	if cp.pageID != 0 {
		t.answers(LevelPage, g.pageCD(cp.pageID))
	}
	regCD := 0
	for k := 0; k < cp.nReg; k++ {
		regCD += cp.regs[k].cd
	}
	if !p.refund {
		t.answers(LevelTransaction, cp.cdTx)
		t.answers(LevelRegistration, regCD)
		t.item(Purchased, "apparel", cp.apparel.n)
		t.item(Purchased, "registration", cp.nReg)
		t.item(Purchased, "tickets", cp.tickets.n)
		t.item(Purchased, "ecards", cp.ecards.n)
		t.item(Purchased, "tribute_cards", cp.tribute)
		t.item(Purchased, "custom_fees", cp.fees.n)
		t.item(Purchased, "sponsorship", cp.sponsor.n)
		return
	}
	if cp.share(p.k, p.n) > 0 {
		t.item(Refunded, "donations", 1)
	}
	if p.k > 0 {
		return
	}
	selfs, selfCD := 0, 0
	for k := 0; k < cp.nReg; k++ {
		if cp.regs[k].selfDon > 0 {
			selfs++
			selfCD += cp.regs[k].selfCD
		}
	}
	t.answers(LevelRegistration, regCD)
	t.answers(LevelSelfDonationPage, selfCD)
	if cp.covered > 0 {
		t.item(Refunded, "covered_fees", 1)
	}
	t.item(Refunded, "apparel", cp.apparel.n)
	t.item(Refunded, "registration", cp.nReg)
	t.item(Refunded, "tickets", cp.tickets.n)
	t.item(Refunded, "ecards", cp.ecards.n)
	t.item(Refunded, "sponsorship", cp.sponsor.n)
	t.item(Refunded, "custom_fees", cp.fees.n)
	t.item(Refunded, "self_donations", selfs)
}

// contribution is what one stored transaction adds to a tally, computed once when it is stored.
type contribution struct {
	currency       string
	paid, don, cov int64
	items          map[ItemKey]int
	cd             map[string]int
}

func (t *tally) addContribution(id int64, c *contribution) {
	t.count++
	t.ids = append(t.ids, id)
	t.money(c.currency, c.paid, c.don, c.cov)
	for k, n := range c.items {
		t.items[k] += n
	}
	for k, n := range c.cd {
		t.cd[k] += n
	}
}

func itemsOf[T any](gr *crowdchange.ItemGroup[T]) int {
	if gr == nil {
		return 0
	}
	return len(gr.Items)
}

// contributionOf counts a transaction as stored (the example, created and refund transactions).
func contributionOf(tx *crowdchange.Transaction) (*contribution, error) {
	c := &contribution{items: map[ItemKey]int{}, cd: map[string]int{}}
	if tx.Amount != nil {
		if tx.Amount.Currency != nil {
			c.currency = *tx.Amount.Currency
		}
		for _, f := range []struct {
			dst *int64
			m   extract.Money
		}{{&c.paid, tx.Amount.TotalPaid}, {&c.don, tx.Amount.Donation}, {&c.cov, tx.Amount.CoveredFees}} {
			if f.m.IsNull() {
				continue
			}
			v, err := parseCents(string(f.m))
			if err != nil {
				return nil, fmt.Errorf("transaction %d: amount: %w", tx.ID, err)
			}
			*f.dst = v
		}
	}
	add := func(dir, cat string, n int) {
		if n > 0 {
			c.items[ItemKey{dir, cat}] += n
		}
	}
	cd := func(level string, n int) {
		if n > 0 {
			c.cd[level] += n
		}
	}
	cd(LevelTransaction, len(tx.CustomData))
	if tx.Fundraiser != nil {
		cd(LevelFundraiser, len(tx.Fundraiser.CustomData))
	}
	if tx.FundraiserTeam != nil {
		cd(LevelTeam, len(tx.FundraiserTeam.CustomData))
	}
	if tx.FundraiserUserPage != nil {
		cd(LevelPage, len(tx.FundraiserUserPage.CustomData))
	}
	if pi := tx.PurchasedItems; pi != nil {
		add(Purchased, "apparel", itemsOf(pi.Apparel))
		add(Purchased, "registration", itemsOf(pi.Registration))
		add(Purchased, "tickets", itemsOf(pi.Tickets))
		add(Purchased, "ecards", itemsOf(pi.Ecards))
		add(Purchased, "tribute_cards", itemsOf(pi.TributeCards))
		add(Purchased, "custom_fees", itemsOf(pi.CustomFees))
		if pi.Registration != nil {
			for _, it := range pi.Registration.Items {
				cd(LevelRegistration, len(it.CustomData))
			}
		}
	}
	add(Purchased, "sponsorship", itemsOf(tx.Sponsorship))
	if ri := tx.RefundedItems; ri != nil {
		add(Refunded, "donations", itemsOf(ri.Donations))
		add(Refunded, "covered_fees", itemsOf(ri.CoveredFees))
		add(Refunded, "apparel", itemsOf(ri.Apparel))
		add(Refunded, "registration", itemsOf(ri.Registration))
		add(Refunded, "tickets", itemsOf(ri.Tickets))
		add(Refunded, "ecards", itemsOf(ri.Ecards))
		add(Refunded, "sponsorship", itemsOf(ri.Sponsorship))
		add(Refunded, "custom_fees", itemsOf(ri.CustomFees))
		add(Refunded, "self_donations", itemsOf(ri.SelfDonations))
		if ri.Registration != nil {
			for _, it := range ri.Registration.Items {
				cd(LevelRegistration, len(it.CustomData))
			}
		}
		if ri.SelfDonations != nil {
			for _, it := range ri.SelfDonations.Items {
				if it.FundraiserPage != nil {
					cd(LevelSelfDonationPage, len(it.FundraiserPage.CustomData))
				}
			}
		}
	}
	return c, nil
}

func (t *tally) truth() Truth {
	tr := Truth{Count: t.count, Quarantined: t.quarantined, UnreadableDonations: t.unreadable, Sums: map[string]Sums{},
		Items: t.items, CustomData: t.cd, IDs: t.ids}
	for cur, s := range t.sums {
		tr.Sums[cur] = Sums{TotalPaid: decimal2(s[0]), Donation: decimal2(s[1]), CoveredFees: decimal2(s[2])}
	}
	if tr.IDs == nil {
		tr.IDs = []int64{}
	}
	slices.Sort(tr.IDs)
	return tr
}
