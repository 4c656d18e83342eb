package crowdchangetest

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
)

// Rendering turns a plan into the API's transaction. Numbers come from the plan; names, texts and
// the choice between null and a value come from generators seeded by (seed, the owning id), so a
// team, a page or a donor looks the same in every transaction that carries it, and a refund
// carries exactly its charge's line items.

// Category codes, for item ids and per-category decisions.
const (
	catApparel = iota
	catRegistration
	catTickets
	catEcards
	catTribute
	catFees
	catSponsor
)

func (g *generator) rng(salt uint64, owner int64) *rand.Rand {
	return rand.New(rand.NewPCG(g.sm[salt], uint64(owner)))
}

func (g *generator) itemRNG(c int64, cat, k int) *rand.Rand {
	return rand.New(rand.NewPCG(g.sm[sItemR]^uint64(cat)<<56^uint64(k)<<52, uint64(c)))
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

func maybe(r *rand.Rand, perMille int, s string) *string {
	if r.IntN(1000) < perMille {
		return &s
	}
	return nil
}

func itemID(c int64, cat, k int) *int64 {
	return extract.Int(5_000_000 + c*32 + int64(cat)*4 + int64(k))
}

func pageURL(r *rand.Rand) *string {
	const digits = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	for i := range b {
		b[i] = digits[r.IntN(len(digits))]
	}
	return extract.String("https://my.crowdchange.co/" + string(b))
}

func phone(r *rand.Rand) string {
	return "1-555-" + strconv.Itoa(100+r.IntN(900)) + "-" + strconv.Itoa(1000+r.IntN(9000))
}

// donorSpec is a donor, the same in every transaction of theirs.
type donorSpec struct {
	id                        int64
	title, first, last        string
	business                  string // "" → null
	foundation                bool
	street, email, phone      string
	pl                        place
	registered, hasPhoneField bool
}

func (g *generator) donor(id int64) donorSpec {
	r := g.rng(sDonorR, id)
	d := donorSpec{id: id, title: pick(r, titles), first: pick(r, firstNames), last: pick(r, lastNames),
		street: pick(r, streets), pl: pick(r, places), email: "donor" + strconv.FormatInt(id, 10) + "@example.com",
		phone: phone(r), registered: r.IntN(10) < 7, hasPhoneField: r.IntN(10) < 6}
	if r.IntN(10) < 2 {
		d.business = pick(r, businessNames)
		d.foundation = r.IntN(4) == 0
	}
	return d
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// when is s when cond holds, else null.
func when(cond bool, s string) *string {
	if !cond {
		return nil
	}
	return &s
}

func (d donorSpec) phonePtr() *string {
	if !d.hasPhoneField {
		return nil
	}
	return extract.String(d.phone)
}

func (d donorSpec) billing(withEmail bool) *crowdchange.Billing {
	b := &crowdchange.Billing{
		BusinessName: optional(d.business), IsFoundation: extract.Bool(d.foundation), Title: extract.String(d.title),
		Name: extract.String(d.title + " " + d.first + " " + d.last), FirstName: extract.String(d.first),
		LastName: extract.String(d.last), StreetAddress: extract.String(d.street), City: extract.String(d.pl.city),
		Country: extract.String(d.pl.country), State: extract.String(d.pl.state), Postal: extract.String(d.pl.postal),
		Phone: d.phonePtr(),
	}
	if withEmail {
		b.Email = extract.String(d.email)
	}
	return b
}

func (d donorSpec) donatedBy() *crowdchange.DonatedBy {
	db := &crowdchange.DonatedBy{
		BusinessName: optional(d.business), Title: extract.String(d.title),
		Name: extract.String(d.title + " " + d.first + " " + d.last), FirstName: extract.String(d.first),
		LastName: extract.String(d.last), StreetAddress: extract.String(d.street), City: extract.String(d.pl.city),
		Country: extract.String(d.pl.country), State: extract.String(d.pl.state), Postal: extract.String(d.pl.postal),
		Email: extract.String(d.email), IsFoundation: extract.Bool(d.foundation), Phone: d.phonePtr(),
	}
	if d.registered {
		db.UserID = extract.Int(d.id)
	}
	return db
}

// user is a CrowdChange user (campaign owner, captain, page owner, payee).
func (g *generator) user(id int64, withLanguage bool) *crowdchange.User {
	r := g.rng(sUser, id)
	first, last, title := pick(r, firstNames), pick(r, lastNames), pick(r, titles)
	u := &crowdchange.User{ID: extract.Int(id), Email: extract.String("user" + strconv.FormatInt(id, 10) + "@example.com"),
		FirstName: extract.String(first), LastName: extract.String(last), Title: extract.String(title),
		Name: extract.String(first + " " + last)}
	if withLanguage {
		u.Language = extract.String(pick(r, []string{"en", "fr"}))
	}
	return u
}

// customData makes n answers owned by owner at one level (salt).
func (g *generator) customData(salt uint64, owner int64, n int) []crowdchange.CustomData {
	out := make([]crowdchange.CustomData, 0, n)
	if n == 0 {
		return out
	}
	r := rand.New(rand.NewPCG(g.sm[salt]^0xC0FFEE, uint64(owner)))
	for k := 0; k < n; k++ {
		q := r.IntN(len(questions))
		cd := crowdchange.CustomData{
			FieldID: extract.Int(1001 + int64(q)), SourceID: extract.Int(owner), Name: extract.String(questions[q]),
			FieldCustomID: maybe(r, 500, "Q-"+strconv.Itoa(100+q)), ResponseCustomID: maybe(r, 500, "R-"+strconv.Itoa(r.IntN(100000))),
		}
		if r.IntN(10) > 0 {
			cd.Content = extract.JSONText{Text: pick(r, answers), Valid: true}
		}
		out = append(out, cd)
	}
	return out
}

func (g *generator) fundraiser(k int) *crowdchange.Fundraiser {
	f := fundraisers[k]
	t := func(s string) extract.DateTime {
		v, _ := time.ParseInLocation(extract.DateTimeLayout, s, time.UTC)
		return extract.DateTime{Time: v}
	}
	tagList := append([]string{}, f.tags...)
	return &crowdchange.Fundraiser{
		ID: extract.Int(f.id), PartnerID: extract.Int(10), FundraiserTemplateID: extract.Int(f.template),
		FundraiserTemplate: &crowdchange.Template{ID: extract.Int(f.template), Name: extract.String("Template " + strconv.FormatInt(f.template, 10))},
		Name:               extract.String(f.name), DTStart: t(f.start), DTEnd: t(f.end), Location: extract.String(f.location),
		Goal: money(goals[k%len(goals)]), Campus: optional(f.campus), NationalOffice: optional(f.office),
		Chapter: when(f.office != "", "Gamma Psi"), ChapterCustomID: when(f.office != "", "GPI-12345"),
		Organization: extract.String("CrowdChange Sandbox Org"), InSupportName: when(k%2 == 0, "Cancer Research"),
		InSupportCode: when(k%2 == 0, "CR-123"), AppealCode: extract.String("GEN-" + strconv.Itoa(100+k)),
		Language: extract.String(f.language), CustomData: g.customData(sFund, f.id, fundCustomData(k)),
		User: g.user(int64(k)+1, false), TagsList: tagList,
	}
}

func teamFund(teamID int64) int { return int((teamID - 1000) / 100) }

func (g *generator) team(teamID int64) *crowdchange.Team {
	r := g.rng(sTeamR, teamID)
	return &crowdchange.Team{
		ID: extract.Int(teamID), PartnerID: extract.Int(10), FundraiserID: extract.Int(fundraisers[teamFund(teamID)].id),
		Name: extract.String(pick(r, teamNames)), Goal: money(pick(r, goals) / 10), URL: pageURL(r),
		User: g.user(2000+teamID, true), CustomData: g.customData(sTeamCD, teamID, g.teamCD(teamID)),
	}
}

func (g *generator) pageTeam(teamID int64) *crowdchange.PageTeam {
	t := g.team(teamID)
	return &crowdchange.PageTeam{ID: t.ID, Name: t.Name, Goal: t.Goal, URL: t.URL, Language: t.User.Language}
}

func (g *generator) userPage(pageID int64) *crowdchange.UserPage {
	r := g.rng(sPageR, pageID)
	u := g.user(3000+pageID, true)
	return &crowdchange.UserPage{
		ID: extract.Int(pageID), PartnerID: extract.Int(10), Name: extract.String(*u.FirstName + "'s page"),
		FirstName: u.FirstName, LastName: u.LastName, UserName: u.Name, Title: u.Title,
		Goal: money(pick(r, goals) / 100), URL: pageURL(r), Language: u.Language,
		CustomData: g.customData(sPageCD, pageID, g.pageCD(pageID)),
	}
}

// registrant is the person and page behind registration line k of charge c.
type registrant struct {
	first, last, title   string
	pageID, selfDonID    int64
	goal                 int64
	lang                 string
	registrantID, userID int64
}

func (g *generator) registrant(c int64, k int) registrant {
	r := g.itemRNG(c, catRegistration, k+8)
	return registrant{first: pick(r, firstNames), last: pick(r, lastNames), title: pick(r, titles),
		pageID: 800000 + c*4 + int64(k), selfDonID: 900000 + c*4 + int64(k), goal: pick(r, goals) / 100,
		lang: pick(r, []string{"en", "fr"}), registrantID: 700000 + c*4 + int64(k), userID: 600000 + c*4 + int64(k)}
}

func (g *generator) registration(p *chargePlan, k int, purchased bool) crowdchange.RegistrationItem {
	rp := p.regs[k]
	rg := g.registrant(p.idx, k)
	r := g.itemRNG(p.idx, catRegistration, k)
	it := crowdchange.RegistrationItem{
		ID: itemID(p.idx, catRegistration, k), Name: extract.String(pick(r, eventNames)), Option: extract.String(pick(r, eventOptions)),
		Price: money(rp.price), FirstName: extract.String(rg.first), LastName: extract.String(rg.last),
		AliasName: maybe(r, 300, pick(r, aliasNames)), Comment: maybe(r, 300, pick(r, comments)),
		IsAmountHidden: extract.Bool(r.IntN(5) == 0),
		CustomData:     g.customData(sRegCD, *itemID(p.idx, catRegistration, k), rp.cd),
	}
	if rp.page {
		name := rg.first + " " + rg.last
		pg := &crowdchange.RegistrationPage{ID: extract.Int(rg.pageID), Name: extract.String(name), Goal: money(rg.goal), URL: pageURL(r),
			User: &crowdchange.User{ID: extract.Int(rg.userID), Email: extract.String("user" + strconv.FormatInt(rg.userID, 10) + "@example.com"),
				FirstName: extract.String(rg.first), LastName: extract.String(rg.last), Title: extract.String(rg.title), Name: extract.String(name)}}
		if rp.selfDon > 0 {
			pg.SelfDonation = &crowdchange.SelfDonation{ID: extract.Int(rg.selfDonID), Name: extract.String(name), Amount: money(rp.selfDon)}
		}
		if rp.teamID != 0 {
			pg.Team = g.pageTeam(rp.teamID)
		}
		it.FundraiserPage = pg
	}
	if rp.mailing {
		pl := pick(r, places)
		it.MailingAddress = &crowdchange.Address{StreetAddress: extract.String(pick(r, streets)), City: extract.String(pl.city),
			Country: extract.String(pl.country), State: extract.String(pl.state), Postal: extract.String(pl.postal)}
	}
	if purchased {
		it.RegistrantID = extract.Int(rg.registrantID)
	}
	return it
}

func (g *generator) selfDonation(p *chargePlan, k int) crowdchange.SelfDonationItem {
	rp := p.regs[k]
	rg := g.registrant(p.idx, k)
	name := rg.first + " " + rg.last
	return crowdchange.SelfDonationItem{
		ID: extract.Int(rg.selfDonID), Amount: money(rp.selfDon), Name: extract.String(name),
		FundraiserPage: &crowdchange.SelfDonationPage{ID: extract.Int(rg.pageID), PartnerID: extract.Int(10), Name: extract.String(name),
			FirstName: extract.String(rg.first), LastName: extract.String(rg.last), Goal: money(rg.goal), Language: extract.String(rg.lang),
			CustomData: g.customData(sRegSelfCD, rg.pageID, rp.selfCD)},
	}
}

func (g *generator) products(c int64, cat int, it items, names, options []string) []crowdchange.ProductItem {
	out := make([]crowdchange.ProductItem, 0, it.n)
	for k := 0; k < it.n; k++ {
		r := g.itemRNG(c, cat, k)
		out = append(out, crowdchange.ProductItem{ID: itemID(c, cat, k), Name: extract.String(pick(r, names)),
			Option: maybe(r, 900, pick(r, options)), Price: money(it.price[k])})
	}
	return out
}

func recipient(r *rand.Rand) *crowdchange.Recipient {
	return &crowdchange.Recipient{Name: extract.String(pick(r, firstNames) + " " + pick(r, lastNames)),
		Email: maybe(r, 800, "friend"+strconv.Itoa(r.IntN(10000))+"@example.com"), Phone: maybe(r, 500, phone(r)),
		Address: maybe(r, 400, pick(r, streets)+", "+pick(r, places).city)}
}

func (g *generator) ecards(c int64, it items, date time.Time) []crowdchange.EcardItem {
	out := make([]crowdchange.EcardItem, 0, it.n)
	for k := 0; k < it.n; k++ {
		r := g.itemRNG(c, catEcards, k)
		out = append(out, crowdchange.EcardItem{ID: itemID(c, catEcards, k), Method: extract.String(pick(r, methods)),
			SendOn: extract.Date{Time: date.Truncate(24*time.Hour).AddDate(0, 0, r.IntN(4))}, Message: extract.String(pick(r, cardMessages)),
			IsAnonymous: extract.Bool(r.IntN(4) == 0), DeliveryStatus: extract.String(pick(r, deliveryStatuses)),
			Card:      &crowdchange.Card{ID: extract.Int(10000 + int64(r.IntN(20))), Name: extract.String(pick(r, cardNames)), Price: money(it.price[k])},
			Recipient: recipient(r)})
	}
	return out
}

func (g *generator) tributes(c int64, n int) []crowdchange.TributeCardItem {
	out := make([]crowdchange.TributeCardItem, 0, n)
	for k := 0; k < n; k++ {
		r := g.itemRNG(c, catTribute, k)
		out = append(out, crowdchange.TributeCardItem{ID: itemID(c, catTribute, k), Method: extract.String(pick(r, methods)),
			Type: extract.String(pick(r, tributeTypes)), Honoree: extract.String(pick(r, firstNames) + " " + pick(r, lastNames)),
			Message: maybe(r, 800, pick(r, cardMessages)), DeliveryStatus: extract.String(pick(r, deliveryStatuses)), Recipient: recipient(r)})
	}
	return out
}

func (g *generator) fees(c int64, it items) []crowdchange.AmountItem {
	out := make([]crowdchange.AmountItem, 0, it.n)
	for k := 0; k < it.n; k++ {
		r := g.itemRNG(c, catFees, k)
		out = append(out, crowdchange.AmountItem{ID: itemID(c, catFees, k), Name: extract.String(pick(r, feeNames)), Amount: money(it.price[k])})
	}
	return out
}

func (g *generator) sponsorships(c int64, fund int, it items) []crowdchange.SponsorshipItem {
	out := make([]crowdchange.SponsorshipItem, 0, it.n)
	for k := 0; k < it.n; k++ {
		r := g.itemRNG(c, catSponsor, k)
		out = append(out, crowdchange.SponsorshipItem{ID: itemID(c, catSponsor, k), OptionID: extract.Int(100 + int64(r.IntN(5))),
			SourceID: extract.Int(fundraisers[fund].id), Name: extract.String(pick(r, sponsorNames)), Price: money(it.price[k])})
	}
	return out
}

// groupOf builds a purchased item group. An empty category is null or an empty group, both of
// which the API writes; count is the number of items, except for a few transactions that report
// 0 like the documented example does.
func groupOf[T any](g *generator, c int64, cat int, list []T) *crowdchange.ItemGroup[T] {
	if len(list) == 0 && g.hk(sEmptyGroup, c, cat)%2 == 0 {
		return nil
	}
	n := int64(len(list))
	if g.h(sCountQuirk, c)%10 == 0 {
		n = 0
	}
	return &crowdchange.ItemGroup[T]{Count: extract.Int(n), Items: list}
}

// refundedGroup builds a refunded item group: null when nothing of the category is refunded.
func refundedGroup[T any](list []T, withCount bool) *crowdchange.ItemGroup[T] {
	if len(list) == 0 {
		return nil
	}
	gr := &crowdchange.ItemGroup[T]{Items: list}
	if withCount {
		gr.Count = extract.Int(int64(len(list)))
	}
	return gr
}

func (g *generator) purchased(p *chargePlan, date time.Time) *crowdchange.PurchasedItems {
	c := p.idx
	regs := make([]crowdchange.RegistrationItem, 0, p.nReg)
	for k := 0; k < p.nReg; k++ {
		regs = append(regs, g.registration(p, k, true))
	}
	return &crowdchange.PurchasedItems{
		Apparel:      groupOf(g, c, catApparel, g.products(c, catApparel, p.apparel, apparelNames, apparelOptions)),
		Registration: groupOf(g, c, catRegistration, regs),
		Tickets:      groupOf(g, c, catTickets, g.products(c, catTickets, p.tickets, ticketNames, ticketOptions)),
		Ecards:       groupOf(g, c, catEcards, g.ecards(c, p.ecards, date)),
		TributeCards: groupOf(g, c, catTribute, g.tributes(c, p.tribute)),
		CustomFees:   groupOf(g, c, catFees, g.fees(c, p.fees)),
	}
}

func (g *generator) refunded(p *txPlan, chargeDate time.Time) *crowdchange.RefundedItems {
	cp := &p.cp
	ri := &crowdchange.RefundedItems{}
	if share := cp.share(p.k, p.n); share > 0 {
		ri.Donations = refundedGroup([]crowdchange.AmountItem{{ID: extract.Int(7_000_000 + 2*p.idx), Amount: money(share)}}, false)
	}
	if p.k > 0 {
		return ri
	}
	if cp.covered > 0 {
		ri.CoveredFees = refundedGroup([]crowdchange.AmountItem{{ID: extract.Int(7_000_001 + 2*p.idx), Amount: money(cp.covered)}}, false)
	}
	c := cp.idx
	var regs []crowdchange.RegistrationItem
	var selfs []crowdchange.SelfDonationItem
	for k := 0; k < cp.nReg; k++ {
		regs = append(regs, g.registration(cp, k, false))
		if cp.regs[k].selfDon > 0 {
			selfs = append(selfs, g.selfDonation(cp, k))
		}
	}
	ri.Apparel = refundedGroup(g.products(c, catApparel, cp.apparel, apparelNames, apparelOptions), false)
	ri.Registration = refundedGroup(regs, false)
	ri.Tickets = refundedGroup(g.products(c, catTickets, cp.tickets, ticketNames, ticketOptions), false)
	ri.Ecards = refundedGroup(g.ecards(c, cp.ecards, chargeDate), false)
	ri.Sponsorship = refundedGroup(g.sponsorships(c, cp.fund, cp.sponsor), false)
	ri.CustomFees = refundedGroup(g.fees(c, cp.fees), true)
	ri.SelfDonations = refundedGroup(selfs, false)
	return ri
}

// render makes the API's transaction of plan p as it is at now: refunds dated after now do not
// flag their charge yet, payouts and tax receipts appear once they have happened.
func (g *generator) render(p *txPlan, now time.Time) crowdchange.Transaction {
	i, c, cp := p.idx, p.cp.idx, &p.cp
	r := g.rng(sRender, i)  // this transaction's own choices
	cr := g.rng(sRender, c) // the charge's choices, shared by its refunds
	a := p.amounts()
	f := fundraisers[cp.fund]
	date := time.Unix(g.date(i), 0).UTC()
	chargeDate := time.Unix(g.date(c), 0).UTC()
	d := g.donor(1 + int64(g.h(sDonor, c)%5000))

	tx := crowdchange.Transaction{
		ID: idBase + i, RefundChildrenIDs: []int64{}, PartnerID: extract.Int(10),
		Date: extract.DateTime{Time: date}, IsDisputed: extract.Bool(false), IsRefunded: extract.Bool(false),
		IsPending: extract.Bool(p.pending), IsTaxReceiptIssued: extract.Bool(false),
		Amount: &crowdchange.Amount{
			Apparel: money(a.apparel), CoveredFees: money(a.covered), Currency: extract.String(f.currency),
			Donation: money(a.donation), DonationToPages: money(a.toPages), Ecards: money(a.ecards),
			IsRecurring: extract.Bool(cp.recurring), Registration: money(a.registration), Sponsorship: money(a.sponsorship),
			Tickets: money(a.tickets), TotalNet: money(a.totalNet()), TotalPaid: money(a.totalPaid()), CustomFees: money(a.fees),
		},
		Fundraiser: g.fundraiser(cp.fund),
	}
	// Choices drawn from the charge's generator, in a fixed order, so that its refunds agree.
	promo := maybe(cr, 60, pick(cr, promoCodes))
	if cr.IntN(100) >= 3 {
		tx.Billing = d.billing(true)
	}
	anonymous := cr.IntN(100) < 15
	mailing := cr.IntN(100) < 40
	processor := pick(cr, processors)
	cardType := pick(cr, cardTypes)
	comment := maybe(cr, 350, pick(cr, comments))
	hasPayee := cr.IntN(100) < 40
	payeeUser := 4000 + int64(cr.IntN(200))
	recurringR := g.rng(sRecurring, c)
	if !anonymous {
		tx.DonatedBy = d.donatedBy()
	}
	if mailing {
		tx.MailingAddress = d.billing(false)
	}
	tx.PaymentProcessor = extract.String(processor)
	if processor != "PayPal" {
		tx.CardType = extract.String(cardType)
	}
	if cp.teamID != 0 {
		tx.FundraiserTeam = g.team(cp.teamID)
	}
	if cp.pageID != 0 {
		tx.FundraiserUserPage = g.userPage(cp.pageID)
	}
	if hasPayee {
		tx.Payee = &crowdchange.Payee{Billing: g.donor(payeeUser).billing(true), User: g.user(payeeUser, true)}
	}
	if cp.recurring {
		interval := pick(recurringR, []string{"month", "month", "year"})
		status := pick(recurringR, []string{"active", "active", "active", "cancelled", "paused"})
		tx.Recurring = &crowdchange.Recurring{ID: extract.Int(50000 + c), Amount: money(cp.donation), AmountNet: money(cp.donation),
			Interval: extract.String(interval), Day: extract.Int(1 + int64(recurringR.IntN(28))),
			Month: extract.Int(1 + int64(recurringR.IntN(12))), Status: extract.String(status)}
	}

	ref := strconv.FormatUint(g.h(sRender, i)>>16, 36)
	switch {
	case p.refund:
		tx.Type, tx.Status = extract.String("refund"), extract.String("completed")
		tx.ParentID = extract.Int(idBase + p.parent)
		tx.PromoCode = nil
		tx.CustomData = []crowdchange.CustomData{}
		tx.RefundedItems = g.refunded(p, chargeDate)
		tx.ProcessorTransactionID = extract.String("re_" + ref)
		tx.DonationComment = nil
	default:
		tx.Type, tx.Status = extract.String("charge"), extract.String("completed")
		if p.pending {
			tx.Status = extract.String("pending")
		}
		tx.PromoCode = promo
		tx.CustomData = g.customData(sCDTx, i, cp.cdTx)
		tx.DonationComment = comment
		tx.PurchasedItems = g.purchased(cp, date)
		tx.Sponsorship = groupOf(g, c, catSponsor, g.sponsorships(c, cp.fund, cp.sponsor))
		tx.ProcessorTransactionID = extract.String("ch_" + ref)
		if processor == "PayPal" {
			tx.ProcessorTransactionID = extract.String("PAYID-" + ref)
		}
		if !p.pending && r.IntN(100) == 0 {
			tx.IsDisputed = extract.Bool(true)
		}
		var buf [8]int64
		for _, k := range g.children(i, buf[:0]) {
			if g.date(k) <= now.Unix() {
				tx.RefundChildrenIDs = append(tx.RefundChildrenIDs, idBase+k)
			}
		}
		if len(tx.RefundChildrenIDs) > 0 {
			tx.IsRefunded, tx.Status = extract.Bool(true), extract.String("refunded")
		}
		if g.taxReceipt(p) {
			if issued := g.receiptIssued(i); !issued.After(now) {
				tx.IsTaxReceiptIssued = extract.Bool(true)
				tx.TaxReceipt = receipt(&tx, 40000+i, issued)
			}
		}
	}
	pledge := r.IntN(100)
	tx.IsPledgeTransaction = extract.Bool(pledge < 3)
	tx.IsFulfillmentTransaction = extract.Bool(pledge >= 3 && pledge < 6)
	if pledge >= 3 && pledge < 6 && i > 0 {
		tx.PledgeTransactionID = extract.Int(idBase + int64(r.IntN(int(i))))
	}
	if pp := g.payout(p); pp.visible(now) {
		tx.Payout = &crowdchange.Payout{Account: extract.String(pp.account), Date: extract.Date{Time: pp.date}}
	}
	return tx
}

// receipt builds the tax receipt of a charge from its amounts and its billing: the eligible
// amount is the donation and the covered fees, the benefit everything else bought.
func receipt(tx *crowdchange.Transaction, id int64, issued time.Time) *crowdchange.TaxReceipt {
	paid, _ := parseCents(string(tx.Amount.TotalPaid))
	don, _ := parseCents(string(tx.Amount.Donation))
	cov, _ := parseCents(string(tx.Amount.CoveredFees))
	status := "valid"
	if tx.IsRefunded != nil && *tx.IsRefunded {
		status = "cancelled"
	}
	tr := &crowdchange.TaxReceipt{
		ID: extract.Int(id), AmountDonation: money(paid), AmountBenefit: money(paid - don - cov), AmountEligible: money(don + cov),
		IssuedOn: extract.DateTime{Time: issued.UTC().Truncate(time.Second)}, ReceiptNumber: extract.String("TAX-" + leftPad(id, 7)),
		Status: extract.String(status), TransactionID: extract.Int(tx.ID),
	}
	if b := tx.Billing; b != nil {
		tr.BusinessName, tr.Title, tr.FirstName, tr.LastName = b.BusinessName, b.Title, b.FirstName, b.LastName
		tr.StreetAddress, tr.City, tr.Country, tr.State, tr.Postal, tr.Email = b.StreetAddress, b.City, b.Country, b.State, b.Postal, b.Email
		if b.FirstName != nil && b.LastName != nil {
			tr.NameOnReceipt = extract.String(*b.FirstName + " " + *b.LastName)
		}
	}
	if tx.DonatedBy != nil {
		tr.UserID = tx.DonatedBy.UserID
	}
	return tr
}

func leftPad(n int64, width int) string {
	s := strconv.FormatInt(n, 10)
	for len(s) < width {
		s = "0" + s
	}
	return s
}
