package crowdchangetest

import (
	"math/bits"
	"sort"
	"time"
)

// The generator makes transaction i (0 ≤ i < n) from (seed, i) alone, on demand: nothing is stored
// per transaction. Every decision is a hash of (seed, salt, i), so decisions are independent of
// each other and of the order in which transactions are asked for.

// idBase is the id of generated transaction 0; transaction i has id idBase+i.
const idBase = 100001

// refundScan is how far after a charge its refunds can be (in indexes).
const refundScan = 50

// maxPayoutDelay is the largest number of days between a transaction's date and its payout.
const maxPayoutDelay = 9

// Salts of the independent decisions.
const (
	sDate uint64 = iota
	sFund
	sRefund
	sParentOff
	sPending
	sHasDon
	sRoundDon
	sDonAmt
	sApparel
	sReg
	sRegPrice
	sRegPage
	sRegTeam
	sRegTeamID
	sRegSelf
	sRegSelfAmt
	sRegMail
	sRegCD
	sRegSelfCD
	sTickets
	sEcards
	sTribute
	sFees
	sSponsor
	sCovered
	sTeam
	sPage
	sCDTx
	sRecurring
	sTaxReceipt
	sPayout
	sPayoutDays
	sPayoutAcct
	sTeamCD
	sPageCD
	sDonor
	sEmptyGroup
	sCountQuirk
	sRender
	sUser
	sTeamR
	sPageR
	sDonorR
	sItemR
	sIssued
	sCreated
	sOwn
	sHostile      // whether a transaction is rendered with a trick (Options.Hostile)
	sHostileTrick // which trick
	numSalts
)

// generator makes the transactions of one sandbox. It is immutable, hence safe for concurrent use.
type generator struct {
	seed uint64
	n    int64  // number of generated transactions
	from int64  // unix seconds of the first possible date
	span uint64 // seconds in [from, to)
	sm   [numSalts]uint64
}

func newGenerator(seed int64, n int, from, to time.Time) *generator {
	g := &generator{seed: uint64(seed), n: int64(n), from: from.Unix(), span: uint64(to.Unix() - from.Unix())}
	if g.span == 0 {
		g.span = 1
	}
	for s := range g.sm {
		g.sm[s] = mix64(g.seed ^ (uint64(s)+1)*0x9E3779B97F4A7C15)
	}
	return g
}

// mix64 is the splitmix64 finaliser: a bijective, well-mixing hash of 64 bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// h is the decision hash of (salt, i).
func (g *generator) h(salt uint64, i int64) uint64 { return mix64(g.sm[salt] ^ uint64(i)) }

// hk is the decision hash of (salt, i, k), for the k-th line item of i.
func (g *generator) hk(salt uint64, i int64, k int) uint64 {
	return mix64(g.sm[salt] ^ uint64(i) ^ uint64(k+1)<<52)
}

// chance is true for perMille out of 1000 values of i.
func (g *generator) chance(salt uint64, i int64, perMille uint64) bool {
	return g.h(salt, i)%1000 < perMille
}

// date is the date of transaction i in unix seconds: non-decreasing in i, spread evenly over
// [from, to) with a per-transaction jitter: date(i) = from + ⌊(i + u_i)·span / n⌋, u_i ∈ [0, 1).
func (g *generator) date(i int64) int64 {
	u := g.h(sDate, i) >> 44 // 20 bits
	num := uint64(i)<<20 | u
	hi, lo := bits.Mul64(num, g.span)
	q, _ := bits.Div64(hi, lo, uint64(g.n)<<20)
	return g.from + int64(q)
}

// firstAtOrAfter is the first index whose date is ≥ t (n when none).
func (g *generator) firstAtOrAfter(t int64) int64 {
	return int64(sort.Search(int(g.n), func(i int) bool { return g.date(int64(i)) >= t }))
}

