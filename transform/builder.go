package transform

import (
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/schemas"
)

// Meta stamps every row of one transaction version.
type Meta struct {
	RunID       string    // the run that extracted the version (_run_id)
	BatchID     string    // the load batch it is committed in (_batch_id)
	ExtractedAt time.Time // when it was extracted (_extracted_at, stored in µs, UTC)
}

// Stats are a Builder's counters since it was made.
type Stats struct {
	// Transactions is the number of transactions added.
	Transactions int
	// Rows is the number of rows added per table, by table name; every data table is present.
	Rows map[string]int64
	// UnknownFields is the number of leaves without a home in schemas, summed over transactions
	// (each transaction's unknown paths counted once each).
	UnknownFields int
	// Invalid is the number of transactions whose raw_transactions row has a decode_error: the model
	// could not fully decode them, their JSON could not be walked, or one of their values could not
	// be stored (an amount that does not fit NUMERIC(38, 9) exactly is stored as null, invalid
	// UTF-8 is replaced).
	Invalid int
	// Quarantined is the number of quarantine rows added (items without a readable id).
	Quarantined int
}

// Builder accumulates the rows of every table of schemas.BatchTables() for the transactions (and
// quarantined items) added to it, as Arrow records. It is not safe for concurrent use. Release it
// when done.
type Builder struct {
	tables []*table // in the order of schemas.BatchTables()

	tx, items, registrations, ecards, tributeCards, selfDonations, customData, raw, quarantine *table

	txc  *transactionsCols
	itc  itemsCols
	regc registrationsCols
	ecc  ecardsCols
	trc  tributeCardsCols
	sdc  selfDonationsCols
	cdc  customDataCols
	rawc rawCols
	qc   quarantineCols

	counts [numCategories]col // transactions.<direction>_<category>_count

	v      version  // the transaction being added
	issues []string // values of the transaction being added that could not be stored

	added int // transactions since the last NewRecords
	stats Stats
}

// NewBuilder returns an empty Builder whose records are allocated from mem.
//
// It panics if schemas and this package disagree on a table or column name: that is a bug that
// any test making a Builder catches.
func NewBuilder(mem memory.Allocator) *Builder {
	b := &Builder{stats: Stats{Rows: map[string]int64{}}}
	byName := map[string]**table{
		schemas.Transactions:    &b.tx,
		schemas.TransactionItem: &b.items,
		schemas.Registrations:   &b.registrations,
		schemas.Ecards:          &b.ecards,
		schemas.TributeCards:    &b.tributeCards,
		schemas.SelfDonations:   &b.selfDonations,
		schemas.CustomData:      &b.customData,
		schemas.RawTransactions: &b.raw,
		schemas.QuarantineTable: &b.quarantine,
	}
	for _, def := range schemas.BatchTables() {
		dst, ok := byName[def.Name]
		if !ok {
			b.Release()
			panic(fmt.Sprintf("transform: no rows are built for table %s", def.Name))
		}
		t := newTable(mem, def, &b.issues)
		*dst = t
		b.tables = append(b.tables, t)
		b.stats.Rows[def.Name] = 0
	}
	for name, dst := range byName {
		if *dst == nil {
			b.Release()
			panic(fmt.Sprintf("transform: table %s is not a batch table of schemas", name))
		}
	}
	b.txc = transactionsColsOf(b.tx)
	for k, c := range categories {
		b.counts[k] = b.tx.col(c.direction + "_" + c.name + "_count")
	}
	b.itc = itemsColsOf(b.items)
	b.regc = registrationsColsOf(b.registrations)
	b.ecc = ecardsColsOf(b.ecards)
	b.trc = tributeCardsColsOf(b.tributeCards)
	b.sdc = selfDonationsColsOf(b.selfDonations)
	b.cdc = customDataColsOf(b.customData)
	b.rawc = rawColsOf(b.raw)
	b.qc = quarantineColsOf(b.quarantine)
	return b
}

// Release frees the rows not yet returned by NewRecords.
func (b *Builder) Release() {
	for _, t := range b.tables {
		t.rb.Release()
	}
}

