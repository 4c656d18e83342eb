// Package crowdchange declares CrowdChange's tables (seeds 000–002: GET
// /v2/private/transactions): the transactions and what they hold (line items, registrations,
// e-cards, tribute cards, self-donations, custom answers), each version's raw JSON, and how a
// transaction becomes their rows (Flattening). Its init registers the source with package
// schemas; everything else (Arrow, DuckDB and BigQuery schemas, the builders, the views) follows
// from these declarations.
package crowdchange

import (
	"fmt"
	"strings"

	"github.com/ccsync/ccsync/schemas"
)

// Name is the source's name (--source crowdchange, column source of the bookkeeping tables).
const Name = "crowdchange"

// ColBillingDonorKey is the donor key of the billing e-mail: the donations model falls back on it
// when the transaction names no donor (donated_by).
const ColBillingDonorKey = "billing_donor_key"

// Table names.
const (
	Transactions    = "transactions"
	TransactionItem = "transaction_items"
	Registrations   = "registrations"
	Ecards          = "ecards"
	TributeCards    = "tribute_cards"
	SelfDonations   = "self_donations"
	CustomData      = "custom_data"
	RawTransactions = "raw_transactions"
)

// Streams: transactions by date, and by payout date per payout account (DESIGN.md, "Two streams,
// two watermarks").
const (
	StreamDate   = "date"
	StreamPayout = "payout"
)

// DataTables returns CrowdChange's data tables, parent first (Flattening's).
func DataTables() []schemas.Table { return append([]schemas.Table(nil), dataTables...) }

// BatchTables returns the tables a CrowdChange batch loads, in the order transform/crowdchange's
// Builder returns their records: the data tables (parent first), then the quarantine.
func BatchTables() []schemas.Table { return schemas.BatchTables(Flattening()) }

// Flattening is how a CrowdChange transaction becomes rows of DataTables().
func Flattening() schemas.Flattening {
	return schemas.Flattening{Record: "transaction", Key: "id", Date: "date", Tables: DataTables()}
}

// PathMap returns the JSON-path → column map of CrowdChange's transaction: every leaf of the API's
// transaction and its one home column, sorted by path (Flattening().PathMap()).
func PathMap() []schemas.Mapping { return append([]schemas.Mapping(nil), pathMap...) }

// HomeOf returns the home of a leaf given by its JSON path (array indexes written as "[]").
func HomeOf(jsonPath string) (schemas.Mapping, bool) {
	m, ok := pathIndex[jsonPath]
	return m, ok
}

// Item directions and categories, spelled as the API's JSON keys.
const (
	Purchased = "purchased"
	Refunded  = "refunded"
)

// PurchasedCategories are the keys of purchased_items, then the top-level sponsorship list, which
// counts as purchased.
var PurchasedCategories = []string{"apparel", "registration", "tickets", "ecards", "tribute_cards", "custom_fees", "sponsorship"}

// RefundedCategories are the keys of refunded_items.
var RefundedCategories = []string{"donations", "covered_fees", "apparel", "registration", "tickets", "ecards", "sponsorship", "custom_fees", "self_donations"}

// Custom data levels.
const (
	LevelTransaction      = "transaction"
	LevelFundraiser       = "fundraiser"
	LevelTeam             = "team"
	LevelPage             = "page"
	LevelRegistration     = "registration"
	LevelSelfDonationPage = "self_donation_page"
)

// CustomDataLevels lists the levels custom question answers come from.
var CustomDataLevels = []string{LevelTransaction, LevelFundraiser, LevelTeam, LevelPage, LevelRegistration, LevelSelfDonationPage}

// leaf is one scalar of an API object: its JSON key, its type, and its column (prefix + key unless
// col is set).
type leaf struct {
	key  string
	typ  schemas.Type
	pii  bool
	rep  bool
	col  string
	desc string
}

func str(key, desc string) leaf   { return leaf{key: key, typ: schemas.String, desc: desc} }
func pii(key, desc string) leaf   { return leaf{key: key, typ: schemas.String, pii: true, desc: desc} }
func i64(key, desc string) leaf   { return leaf{key: key, typ: schemas.Int64, desc: desc} }
func boo(key, desc string) leaf   { return leaf{key: key, typ: schemas.Bool, desc: desc} }
func money(key, desc string) leaf { return leaf{key: key, typ: schemas.Numeric, desc: desc} }
func ts(key, desc string) leaf    { return leaf{key: key, typ: schemas.Timestamp, desc: desc} }
func date(key, desc string) leaf  { return leaf{key: key, typ: schemas.Date, desc: desc} }