// firstAfter is the first index whose date is > t (n when none).
func (g *generator) firstAfter(t int64) int64 {
	return int64(sort.Search(int(g.n), func(i int) bool { return g.date(int64(i)) > t }))
}

// refundCandidate: i is a refund if an eligible charge precedes it closely enough.
func (g *generator) refundCandidate(i int64) bool { return i > 0 && g.chance(sRefund, i, 70) }

// pendingBase: a charge that is still pending (never refunded, no payout, no receipt).
func (g *generator) pendingBase(i int64) bool { return g.chance(sPending, i, 40) }

// hasDonation: the charge includes a general donation (at least 5.00).
func (g *generator) hasDonation(i int64) bool { return g.chance(sHasDon, i, 850) }

// eligible: j can be refunded by a generated refund.
func (g *generator) eligible(j int64) bool {
	return !g.refundCandidate(j) && !g.pendingBase(j) && g.hasDonation(j)
}

// parentOf is the charge refunded by i, when i is a refund.
func (g *generator) parentOf(i int64) (int64, bool) {
	if !g.refundCandidate(i) {
		return 0, false
	}
	lo := max(0, i-refundScan)
	for j := i - 1 - int64(g.h(sParentOff, i)%20); j >= lo; j-- {
		if g.eligible(j) {
			return j, true
		}
	}
	return 0, false
}

// children appends to buf the refunds of charge j, in index order.
func (g *generator) children(j int64, buf []int64) []int64 {
	if !g.eligible(j) {
		return buf
	}
	end := min(g.n, j+1+refundScan)
	for i := j + 1; i < end; i++ {
		if p, ok := g.parentOf(i); ok && p == j {
			buf = append(buf, i)
		}
	}
	return buf
}

// items is one category of priced line items (at most 4).
type items struct {
	n     int
	price [4]int64
}

func (it items) sum() int64 {
	var s int64
	for k := 0; k < it.n; k++ {
		s += it.price[k]
	}
	return s
}

// regPlan is one registration line.
type regPlan struct {
	price   int64
	page    bool  // the registrant has a personal page
	teamID  int64 // the page's team, 0 for none
	selfDon int64 // the registrant's self-donation to the page, cents (0: none)
	mailing bool
	cd      int // custom answers of the registration
	selfCD  int // custom answers of the self-donation page (seen when refunded)
}

// chargePlan is everything numeric about what a charge bought; a refund renders its parent's.
type chargePlan struct {
	idx                                     int64
	fund                                    int
	donation                                int64 // general donation, cents (0: none)
	apparel, tickets, ecards, fees, sponsor items
	tribute                                 int
	nReg                                    int
	regs                                    [3]regPlan
	covered                                 int64
	teamID, pageID                          int64
	cdTx                                    int
	recurring                               bool
}

func (g *generator) items(salt uint64, c int64, perMille uint64, maxN int, prices []int64) items {
	var it items
	if !g.chance(salt, c, perMille) {
		return it
	}
	it.n = 1 + int(g.hk(salt, c, 0)%uint64(maxN))
	for k := 0; k < it.n; k++ {
		it.price[k] = prices[g.hk(salt, c, k+1)%uint64(len(prices))]
	}
	return it
}