// Len is the number of transactions added since the last NewRecords.
func (b *Builder) Len() int { return b.added }

// Stats returns the counters since the Builder was made.
func (b *Builder) Stats() Stats {
	s := b.stats
	s.Rows = make(map[string]int64, len(b.tables))
	for _, t := range b.tables {
		s.Rows[t.def.Name] = t.total
	}
	return s
}

// NewRecords returns the rows added since the last call: one record per table of
// schemas.BatchTables(), in that order, each with the table's Arrow schema (a table without rows
// gives an empty record). The Builder starts afresh; the caller releases the records.
func (b *Builder) NewRecords() []arrow.Record {
	recs := make([]arrow.Record, len(b.tables))
	for i, t := range b.tables {
		recs[i] = t.record()
	}
	b.added = 0
	return recs
}

// Add appends the rows of one transaction version to every table: its transactions row, a
// transaction_items row per line item, a detail row per registration, e-card, tribute card and
// self-donation, a custom_data row per answer, and its raw_transactions row. It never fails: what
// the model could not decode, leaves without a home and values that cannot be stored are recorded in
// the raw_transactions row (unknown_fields, decode_error) and in Stats.
func (b *Builder) Add(f extract.Fetched, m Meta) {
	tx := &f.Tx
	b.v = version{
		id:        f.ID,
		date:      tx.Date.Time,
		runID:     m.RunID,
		batchID:   m.BatchID,
		extracted: arrow.Timestamp(m.ExtractedAt.UnixMicro()),
	}
	if b.v.id == 0 {
		b.v.id = tx.ID
	}
	b.issues = b.issues[:0]

	b.addTransaction(tx)
	b.addCustomData(tx)
	b.addItems(tx)
	b.addRaw(&f)

	b.added++
	b.stats.Transactions++
}