func (l leaf) as(col string) leaf { l.col = col; return l }

// builder accumulates a table's columns and row sources: each column is declared once, with its
// name, type, description, PII tag and how it is filled (the JSON path of a leaf of the row
// object, or a derivation). Many leaves may share a column (every category's item price lives in
// transaction_items.price).
type builder struct {
	t schemas.Table
}

func newTable(name string, kind schemas.Kind, desc string) *builder {
	return &builder{t: schemas.Table{Name: name, Kind: kind, Description: desc}}
}

// column adds a column: a derived one (Derived set: a key, a position, a version stamp), or one
// that leaves declares. A column declared again is kept as first declared; it must be the same.
func (b *builder) column(c schemas.Column) *builder {
	if existing, ok := b.t.Column(c.Name); ok {
		if existing.Type != c.Type || existing.Repeated != c.Repeated || existing.Derived != c.Derived {
			panic(fmt.Sprintf("schemas: %s.%s declared twice, differently", b.t.Name, c.Name))
		}
		return b
	}
	b.t.Columns = append(b.t.Columns, c)
	return b
}

// rows starts a row source of the table: one row per object at each (a list, from the record:
// "purchased_items.apparel.items[]"; "" for the record itself), its RowConstant columns set to
// constants. The leaves and copies declared next are the row source's.
func (b *builder) rows(each string, constants ...schemas.Constant) *builder {
	b.t.Rows = append(b.t.Rows, schemas.RowSource{Each: each, Constants: constants})
	return b
}

// rowSource is the row source being declared.
func (b *builder) rowSource() *schemas.RowSource {
	if len(b.t.Rows) == 0 {
		panic(fmt.Sprintf("schemas: %s declares leaves before its rows", b.t.Name))
	}
	return &b.t.Rows[len(b.t.Rows)-1]
}

// leaves adds the leaves of the object at jsonPrefix, relative to the row object ("" for the row
// object itself, else ending in "."), each in the column colPrefix + key (or its own col).
func (b *builder) leaves(jsonPrefix, colPrefix, descPrefix string, ls ...leaf) *builder {
	for _, l := range ls {
		col := colPrefix + l.key
		if l.col != "" {
			col = l.col
		}
		path := jsonPrefix + l.key
		if l.rep {
			path += "[]"
		}
		b.column(schemas.Column{Name: col, Type: l.typ, Repeated: l.rep, PII: l.pii, Description: descPrefix + l.desc})
		rs := b.rowSource()
		rs.Leaves = append(rs.Leaves, schemas.Leaf{Path: path, Column: col})
	}
	return b
}

// copyOf fills the RowCopy column col of the row source with the leaf at path (from the record;
// a "[]" is the current element of that list).
func (b *builder) copyOf(path, col string) *builder {
	rs := b.rowSource()
	rs.Copies = append(rs.Copies, schemas.Leaf{Path: path, Column: col})
	return b
}

func (b *builder) versioned() *builder {
	for _, c := range schemas.VersionColumns("a transaction") {
		b.column(c)
	}
	return b
}

// child adds the columns every child table starts with.
func (b *builder) child() *builder {
	b.t.Partition = "transaction_date"
	b.t.Parent, b.t.ParentKey = Transactions, "transaction_id"
	return b.column(schemas.Column{Name: "transaction_id", Type: schemas.Int64, Required: true, Derived: schemas.RecordKey, Description: "The transaction this row belongs to (transactions.id)."}).
		column(transactionDate)
}

var transactionDate = schemas.Column{Name: "transaction_date", Type: schemas.Date, Derived: schemas.RecordDate, Description: "The UTC calendar date of the transaction (transactions.date); the partitioning column."}