func (g *generator) chargePlan(c int64) chargePlan {
	p := chargePlan{idx: c, fund: int(g.h(sFund, c) % uint64(len(fundraisers)))}
	if g.hasDonation(c) {
		if g.chance(sRoundDon, c, 400) {
			p.donation = roundDonations[g.h(sDonAmt, c)%uint64(len(roundDonations))]
		} else {
			p.donation = 500 + int64(g.h(sDonAmt, c)%49500)
		}
	}
	p.apparel = g.items(sApparel, c, 100, 2, apparelPrices)
	p.tickets = g.items(sTickets, c, 160, 4, ticketPrices)
	p.ecards = g.items(sEcards, c, 100, 2, cardPrices)
	p.fees = g.items(sFees, c, 80, 1, feePrices)
	p.sponsor = g.items(sSponsor, c, 60, 1, sponsorPrices)
	if g.chance(sTribute, c, 70) {
		p.tribute = 1
	}
	if g.chance(sReg, c, 150) {
		p.nReg = 1 + int(g.hk(sReg, c, 0)%2)
		for k := 0; k < p.nReg; k++ {
			r := &p.regs[k]
			r.price = regPrices[g.hk(sRegPrice, c, k)%uint64(len(regPrices))]
			r.page = g.hk(sRegPage, c, k)%1000 < 800
			if r.page {
				if g.hk(sRegTeam, c, k)%1000 < 500 {
					r.teamID = g.teamID(p.fund, g.hk(sRegTeamID, c, k))
				}
				if g.hk(sRegSelf, c, k)%1000 < 600 {
					r.selfDon = selfDonations[g.hk(sRegSelfAmt, c, k)%uint64(len(selfDonations))]
					r.selfCD = int(g.hk(sRegSelfCD, c, k) % 3)
				}
			}
			r.mailing = g.hk(sRegMail, c, k)%1000 < 700
			r.cd = int(g.hk(sRegCD, c, k) % 4)
		}
	}
	if p.donation == 0 && p.apparel.n+p.tickets.n+p.ecards.n+p.fees.n+p.sponsor.n+p.nReg == 0 {
		p.tickets = items{n: 1, price: [4]int64{ticketPrices[g.h(sTickets, c)%uint64(len(ticketPrices))]}}
	}
	if g.chance(sCovered, c, 450) {
		sub := p.subtotal()
		p.covered = (sub*29+500)/1000 + 30
	}
	if g.chance(sTeam, c, 300) {
		p.teamID = g.teamID(p.fund, g.h(sTeam, c)>>20)
	}
	if g.chance(sPage, c, 350) {
		p.pageID = 20000 + int64(p.fund)*1000 + int64(g.h(sPage, c)>>20%300)
	}
	if g.chance(sCDTx, c, 500) {
		p.cdTx = 1 + int(g.h(sCDTx, c)>>20%3)
	}
	p.recurring = p.donation > 0 && g.chance(sRecurring, c, 100)
	return p
}

// teamID picks a team of the campaign.
func (g *generator) teamID(fund int, h uint64) int64 { return 1000 + int64(fund)*100 + int64(h%40) }

// teamCD and pageCD are the custom answers a team's or page's registration carries.
func (g *generator) teamCD(teamID int64) int { return int(g.h(sTeamCD, teamID) % 3) }
func (g *generator) pageCD(pageID int64) int { return int(g.h(sPageCD, pageID) % 3) }

func (p *chargePlan) selfDon() int64 {
	var s int64
	for k := 0; k < p.nReg; k++ {
		s += p.regs[k].selfDon
	}
	return s
}

func (p *chargePlan) regTotal() int64 {
	var s int64
	for k := 0; k < p.nReg; k++ {
		s += p.regs[k].price
	}
	return s
}

// subtotal is what the charge costs before covered fees.
func (p *chargePlan) subtotal() int64 {
	return p.donation + p.selfDon() + p.apparel.sum() + p.regTotal() + p.tickets.sum() +
		p.ecards.sum() + p.fees.sum() + p.sponsor.sum()
}

// amounts is the amount object in cents.
type amounts struct {
	apparel, covered, donation, toPages, ecards, registration, sponsorship, tickets, fees int64
}

func (a amounts) totalPaid() int64 {
	return a.apparel + a.covered + a.donation + a.ecards + a.registration + a.sponsorship + a.tickets + a.fees
}

func (a amounts) totalNet() int64 { return a.totalPaid() - a.covered }