func (b *Builder) addTransaction(tx *extract.Transaction) {
	t, c, top := b.tx, b.txc, loc{}
	t.begin(&b.v)
	t.intv(c.id, b.v.id)
	t.strp(c.typ, tx.Type)
	t.strp(c.status, tx.Status)
	t.ints(c.refundChildrenIDs, tx.RefundChildrenIDs)
	t.intp(c.parentID, tx.ParentID)
	t.intp(c.partnerID, tx.PartnerID)
	t.strp(c.promoCode, tx.PromoCode)
	if a := tx.Amount; a != nil {
		ac := &c.amount
		t.money(ac.apparel, a.Apparel, top, "amount.apparel")
		t.money(ac.coveredFees, a.CoveredFees, top, "amount.covered_fees")
		t.strp(ac.currency, a.Currency)
		t.money(ac.donation, a.Donation, top, "amount.donation")
		t.money(ac.donationToPages, a.DonationToPages, top, "amount.donation_to_pages")
		t.money(ac.ecards, a.Ecards, top, "amount.ecards")
		t.boolp(ac.isRecurring, a.IsRecurring)
		t.money(ac.registration, a.Registration, top, "amount.registration")
		t.money(ac.sponsorship, a.Sponsorship, top, "amount.sponsorship")
		t.money(ac.tickets, a.Tickets, top, "amount.tickets")
		t.money(ac.totalNet, a.TotalNet, top, "amount.total_net")
		t.money(ac.totalPaid, a.TotalPaid, top, "amount.total_paid")
		t.money(ac.customFees, a.CustomFees, top, "amount.custom_fees")
	}
	t.address(c.billing, tx.Billing)
	t.donatedBy(c.donatedBy, c.donatedByUserID, tx.DonatedBy)
	t.address(c.mailing, tx.MailingAddress)
	t.strp(c.cardType, tx.CardType)
	t.strp(c.paymentProcessor, tx.PaymentProcessor)
	t.strp(c.processorTransactionID, tx.ProcessorTransactionID)
	t.timestamp(c.date, tx.Date.Time)
	t.strp(c.donationComment, tx.DonationComment)
	if f := tx.Fundraiser; f != nil {
		fc := &c.fundraiser
		t.intp(fc.id, f.ID)
		t.intp(fc.partnerID, f.PartnerID)
		t.intp(fc.templateID, f.FundraiserTemplateID)
		if tpl := f.FundraiserTemplate; tpl != nil {
			t.intp(fc.templateObjectID, tpl.ID)
			t.strp(fc.templateName, tpl.Name)
		}
		t.strp(fc.name, f.Name)
		t.timestamp(fc.dtStart, f.DTStart.Time)
		t.timestamp(fc.dtEnd, f.DTEnd.Time)
		t.strp(fc.location, f.Location)
		t.money(fc.goal, f.Goal, top, "fundraiser.goal")
		t.strp(fc.campus, f.Campus)
		t.strp(fc.nationalOffice, f.NationalOffice)
		t.strp(fc.chapter, f.Chapter)
		t.strp(fc.chapterCustomID, f.ChapterCustomID)
		t.strp(fc.organization, f.Organization)
		t.strp(fc.inSupportName, f.InSupportName)
		t.strp(fc.inSupportCode, f.InSupportCode)
		t.strp(fc.appealCode, f.AppealCode)
		t.strp(fc.language, f.Language)
		t.user(fc.user, f.User)
		t.strs(fc.tagsList, f.TagsList)
	}
	if tm := tx.FundraiserTeam; tm != nil {
		tc := &c.team
		t.intp(tc.id, tm.ID)
		t.intp(tc.partnerID, tm.PartnerID)
		t.intp(tc.fundraiserID, tm.FundraiserID)
		t.strp(tc.name, tm.Name)
		t.money(tc.goal, tm.Goal, top, "fundraiser_team.goal")
		t.strp(tc.url, tm.URL)
		t.user(tc.user, tm.User)
	}
	if p := tx.FundraiserUserPage; p != nil {
		pc := &c.page
		t.intp(pc.id, p.ID)
		t.intp(pc.partnerID, p.PartnerID)
		t.strp(pc.name, p.Name)
		t.strp(pc.firstName, p.FirstName)
		t.strp(pc.lastName, p.LastName)
		t.strp(pc.userName, p.UserName)
		t.strp(pc.title, p.Title)
		t.money(pc.goal, p.Goal, top, "fundraiser_user_page.goal")
		t.strp(pc.url, p.URL)
		t.strp(pc.language, p.Language)
	}
	t.boolp(c.isDisputed, tx.IsDisputed)
	t.boolp(c.isRefunded, tx.IsRefunded)
	t.boolp(c.isPending, tx.IsPending)
	t.boolp(c.isTaxReceiptIssued, tx.IsTaxReceiptIssued)
	if r := tx.TaxReceipt; r != nil {
		rc := &c.taxReceipt
		t.intp(rc.id, r.ID)
		t.money(rc.amountDonation, r.AmountDonation, top, "tax_receipt.amount_donation")
		t.money(rc.amountBenefit, r.AmountBenefit, top, "tax_receipt.amount_benefit")
		t.money(rc.amountEligible, r.AmountEligible, top, "tax_receipt.amount_eligible")
		t.strp(rc.businessName, r.BusinessName)
		t.strp(rc.nameOnReceipt, r.NameOnReceipt)
		t.timestamp(rc.issuedOn, r.IssuedOn.Time)
		t.strp(rc.receiptNumber, r.ReceiptNumber)
		t.strp(rc.status, r.Status)
		t.strp(rc.title, r.Title)
		t.strp(rc.firstName, r.FirstName)
		t.strp(rc.lastName, r.LastName)
		t.strp(rc.streetAddress, r.StreetAddress)
		t.strp(rc.city, r.City)
		t.strp(rc.country, r.Country)
		t.strp(rc.state, r.State)
		t.strp(rc.postal, r.Postal)
		t.strp(rc.email, r.Email)
		t.intp(rc.userID, r.UserID)
		t.intp(rc.transactionID, r.TransactionID)
	}
	if r := tx.Recurring; r != nil {
		rc := &c.recurring
		t.intp(rc.id, r.ID)
		t.money(rc.amount, r.Amount, top, "recurring.amount")
		t.money(rc.amountNet, r.AmountNet, top, "recurring.amount_net")
		t.strp(rc.interval, r.Interval)
		t.intp(rc.day, r.Day)
		t.intp(rc.month, r.Month)
		t.strp(rc.status, r.Status)
	}
	if p := tx.Payout; p != nil {
		t.strp(c.payoutAccount, p.Account)
		t.date(c.payoutDate, p.Date.Time)
	}
	if p := tx.PurchasedItems; p != nil {
		t.intp(b.counts[purchasedApparel], countOf(p.Apparel))
		t.intp(b.counts[purchasedRegistration], countOf(p.Registration))
		t.intp(b.counts[purchasedTickets], countOf(p.Tickets))
		t.intp(b.counts[purchasedEcards], countOf(p.Ecards))
		t.intp(b.counts[purchasedTributeCards], countOf(p.TributeCards))
		t.intp(b.counts[purchasedCustomFees], countOf(p.CustomFees))
	}
	t.intp(b.counts[purchasedSponsorship], countOf(tx.Sponsorship))
	if r := tx.RefundedItems; r != nil {
		t.intp(b.counts[refundedDonations], countOf(r.Donations))
		t.intp(b.counts[refundedCoveredFees], countOf(r.CoveredFees))
		t.intp(b.counts[refundedApparel], countOf(r.Apparel))
		t.intp(b.counts[refundedRegistration], countOf(r.Registration))
		t.intp(b.counts[refundedTickets], countOf(r.Tickets))
		t.intp(b.counts[refundedEcards], countOf(r.Ecards))
		t.intp(b.counts[refundedSponsorship], countOf(r.Sponsorship))
		t.intp(b.counts[refundedCustomFees], countOf(r.CustomFees))
		t.intp(b.counts[refundedSelfDonations], countOf(r.SelfDonations))
	}
	t.intp(c.fulfillmentTransactionID, tx.FulfillmentTransactionID)
	t.boolp(c.isPledgeTransaction, tx.IsPledgeTransaction)
	t.intp(c.pledgeTransactionID, tx.PledgeTransactionID)
	t.boolp(c.isFulfillmentTransaction, tx.IsFulfillmentTransaction)
	if p := tx.Payee; p != nil {
		t.address(c.payeeBilling, p.Billing)
		t.user(c.payeeUser, p.User)
	}
	t.end()
}