// Field lists of the API's objects.
var (
	addressLeaves = []leaf{
		pii("business_name", "Business name."),
		boo("is_foundation", "Whether the payer is a foundation."),
		pii("title", "Title (Mr., Ms., ...)."),
		pii("name", "Full name."),
		pii("first_name", "First name."),
		pii("last_name", "Last name."),
		pii("street_address", "Street address."),
		pii("city", "City."),
		str("country", "Country code."),
		str("state", "State or province code."),
		pii("postal", "Postal or ZIP code."),
		pii("email", "Email address."),
		pii("phone", "Phone number."),
	}
	userLeaves = []leaf{
		i64("id", "User ID."),
		pii("email", "Email address."),
		pii("first_name", "First name."),
		pii("last_name", "Last name."),
		str("language", "Language (en, fr)."),
		pii("title", "Title."),
		pii("name", "Full name."),
	}
	customDataLeaves = []leaf{
		i64("field_id", "Custom field ID."),
		i64("source_id", "ID of the object the field belongs to."),
		str("name", "The question."),
		leaf{key: "content", typ: schemas.String, pii: true, desc: "The answer, as text (a non-string JSON answer is kept as its JSON text)."},
		str("field_custom_id", "The field's custom ID."),
		str("response_custom_id", "The answer's custom ID."),
	}
	recipientLeaves = []leaf{
		pii("name", "Recipient's name."),
		pii("email", "Recipient's email."),
		pii("phone", "Recipient's phone."),
		pii("address", "Recipient's postal address."),
	}
	productLeaves = []leaf{
		i64("id", "Item ID.").as("item_id"),
		str("name", "Item name."),
		str("option", "Chosen option (size, distance, section...)."),
		money("price", "Price paid for the item."),
	}
	amountLeaf = money("amount", "Amount of a custom fee, refunded donation, refunded covered fee or refunded self-donation.")
)