func (p *chargePlan) chargeAmounts() amounts {
	a := amounts{
		apparel: p.apparel.sum(), covered: p.covered, donation: p.donation + p.selfDon(),
		toPages: p.selfDon(), ecards: p.ecards.sum(), registration: p.regTotal(),
		sponsorship: p.sponsor.sum(), tickets: p.tickets.sum(), fees: p.fees.sum(),
	}
	if p.pageID != 0 {
		a.toPages += p.donation
	}
	return a
}

// share is the part of the general donation that refund k of n gives back.
func (p *chargePlan) share(k, n int) int64 {
	return p.donation*int64(k+1)/int64(n) - p.donation*int64(k)/int64(n)
}

// refundAmounts are the (negative) amounts of refund k of n: the first refund gives back every
// line item, the covered fees, the self-donations and its share of the general donation; the
// others their share of the general donation. Together they refund the whole charge.
func (p *chargePlan) refundAmounts(k, n int) amounts {
	share := p.share(k, n)
	a := amounts{donation: -share}
	if p.pageID != 0 {
		a.toPages = -share
	}
	if k == 0 {
		c := p.chargeAmounts()
		a.apparel, a.covered, a.ecards = -c.apparel, -c.covered, -c.ecards
		a.registration, a.sponsorship, a.tickets, a.fees = -c.registration, -c.sponsorship, -c.tickets, -c.fees
		a.donation -= p.selfDon()
		a.toPages -= p.selfDon()
	}
	return a
}

// txPlan is a generated transaction: a charge, or refund k of n of the charge parent.
type txPlan struct {
	idx     int64
	refund  bool
	parent  int64
	k, n    int
	pending bool
	cp      chargePlan // the charge's own plan, or the refunded charge's
}

func (g *generator) plan(i int64) txPlan {
	p := txPlan{idx: i}
	if j, ok := g.parentOf(i); ok {
		var buf [8]int64
		kids := g.children(j, buf[:0])
		p.refund, p.parent, p.n = true, j, len(kids)
		for k, c := range kids {
			if c == i {
				p.k = k
			}
		}
		p.cp = g.chargePlan(j)
		return p
	}
	p.pending = g.pendingBase(i)
	p.cp = g.chargePlan(i)
	return p
}

func (p *txPlan) amounts() amounts {
	if p.refund {
		return p.cp.refundAmounts(p.k, p.n)
	}
	return p.cp.chargeAmounts()
}

// taxReceipt: a completed charge with a donation may carry a tax receipt.
func (g *generator) taxReceipt(p *txPlan) bool {
	return !p.refund && !p.pending && p.cp.donation > 0 && g.chance(sTaxReceipt, p.idx, 350)
}

// receiptIssued is when the tax receipt of charge i is issued: 1 to 72 hours after its date.
func (g *generator) receiptIssued(i int64) time.Time {
	return time.Unix(g.date(i), 0).UTC().Add(time.Duration(1+g.h(sIssued, i)%72) * time.Hour)
}

// payoutPlan is when and where a transaction is (or will be) paid out.
type payoutPlan struct {
	ok      bool
	account string
	date    time.Time // UTC midnight
}

// visible reports whether the payout has happened by now: payouts are known from the day after.
func (pp payoutPlan) visible(now time.Time) bool {
	return pp.ok && pp.date.Before(today(now))
}

func today(now time.Time) time.Time { return now.UTC().Truncate(24 * time.Hour) }

// payout is the planned payout of transaction i: none when pending, none for a small share (a
// later Mutate can assign it), else 2..9 days after its date.
func (g *generator) payout(p *txPlan) payoutPlan {
	if p.pending || !g.chance(sPayout, p.idx, 930) {
		return payoutPlan{}
	}
	d := time.Unix(g.date(p.idx), 0).UTC().Truncate(24 * time.Hour)
	days := 2 + int(g.h(sPayoutDays, p.idx)%(maxPayoutDelay-1))
	acct := "global"
	if g.h(sPayoutAcct, p.idx)%2 == 1 {
		acct = "user"
	}
	return payoutPlan{ok: true, account: acct, date: d.AddDate(0, 0, days)}
}