func countOf[T any](g *extract.ItemGroup[T]) *int64 {
	if g == nil {
		return nil
	}
	return g.Count
}

// addCustomData adds the answers given at the transaction, campaign, team and page levels; those
// of registrations and self-donation pages are added with their items.
func (b *Builder) addCustomData(tx *extract.Transaction) {
	b.answers(schemas.LevelTransaction, &b.v.id, "", -1, tx.CustomData)
	if f := tx.Fundraiser; f != nil {
		b.answers(schemas.LevelFundraiser, f.ID, "", -1, f.CustomData)
	}
	if t := tx.FundraiserTeam; t != nil {
		b.answers(schemas.LevelTeam, t.ID, "", -1, t.CustomData)
	}
	if p := tx.FundraiserUserPage; p != nil {
		b.answers(schemas.LevelPage, p.ID, "", -1, p.CustomData)
	}
}

// answers adds a custom_data row per answer; direction and itemPosition locate the item of an
// item-level answer ("" and -1 otherwise).
func (b *Builder) answers(level string, owner *int64, direction string, itemPosition int, list []extract.CustomData) {
	t, c := b.customData, &b.cdc
	for i := range list {
		a := &list[i]
		t.begin(&b.v)
		t.strv(c.level, level)
		t.intp(c.ownerID, owner)
		if direction != "" {
			t.strv(c.direction, direction)
			t.intv(c.itemPosition, int64(itemPosition))
		}
		t.intv(c.position, int64(i))
		t.intp(c.fieldID, a.FieldID)
		t.intp(c.sourceID, a.SourceID)
		t.strp(c.name, a.Name)
		if a.Content.Valid {
			t.strv(c.content, a.Content.Text)
		}
		t.strp(c.fieldCustomID, a.FieldCustomID)
		t.strp(c.responseCustomID, a.ResponseCustomID)
		t.end()
	}
}