func without(ls []leaf, keys ...string) []leaf {
	var out []leaf
next:
	for _, l := range ls {
		for _, k := range keys {
			if l.key == k {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

var (
	dataTables []schemas.Table
	pathMap    []schemas.Mapping // Flattening().PathMap()
	pathIndex  = map[string]schemas.Mapping{}
)

func init() {
	builders := []*builder{
		transactionsTable(),
		itemsTable(),
		registrationsTable(),
		ecardsTable(),
		tributeCardsTable(),
		selfDonationsTable(),
		customDataTable(),
		rawTable(),
	}
	for _, b := range builders {
		b.versioned()
		dataTables = append(dataTables, b.t)
	}
	f := Flattening()
	schemas.RegisterSource(schemas.SourceInfo{
		Name:        Name,
		Streams:     []schemas.Stream{{Name: StreamDate}, {Name: StreamPayout, Key: "payout account"}},
		Watched:     []string{StreamDate},
		Flattenings: []schemas.Flattening{f},
		Donations:   DonationRows,
	})
	pathMap = f.PathMap()
	for _, m := range pathMap {
		pathIndex[m.JSONPath] = m
	}
}

func transactionsTable() *builder {
	b := newTable(Transactions, schemas.Data, "One row per extracted version of a CrowdChange transaction (a charge or a refund); nested objects are flattened into prefixed columns. Query transactions_current for the latest state.")
	b.t.Partition = "transaction_date"
	b.t.Cluster = []string{"id", "fundraiser_id"}
	b.rows("") // one row per transaction
	b.leaves("", "", "",
		leaf{key: "id", typ: schemas.Int64, desc: "Transaction ID."},
	)
	b.t.Columns[0].Required = true
	b.column(transactionDate)
	b.leaves("", "", "",
		str("type", "charge or refund."),
		str("status", "completed, refunded or pending."),
		leaf{key: "refund_children_ids", typ: schemas.Int64, rep: true, desc: "IDs of the refunds of this charge."},
		i64("parent_id", "The charge a refund refunds; the first payment of a recurring plan."),
		i64("partner_id", "Partner (organization site) ID."),
		str("promo_code", "Promo code applied."),
	)
	b.leaves("amount.", "amount_", "Amount: ",
		money("apparel", "apparel."),
		money("covered_fees", "fees covered by the donor."),
		str("currency", "currency (CAD, USD, AUD, EUR)."),
		money("donation", "donation."),
		money("donation_to_pages", "donation to personal pages."),
		money("ecards", "e-cards."),
		boo("is_recurring", "whether the transaction is recurring."),
		money("registration", "registrations."),
		money("sponsorship", "sponsorships."),
		money("tickets", "tickets."),
		money("total_net", "total net of fees."),
		money("total_paid", "total paid."),
		money("custom_fees", "custom fees."),
	)
	b.leaves("billing.", "billing_", "Billing: ", addressLeaves...)
	b.leaves("donated_by.", "donated_by_", "Donated by: ", append(addressLeaves[:len(addressLeaves):len(addressLeaves)], i64("user_id", "donor's user ID."))...)
	b.leaves("mailing_address.", "mailing_", "Mailing address: ", addressLeaves...)
	b.leaves("", "", "",
		str("card_type", "Card brand (Visa, ...)."),
		str("payment_processor", "Payment processor (Stripe, ...)."),
		str("processor_transaction_id", "The processor's transaction ID."),
		ts("date", "When the transaction was made (UTC)."),
		pii("donation_comment", "The donor's comment."),
	)
	b.leaves("fundraiser.", "fundraiser_", "Campaign: ",
		i64("id", "ID."),
		i64("partner_id", "partner ID."),
		i64("fundraiser_template_id", "template ID.").as("fundraiser_template_id"),
		str("name", "name."),
		ts("dt_start", "start (UTC)."),
		ts("dt_end", "end (UTC)."),
		str("location", "location."),
		money("goal", "goal."),
		str("campus", "campus."),
		str("national_office", "national office."),
		str("chapter", "chapter."),
		str("chapter_custom_id", "chapter custom ID."),
		str("organization", "organization."),
		str("in_support_name", "in support of (name)."),
		str("in_support_code", "in support of (code)."),
		str("appeal_code", "appeal code."),
		str("language", "language (en, fr)."),
		leaf{key: "tags_list", typ: schemas.String, rep: true, desc: "tags."},
	)
	b.leaves("fundraiser.fundraiser_template.", "fundraiser_template_", "Campaign template: ",
		i64("id", "ID, as given in the template object.").as("fundraiser_template_object_id"),
		str("name", "name."),
	)
	b.leaves("fundraiser.user.", "fundraiser_user_", "Campaign owner: ", without(userLeaves, "language")...)
	b.leaves("fundraiser_team.", "team_", "Team: ",
		i64("id", "ID."),
		i64("partner_id", "partner ID."),
		i64("fundraiser_id", "campaign ID."),
		str("name", "name."),
		money("goal", "goal."),
		str("url", "URL."),
	)
	b.leaves("fundraiser_team.user.", "team_user_", "Team captain: ", userLeaves...)
	b.leaves("fundraiser_user_page.", "page_", "Personal page: ",
		i64("id", "ID."),
		i64("partner_id", "partner ID."),
		pii("name", "name (usually its owner's)."),
		pii("first_name", "owner's first name."),
		pii("last_name", "owner's last name."),
		pii("user_name", "owner's user name."),
		pii("title", "owner's title."),
		money("goal", "goal."),
		pii("url", "URL (usually its owner's name)."),
		str("language", "language (en, fr)."),
	)
	b.leaves("", "", "",
		boo("is_disputed", "Whether the charge is disputed."),
		boo("is_refunded", "Whether the charge was refunded."),
		boo("is_pending", "Whether the transaction is pending."),
		boo("is_tax_receipt_issued", "Whether a tax receipt was issued."),
	)
	b.leaves("tax_receipt.", "tax_receipt_", "Tax receipt: ",
		i64("id", "ID."),
		money("amount_donation", "donation amount."),
		money("amount_benefit", "benefit amount."),
		money("amount_eligible", "eligible amount."),
		pii("business_name", "business name."),
		pii("name_on_receipt", "name on the receipt."),
		ts("issued_on", "issue time (UTC)."),
		str("receipt_number", "receipt number."),
		str("status", "valid or cancelled."),
		pii("title", "title."),
		pii("first_name", "first name."),
		pii("last_name", "last name."),
		pii("street_address", "street address."),
		pii("city", "city."),
		str("country", "country code."),
		str("state", "state or province code."),
		pii("postal", "postal code."),
		pii("email", "email."),
		i64("user_id", "user ID."),
		i64("transaction_id", "transaction ID."),
	)
	b.leaves("recurring.", "recurring_", "Recurring plan: ",
		i64("id", "ID."),
		money("amount", "amount."),
		money("amount_net", "net amount."),
		str("interval", "month or year."),
		i64("day", "day of the month."),
		i64("month", "month of the year."),
		str("status", "active, cancelled or paused."),
	)
	b.leaves("payout.", "payout_", "Payout: ",
		str("account", "account paid out to (global or user)."),
		date("date", "payout date."),
	)
	for _, c := range PurchasedCategories {
		prefix := "purchased_items." + c + "."
		if c == "sponsorship" {
			prefix = "sponsorship."
		}
		b.leaves(prefix, "", "", i64("count", "The count the API reports for purchased "+c+" (not trusted: see transaction_items).").as("purchased_"+c+"_count"))
	}
	for _, c := range RefundedCategories {
		b.leaves("refunded_items."+c+".", "", "", i64("count", "The count the API reports for refunded "+c+" (not trusted: see transaction_items).").as("refunded_"+c+"_count"))
	}
	b.leaves("", "", "",
		i64("fulfillment_transaction_id", "The fulfillment of this pledge."),
		boo("is_pledge_transaction", "Whether this is a pledge."),
		i64("pledge_transaction_id", "The pledge this transaction fulfils."),
		boo("is_fulfillment_transaction", "Whether this fulfils a pledge."),
	)
	b.leaves("payee.billing.", "payee_billing_", "Payee billing: ", addressLeaves...)
	b.leaves("payee.user.", "payee_user_", "Payee user: ", userLeaves...)
	b.column(schemas.DonorKeyColumn("donated_by_email")).copyOf("donated_by.email", schemas.ColDonorKey)
	b.column(schemas.DonorKeyColumnNamed(ColBillingDonorKey, "billing_email")).copyOf("billing.email", ColBillingDonorKey)
	return b
}

// categoryList is the JSON path of the items of a category.
func categoryList(direction, category string) string {
	return strings.TrimSuffix(categoryPrefix(direction, category), ".")
}

// categoryPrefix is the JSON prefix of the items of a category.
func categoryPrefix(direction, category string) string {
	if direction == Purchased && category == "sponsorship" {
		return "sponsorship.items[]."
	}
	if direction == Purchased {
		return "purchased_items." + category + ".items[]."
	}
	return "refunded_items." + category + ".items[]."
}

// directionsOf lists the directions in which a category occurs (self-donations are only refunded,
// tribute cards only purchased).
func directionsOf(category string) []string {
	var out []string
	eachCategory(func(d, c string) {
		if c == category {
			out = append(out, d)
		}
	})
	return out
}

func eachCategory(f func(direction, category string)) {
	for _, c := range PurchasedCategories {
		f(Purchased, c)
	}
	for _, c := range RefundedCategories {
		f(Refunded, c)
	}
}

var itemKey = []schemas.Column{
	{Name: "direction", Type: schemas.String, Required: true, Derived: schemas.RowConstant, Description: "purchased or refunded."},
	{Name: "position", Type: schemas.Int64, Required: true, Derived: schemas.Position, Description: "The item's position in its category's list, from 0."},
}

func (b *builder) itemKey(category bool) *builder {
	b.column(itemKey[0])
	if category {
		b.column(schemas.Column{Name: "category", Type: schemas.String, Required: true, Derived: schemas.RowConstant, Description: "The item category, spelled as the API's JSON key: apparel, registration, tickets, ecards, tribute_cards, custom_fees, sponsorship, donations, covered_fees, self_donations."})
	}
	b.column(itemKey[1])
	if !category {
		b.column(schemas.Column{Name: "item_id", Type: schemas.Int64, Derived: schemas.RowCopy, Description: "The item's ID (transaction_items.item_id)."})
	}
	return b
}

// detailRows starts the row source of a detail table for the items of a category in a direction:
// keyed like their transaction_items rows, with the item's id.
func (b *builder) detailRows(direction, category string) *builder {
	list := categoryList(direction, category)
	return b.rows(list, schemas.Constant{Column: "direction", Value: direction}).copyOf(list+".id", "item_id")
}

func itemsTable() *builder {
	b := newTable(TransactionItem, schemas.Data, "Every purchased and refunded line item of every transaction version, with its direction and category. The top-level sponsorship list counts as purchased.")
	b.child().itemKey(true)
	b.t.Cluster = []string{"transaction_id", "category"}
	eachCategory(func(d, c string) {
		b.rows(categoryList(d, c), schemas.Constant{Column: "direction", Value: d}, schemas.Constant{Column: "category", Value: c})
		switch c {
		case "apparel", "tickets", "registration":
			b.leaves("", "", "", productLeaves...)
		case "custom_fees", "donations", "covered_fees":
			// The API names custom fees; refunded donations and covered fees usually have no name.
			b.leaves("", "", "", productLeaves[0], productLeaves[1], amountLeaf)
		case "sponsorship":
			b.leaves("", "", "", productLeaves[0],
				i64("option_id", "Sponsorship option ID."),
				i64("source_id", "Sponsorship source ID."),
				productLeaves[1], productLeaves[3])
		case "ecards":
			b.leaves("", "", "", productLeaves[0])
			b.leaves("card.", "", "", productLeaves[3]) // an e-card's price is its card's
		case "tribute_cards":
			b.leaves("", "", "", productLeaves[0])
		case "self_donations":
			b.leaves("", "", "", productLeaves[0], amountLeaf, productLeaves[1])
		}
	})
	return b
}

func registrationsTable() *builder {
	b := newTable(Registrations, schemas.Data, "Detail of registration items: the registrant, their personal page, team and user, and mailing address. Joins transaction_items on (transaction_id, direction, position, _run_id, _extracted_at) with category = 'registration'.")
	b.child().itemKey(false)
	b.t.Cluster = []string{"transaction_id"}
	for _, d := range directionsOf("registration") {
		b.detailRows(d, "registration")
		b.leaves("", "", "Registrant: ",
			pii("first_name", "first name."),
			pii("last_name", "last name."),
			pii("alias_name", "alias."),
			pii("comment", "comment."),
			boo("is_amount_hidden", "whether the amount is hidden."),
			i64("registrant_id", "registrant ID."),
		)
		b.leaves("fundraiser_page.", "page_", "Registrant's page: ",
			i64("id", "ID."), pii("name", "name (usually the registrant's)."), money("goal", "goal."), pii("url", "URL (usually the registrant's name)."))
		b.leaves("fundraiser_page.self_donation.", "self_donation_", "Self-donation: ",
			i64("id", "ID."), pii("name", "donor name."), money("amount", "amount."))
		b.leaves("fundraiser_page.team.", "team_", "Registrant's team: ",
			i64("id", "ID."), str("name", "name."), money("goal", "goal."), str("url", "URL."), str("language", "language."))
		b.leaves("fundraiser_page.user.", "user_", "Registrant's user: ", without(userLeaves, "language")...)
		b.leaves("mailing_address.", "mailing_", "Registrant's mailing address: ",
			pii("street_address", "street."), pii("city", "city."), str("country", "country code."), str("state", "state code."), pii("postal", "postal code."))
	}
	return b
}

func ecardsTable() *builder {
	b := newTable(Ecards, schemas.Data, "Detail of e-card items. Joins transaction_items on (transaction_id, direction, position, _run_id, _extracted_at) with category = 'ecards'; the card's price is transaction_items.price.")
	b.child().itemKey(false)
	b.t.Cluster = []string{"transaction_id"}
	for _, d := range directionsOf("ecards") {
		b.detailRows(d, "ecards")
		b.leaves("", "", "",
			str("method", "Delivery method (email, sms, mail)."),
			date("send_on", "Date to send on."),
			pii("message", "Message."),
			boo("is_anonymous", "Whether the sender is anonymous."),
			str("delivery_status", "na, pending, sent, delivered, opened or error."),
		)
		b.leaves("card.", "card_", "Card: ", i64("id", "ID."), str("name", "name."))
		b.leaves("recipient.", "recipient_", "", recipientLeaves...)
	}
	return b
}

func tributeCardsTable() *builder {
	b := newTable(TributeCards, schemas.Data, "Detail of tribute card items. Joins transaction_items on (transaction_id, direction, position, _run_id, _extracted_at) with category = 'tribute_cards'.")
	b.child().itemKey(false)
	b.t.Cluster = []string{"transaction_id"}
	for _, d := range directionsOf("tribute_cards") {
		b.detailRows(d, "tribute_cards")
		b.leaves("", "", "",
			str("method", "Delivery method (email, sms, mail)."),
			str("type", "Tribute type (In honor of, In memory of)."),
			pii("honoree", "Honoree."),
			pii("message", "Message."),
			str("delivery_status", "na, pending, sent, delivered, opened or error."),
		)
		b.leaves("recipient.", "recipient_", "", recipientLeaves...)
	}
	return b
}

func selfDonationsTable() *builder {
	b := newTable(SelfDonations, schemas.Data, "Detail of self-donation items: the personal page donated to. Joins transaction_items on (transaction_id, direction, position, _run_id, _extracted_at) with category = 'self_donations'.")
	b.child().itemKey(false)
	b.t.Cluster = []string{"transaction_id"}
	for _, d := range directionsOf("self_donations") {
		b.detailRows(d, "self_donations")
		b.leaves("fundraiser_page.", "page_", "Personal page: ",
			i64("id", "ID."),
			i64("partner_id", "partner ID."),
			pii("name", "name (usually its owner's)."),
			pii("first_name", "owner's first name."),
			pii("last_name", "owner's last name."),
			money("goal", "goal."),
			str("language", "language (en, fr)."),
		)
	}
	return b
}

// CustomDataPrefixes maps each custom data level to the JSON prefixes of its lists.
var CustomDataPrefixes = map[string][]string{
	LevelTransaction:      {"custom_data[]."},
	LevelFundraiser:       {"fundraiser.custom_data[]."},
	LevelTeam:             {"fundraiser_team.custom_data[]."},
	LevelPage:             {"fundraiser_user_page.custom_data[]."},
	LevelRegistration:     {categoryPrefix(Purchased, "registration") + "custom_data[].", categoryPrefix(Refunded, "registration") + "custom_data[]."},
	LevelSelfDonationPage: {categoryPrefix(Refunded, "self_donations") + "fundraiser_page.custom_data[]."},
}

func customDataTable() *builder {
	b := newTable(CustomData, schemas.Data, "Answers to custom questions from every level: transaction, fundraiser, team, page, registration, self_donation_page, with the owning object's ID.")
	b.child()
	b.t.Cluster = []string{"transaction_id", "level"}
	b.column(schemas.Column{Name: "level", Type: schemas.String, Required: true, Derived: schemas.RowConstant, Description: "Where the answer was given: transaction, fundraiser, team, page, registration or self_donation_page."})
	b.column(schemas.Column{Name: "owner_id", Type: schemas.Int64, Derived: schemas.RowCopy, Description: "ID of the owning object: the transaction, campaign, team, page, registration item or self-donation page."})
	b.column(schemas.Column{Name: "direction", Type: schemas.String, Derived: schemas.RowConstant, Description: "For registration and self_donation_page answers: purchased or refunded, the item's direction."})
	b.column(schemas.Column{Name: "item_position", Type: schemas.Int64, Derived: schemas.OuterPosition, Description: "For registration and self_donation_page answers: the item's position in its list."})
	b.column(schemas.Column{Name: "position", Type: schemas.Int64, Required: true, Derived: schemas.Position, Description: "The answer's position in its list, from 0."})
	for _, level := range CustomDataLevels {
		for _, p := range CustomDataPrefixes[level] {
			constants := []schemas.Constant{{Column: "level", Value: level}}
			if d := directionOfList(p); d != "" {
				constants = append(constants, schemas.Constant{Column: "direction", Value: d})
			}
			// owner_id is the id of the object holding the list: the transaction, the campaign, the
			// team, the page, the registration item, the self-donation's page.
			b.rows(strings.TrimSuffix(p, "."), constants...).copyOf(strings.TrimSuffix(p, "custom_data[].")+"id", "owner_id")
			b.leaves("", "", "", customDataLeaves...)
		}
	}
	return b
}

// directionOfList is the direction of the items a JSON path is under, "" when it is under none.
func directionOfList(path string) string {
	var out string
	eachCategory(func(d, c string) {
		if strings.HasPrefix(path, categoryPrefix(d, c)) {
			out = d
		}
	})
	return out
}

func rawTable() *builder {
	b := newTable(RawTransactions, schemas.Data, "Every transaction version's original JSON, byte for byte, so that nothing is lost to a field the model does not know yet.")
	b.child().rows("") // one row per transaction
	b.t.Cluster = []string{"transaction_id"}
	b.column(schemas.Column{Name: "raw", Type: schemas.String, Required: true, PII: true, Derived: schemas.RawJSON, Description: "The transaction object exactly as the API sent it."})
	b.column(schemas.Column{Name: "unknown_fields", Type: schemas.String, Repeated: true, Derived: schemas.UnknownFields, Description: "JSON paths of leaves the model does not know (array indexes written as [])."})
	b.column(schemas.Column{Name: "decode_error", Type: schemas.String, Derived: schemas.DecodeError, Description: "Why the typed model could not fully decode the transaction, if it could not: each field that failed (its column is NULL, every other field was kept), invalid UTF-8, amounts that do not fit. Names paths, never values."})
	b.column(schemas.RawBytesBase64)
	return b
}