// AddQuarantined appends a quarantine row for an item of window w that could not be kept as a
// transaction version, stamped like the versions of the same window.
func (b *Builder) AddQuarantined(q extract.Quarantined, w extract.Window, m Meta) {
	b.v = version{runID: m.RunID, batchID: m.BatchID, extracted: arrow.Timestamp(m.ExtractedAt.UnixMicro())}
	b.issues = b.issues[:0]
	t, c := b.quarantine, &b.qc
	t.begin(&b.v)
	t.strv(c.stream, string(w.Stream))
	if w.Account != "" {
		t.strv(c.payoutAccount, w.Account)
	}
	t.timestamp(c.windowStart, w.Start)
	t.timestamp(c.windowEnd, w.End)
	t.intv(c.page, int64(q.Page))
	t.intv(c.position, int64(q.Position))
	t.strv(c.reason, q.Reason)
	t.rawJSON(c.raw, c.rawBytesBase64, q.Raw)
	t.end()
	b.stats.Quarantined++
}

func (b *Builder) addRaw(f *extract.Fetched) {
	t, c := b.raw, &b.rawc
	t.begin(&b.v)
	var problems []string
	if f.Err != nil {
		problems = append(problems, f.Err.Error())
	}
	if t.rawJSON(c.raw, c.rawBytesBase64, f.Raw) {
		problems = append(problems, "invalid UTF-8 in the API's JSON, replaced by U+FFFD in every column (the original bytes are in raw_bytes_base64)")
	}
	unknown, err := UnknownPaths(f.Raw)
	if err != nil {
		problems = append(problems, err.Error())
	}
	t.strs(c.unknownFields, unknown)
	problems = append(problems, b.issues...)
	if len(problems) > 0 {
		t.strv(c.decodeError, strings.Join(problems, "; "))
		b.stats.Invalid++
	}
	b.stats.UnknownFields += len(unknown)
	t.end()
}

// Item categories, in the order their rows are added: schemas.PurchasedCategories, then
// schemas.RefundedCategories.
const (
	purchasedApparel = iota
	purchasedRegistration
	purchasedTickets
	purchasedEcards
	purchasedTributeCards
	purchasedCustomFees
	purchasedSponsorship
	refundedDonations
	refundedCoveredFees
	refundedApparel
	refundedRegistration
	refundedTickets
	refundedEcards
	refundedSponsorship
	refundedCustomFees
	refundedSelfDonations
	numCategories
)

// category is one list of line items: its direction and category, spelled as in the API, and the
// JSON path of its items.
type category struct{ direction, name, list string }

var categories = func() [numCategories]category {
	var cs [numCategories]category
	add := func(k int, direction, name string) {
		list := direction + "_items." + name + ".items"
		if direction == schemas.Purchased && name == "sponsorship" {
			list = "sponsorship.items" // the top-level list
		}
		cs[k] = category{direction: direction, name: name, list: list}
	}
	add(purchasedApparel, schemas.Purchased, "apparel")
	add(purchasedRegistration, schemas.Purchased, "registration")
	add(purchasedTickets, schemas.Purchased, "tickets")
	add(purchasedEcards, schemas.Purchased, "ecards")
	add(purchasedTributeCards, schemas.Purchased, "tribute_cards")
	add(purchasedCustomFees, schemas.Purchased, "custom_fees")
	add(purchasedSponsorship, schemas.Purchased, "sponsorship")
	add(refundedDonations, schemas.Refunded, "donations")
	add(refundedCoveredFees, schemas.Refunded, "covered_fees")
	add(refundedApparel, schemas.Refunded, "apparel")
	add(refundedRegistration, schemas.Refunded, "registration")
	add(refundedTickets, schemas.Refunded, "tickets")
	add(refundedEcards, schemas.Refunded, "ecards")
	add(refundedSponsorship, schemas.Refunded, "sponsorship")
	add(refundedCustomFees, schemas.Refunded, "custom_fees")
	add(refundedSelfDonations, schemas.Refunded, "self_donations")
	return cs
}()

func (b *Builder) addItems(tx *extract.Transaction) {
	if p := tx.PurchasedItems; p != nil {
		b.products(purchasedApparel, p.Apparel)
		b.registrationItems(purchasedRegistration, p.Registration)
		b.products(purchasedTickets, p.Tickets)
		b.ecardItems(purchasedEcards, p.Ecards)
		b.tributeCardItems(purchasedTributeCards, p.TributeCards)
		b.amountItems(purchasedCustomFees, p.CustomFees)
	}
	b.sponsorships(purchasedSponsorship, tx.Sponsorship)
	if r := tx.RefundedItems; r != nil {
		b.amountItems(refundedDonations, r.Donations)
		b.amountItems(refundedCoveredFees, r.CoveredFees)
		b.products(refundedApparel, r.Apparel)
		b.registrationItems(refundedRegistration, r.Registration)
		b.products(refundedTickets, r.Tickets)
		b.ecardItems(refundedEcards, r.Ecards)
		b.sponsorships(refundedSponsorship, r.Sponsorship)
		b.amountItems(refundedCustomFees, r.CustomFees)
		b.selfDonationItems(refundedSelfDonations, r.SelfDonations)
	}
}

// item begins the transaction_items row of the item at position pos of category k.
func (b *Builder) item(k, pos int, id *int64) *table {
	t, c, cat := b.items, &b.itc, &categories[k]
	t.begin(&b.v)
	t.strv(c.direction, cat.direction)
	t.strv(c.category, cat.name)
	t.intv(c.position, int64(pos))
	t.intp(c.itemID, id)
	return t
}

func (b *Builder) products(k int, g *extract.ItemGroup[extract.ProductItem]) {
	if g == nil {
		return
	}
	c := &b.itc
	for i := range g.Items {
		it := &g.Items[i]
		t := b.item(k, i, it.ID)
		t.strp(c.name, it.Name)
		t.strp(c.option, it.Option)
		t.money(c.price, it.Price, loc{categories[k].list, i}, "price")
		t.end()
	}
}

func (b *Builder) amountItems(k int, g *extract.ItemGroup[extract.AmountItem]) {
	if g == nil {
		return
	}
	c := &b.itc
	for i := range g.Items {
		it := &g.Items[i]
		t := b.item(k, i, it.ID)
		t.strp(c.name, it.Name)
		t.money(c.amount, it.Amount, loc{categories[k].list, i}, "amount")
		t.end()
	}
}

func (b *Builder) sponsorships(k int, g *extract.ItemGroup[extract.SponsorshipItem]) {
	if g == nil {
		return
	}
	c := &b.itc
	for i := range g.Items {
		it := &g.Items[i]
		t := b.item(k, i, it.ID)
		t.intp(c.optionID, it.OptionID)
		t.intp(c.sourceID, it.SourceID)
		t.strp(c.name, it.Name)
		t.money(c.price, it.Price, loc{categories[k].list, i}, "price")
		t.end()
	}
}

func (b *Builder) registrationItems(k int, g *extract.ItemGroup[extract.RegistrationItem]) {
	if g == nil {
		return
	}
	cat, c, rc := &categories[k], &b.itc, &b.regc
	for i := range g.Items {
		it := &g.Items[i]
		at := loc{cat.list, i}
		t := b.item(k, i, it.ID)
		t.strp(c.name, it.Name)
		t.strp(c.option, it.Option)
		t.money(c.price, it.Price, at, "price")
		t.end()

		t = b.registrations
		t.begin(&b.v)
		t.itemKey(rc.key, cat.direction, i, it.ID)
		t.strp(rc.firstName, it.FirstName)
		t.strp(rc.lastName, it.LastName)
		t.strp(rc.aliasName, it.AliasName)
		t.strp(rc.comment, it.Comment)
		t.boolp(rc.isAmountHidden, it.IsAmountHidden)
		t.intp(rc.registrantID, it.RegistrantID)
		if p := it.FundraiserPage; p != nil {
			t.intp(rc.pageID, p.ID)
			t.strp(rc.pageName, p.Name)
			t.money(rc.pageGoal, p.Goal, at, "fundraiser_page.goal")
			t.strp(rc.pageURL, p.URL)
			if sd := p.SelfDonation; sd != nil {
				t.intp(rc.selfDonationID, sd.ID)
				t.strp(rc.selfDonationName, sd.Name)
				t.money(rc.selfDonationAmount, sd.Amount, at, "fundraiser_page.self_donation.amount")
			}
			if tm := p.Team; tm != nil {
				t.intp(rc.teamID, tm.ID)
				t.strp(rc.teamName, tm.Name)
				t.money(rc.teamGoal, tm.Goal, at, "fundraiser_page.team.goal")
				t.strp(rc.teamURL, tm.URL)
				t.strp(rc.teamLanguage, tm.Language)
			}
			t.user(rc.user, p.User)
		}
		if a := it.MailingAddress; a != nil {
			t.strp(rc.mailingStreetAddress, a.StreetAddress)
			t.strp(rc.mailingCity, a.City)
			t.strp(rc.mailingCountry, a.Country)
			t.strp(rc.mailingState, a.State)
			t.strp(rc.mailingPostal, a.Postal)
		}
		t.end()

		b.answers(schemas.LevelRegistration, it.ID, cat.direction, i, it.CustomData)
	}
}

func (b *Builder) ecardItems(k int, g *extract.ItemGroup[extract.EcardItem]) {
	if g == nil {
		return
	}
	cat, c, ec := &categories[k], &b.itc, &b.ecc
	for i := range g.Items {
		it := &g.Items[i]
		t := b.item(k, i, it.ID)
		if it.Card != nil {
			t.money(c.price, it.Card.Price, loc{cat.list, i}, "card.price")
		}
		t.end()

		t = b.ecards
		t.begin(&b.v)
		t.itemKey(ec.key, cat.direction, i, it.ID)
		t.strp(ec.method, it.Method)
		t.date(ec.sendOn, it.SendOn.Time)
		t.strp(ec.message, it.Message)
		t.boolp(ec.isAnonymous, it.IsAnonymous)
		t.strp(ec.deliveryStatus, it.DeliveryStatus)
		if card := it.Card; card != nil {
			t.intp(ec.cardID, card.ID)
			t.strp(ec.cardName, card.Name)
		}
		t.recipient(ec.recipient, it.Recipient)
		t.end()
	}
}

func (b *Builder) tributeCardItems(k int, g *extract.ItemGroup[extract.TributeCardItem]) {
	if g == nil {
		return
	}
	cat, tc := &categories[k], &b.trc
	for i := range g.Items {
		it := &g.Items[i]
		b.item(k, i, it.ID).end()

		t := b.tributeCards
		t.begin(&b.v)
		t.itemKey(tc.key, cat.direction, i, it.ID)
		t.strp(tc.method, it.Method)
		t.strp(tc.typ, it.Type)
		t.strp(tc.honoree, it.Honoree)
		t.strp(tc.message, it.Message)
		t.strp(tc.deliveryStatus, it.DeliveryStatus)
		t.recipient(tc.recipient, it.Recipient)
		t.end()
	}
}

func (b *Builder) selfDonationItems(k int, g *extract.ItemGroup[extract.SelfDonationItem]) {
	if g == nil {
		return
	}
	cat, c, sc := &categories[k], &b.itc, &b.sdc
	for i := range g.Items {
		it := &g.Items[i]
		at := loc{cat.list, i}
		t := b.item(k, i, it.ID)
		t.money(c.amount, it.Amount, at, "amount")
		t.strp(c.name, it.Name)
		t.end()

		t = b.selfDonations
		t.begin(&b.v)
		t.itemKey(sc.key, cat.direction, i, it.ID)
		p := it.FundraiserPage
		if p != nil {
			t.intp(sc.pageID, p.ID)
			t.intp(sc.pagePartnerID, p.PartnerID)
			t.strp(sc.pageName, p.Name)
			t.strp(sc.pageFirstName, p.FirstName)
			t.strp(sc.pageLastName, p.LastName)
			t.money(sc.pageGoal, p.Goal, at, "fundraiser_page.goal")
			t.strp(sc.pageLanguage, p.Language)
		}
		t.end()

		if p != nil {
			b.answers(schemas.LevelSelfDonationPage, p.ID, cat.direction, i, p.CustomData)
		}
	}
}
