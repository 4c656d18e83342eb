package schemas

// Donately's tables (source Donately, seed 004: REST API v2): donations, campaigns and people,
// each versioned like transactions, each with its raw JSON beside it (payment_intent_secret, a
// credential, removed by the client before anything reads it), and the donations' meta data in a
// child table.

// Donately's table names.
const (
	DonatelyDonations    = "donately_donations"
	DonatelyDonationMeta = "donately_donation_meta_data"
	RawDonatelyDonations = "raw_donately_donations"
	DonatelyCampaigns    = "donately_campaigns"
	RawDonatelyCampaigns = "raw_donately_campaigns"
	DonatelyPeople       = "donately_people"
	RawDonatelyPeople    = "raw_donately_people"
)

// DonatelyDonationsFlattening is how a Donately donation becomes rows of its three tables. The
// model (transform/donately) adds two fields the API does not send: amount (amount_in_cents / 100,
// exact) and meta_data_entries (meta_data's members, by key); it upper-cases the currency.
func DonatelyDonationsFlattening() Flattening { return donatelyDonations }

// DonatelyCampaignsFlattening is how a Donately campaign becomes rows of its tables.
func DonatelyCampaignsFlattening() Flattening { return donatelyCampaigns }

// DonatelyPeopleFlattening is how a Donately person (donor or contact) becomes rows of its tables.
func DonatelyPeopleFlattening() Flattening { return donatelyPeople }

var donatelyDonations, donatelyCampaigns, donatelyPeople Flattening

func init() {
	donatelyDonations = Flattening{Record: "donation", Key: "id", Date: "created_at", Tables: []Table{
		donatelyParent(DonatelyDonations, "One row per extracted version of a Donately donation (a gift, one-time or a charge of a subscription). Query donately_donations_current for the latest state.",
			"created_date",
			field("amount_in_cents", Column{Name: "amount_in_cents", Type: Int64, Description: "Amount, in integer cents, as the API sends it."}),
			field("amount", Column{Name: "amount", Type: Numeric, Description: "Amount as an exact decimal: amount_in_cents / 100 (computed by ccsync)."}),
			field("currency", Column{Name: "currency", Type: String, Description: "ISO currency code, upper case (the API sends lower case)."}),
			field("status", Column{Name: "status", Type: String, Description: "completed, pending, refunded or rejected."}),
			field("campaign_id", Column{Name: "campaign_id", Type: String, Description: "The campaign (donately_campaigns.id)."}),
			field("person_id", Column{Name: "person_id", Type: String, Description: "The donor (donately_people.id)."}),
			field("fundraiser.id", Column{Name: "fundraiser_id", Type: String, Description: "The fundraiser (peer-to-peer page), if any."}),
			field("fundraiser.type", Column{Name: "fundraiser_type", Type: String, Description: "individual or team."}),
			field("subscription.id", Column{Name: "subscription_id", Type: String, Description: "The subscription of a recurring donation."}),
			field("subscription.recurring_frequency", Column{Name: "recurring_frequency", Type: String, Description: "The subscription's frequency (monthly, ...)."}),
			field("subscription.recurring_start_day", Column{Name: "recurring_start_day", Type: Int64, Description: "The subscription's start day."}),
			field("subscription.recurring_stop_day", Column{Name: "recurring_stop_day", Type: Int64, Description: "The subscription's stop day."}),
			field("recurring", Column{Name: "recurring", Type: Bool, Description: "Whether the donation is recurring."}),
			field("anonymous", Column{Name: "anonymous", Type: Bool, Description: "Whether the donor asked to stay anonymous."}),
			field("donation_type", Column{Name: "donation_type", Type: String, Description: "card, stripe, ach, paypal, cash or dipjar (cc, ach, cash, paypal in 2019-03-15)."}),
			field("comment", Column{Name: "comment", Type: String, PII: true, Description: "The donor's comment."}),
			field("on_behalf_of", Column{Name: "on_behalf_of", Type: String, PII: true, Description: "Whom the gift honours."}),
			field("origin", Column{Name: "origin", Type: String, Description: "Where the donation came from (form, api, dashboard, ...)."}),
			field("notes", Column{Name: "notes", Type: String, PII: true, Description: "Internal notes."}),
			field("paypal_order_id", Column{Name: "paypal_order_id", Type: String, Description: "PayPal's order id."}),
			field("form.id", Column{Name: "form_id", Type: String, Description: "The form the donation came through."}),
			field("form.title", Column{Name: "form_title", Type: String, Description: "The form's title."}),
			field("ecard", Column{Name: "ecard", Type: String, PII: true, Description: "The e-card sent with the gift, as its JSON text."}),
			field("meta_data", Column{Name: "meta_data", Type: String, PII: true, Description: "The donation's meta data object, as its JSON text (its members are rows of donately_donation_meta_data)."}),
		),
		{
			Name: DonatelyDonationMeta, Kind: Data, Parent: DonatelyDonations, ParentKey: "donation_id",
			Description: "One row per member of a donation version's meta_data object, by key.",
			Partition:   "created_date", Cluster: []string{"donation_id"},
			Columns: donatelyVersioned(
				Column{Name: "donation_id", Type: String, Required: true, Derived: RecordKey, Description: "The donation (donately_donations.id)."},
				Column{Name: "created_date", Type: Date, Derived: RecordDate, Description: "The UTC date the donation was created; the partitioning column."},
				Column{Name: "position", Type: Int64, Required: true, Derived: Position, Description: "The member's position, by key, from 0."},
				Column{Name: "key", Type: String, Description: "The member's name."},
				Column{Name: "value", Type: String, PII: true, Description: "The member's value, as its JSON text."},
			),
			Rows: []RowSource{{Each: "meta_data_entries[]", Leaves: []Leaf{{"key", "key"}, {"value", "value"}}}},
		},
		donatelyRaw(RawDonatelyDonations, DonatelyDonations, "donation_id", "created_date", "Every Donately donation version's JSON as the API sent it, less payment_intent_secret."),
	}}
	donatelyCampaigns = Flattening{Record: "campaign", Key: "id", Date: "created_at", Tables: []Table{
		donatelyParent(DonatelyCampaigns, "One row per extracted version of a Donately campaign. Query donately_campaigns_current for the latest state.",
			"created_date",
			field("title", Column{Name: "title", Type: String, Description: "Title."}),
			field("status", Column{Name: "status", Type: String, Description: "draft, published or archived."}),
			field("type", Column{Name: "type", Type: String, Description: "donation, peer_to_peer, ..."}),
			field("goal_in_cents", Column{Name: "goal_in_cents", Type: Int64, Description: "Goal, in integer cents."}),
			field("total_raised_in_cents", Column{Name: "total_raised_in_cents", Type: Int64, Description: "Raised so far, in integer cents, as the API counts it."}),
			field("page_template", Column{Name: "page_template", Type: String, Description: "The page template, as its JSON text."}),
		),
		donatelyRaw(RawDonatelyCampaigns, DonatelyCampaigns, "campaign_id", "created_date", "Every Donately campaign version's JSON as the API sent it."),
	}}
	donatelyPeople = Flattening{Record: "person", Key: "id", Date: "created_at", Tables: []Table{
		donatelyParent(DonatelyPeople, "One row per extracted version of a Donately person (a donor or contact). Query donately_people_current for the latest state.",
			"created_date",
			field("email", Column{Name: "email", Type: String, PII: true, Description: "Email address."}),
			field("first_name", Column{Name: "first_name", Type: String, PII: true, Description: "First name."}),
			field("last_name", Column{Name: "last_name", Type: String, PII: true, Description: "Last name."}),
			field("phone_number", Column{Name: "phone_number", Type: String, PII: true, Description: "Phone number."}),
			field("street_address", Column{Name: "street_address", Type: String, PII: true, Description: "Street address."}),
			field("street_address_2", Column{Name: "street_address_2", Type: String, PII: true, Description: "Street address, second line."}),
			field("city", Column{Name: "city", Type: String, PII: true, Description: "City."}),
			field("state", Column{Name: "state", Type: String, Description: "State or province."}),
			field("zip_code", Column{Name: "zip_code", Type: String, PII: true, Description: "Postal or ZIP code."}),
			field("country", Column{Name: "country", Type: String, Description: "Country."}),
		),
		donatelyRaw(RawDonatelyPeople, DonatelyPeople, "person_id", "created_date", "Every Donately person version's JSON as the API sent it."),
	}}
	for _, f := range []Flattening{donatelyDonations, donatelyCampaigns, donatelyPeople} {
		registerFlattening(f)
	}
}

// donatelyField is one column of a Donately table and the JSON path (from the record) it is filled
// from: a column is declared once, here.
type donatelyField struct {
	path string
	col  Column
}

func field(path string, c Column) donatelyField { return donatelyField{path: path, col: c} }

// donatelyParent declares a Donately record's table: id, the creation date (the partitioning
// column), object, the record's own fields, its timestamps, and the version stamps.
func donatelyParent(name, desc, dateCol string, fields ...donatelyField) Table {
	fields = append([]donatelyField{
		field("id", Column{Name: "id", Type: String, Required: true, Description: "ID."}),
		field("object", Column{Name: "object", Type: String, Description: "The API's object type."}),
	}, fields...)
	fields = append(fields,
		field("created_at", Column{Name: "created_at", Type: Timestamp, Description: "Created (UTC)."}),
		field("updated_at", Column{Name: "updated_at", Type: Timestamp, Description: "Last updated (UTC); sync follows it."}))
	var all []Column
	var leaves []Leaf
	for i, f := range fields {
		all = append(all, f.col)
		leaves = append(leaves, Leaf{Path: f.path, Column: f.col.Name})
		if i == 0 { // after the id
			all = append(all, Column{Name: dateCol, Type: Date, Derived: RecordDate, Description: "The UTC date of created_at; the partitioning column."})
		}
	}
	return Table{
		Name: name, Kind: Data, Description: desc, Partition: dateCol, Cluster: []string{"id"},
		Columns: donatelyVersioned(all...),
		Rows:    []RowSource{{Each: "", Leaves: leaves}},
	}
}

// donatelyRaw declares the raw JSON table of a Donately record's versions.
func donatelyRaw(name, parent, key, dateCol, desc string) Table {
	return Table{
		Name: name, Kind: Data, Parent: parent, ParentKey: key, Description: desc,
		Partition: dateCol, Cluster: []string{key},
		Columns: donatelyVersioned(
			Column{Name: key, Type: String, Required: true, Derived: RecordKey, Description: "The record (" + parent + ".id)."},
			Column{Name: dateCol, Type: Date, Derived: RecordDate, Description: "The UTC date the record was created; the partitioning column."},
			Column{Name: "raw", Type: String, Required: true, PII: true, Derived: RawJSON, Description: "The record exactly as the API sent it (a payment_intent_secret member removed)."},
			Column{Name: "unknown_fields", Type: String, Repeated: true, Derived: UnknownFields, Description: "JSON paths of leaves the model does not know (array indexes written as [])."},
			Column{Name: "decode_error", Type: String, Derived: DecodeError, Description: "Why the typed model could not fully decode the record, if it could not; names paths, never values."},
			Column{Name: rawBytesBase64.Name, Type: String, PII: true, Derived: RawJSONBase64, Description: rawBytesBase64.Description},
		),
		Rows: []RowSource{{Each: ""}},
	}
}

// donatelyVersioned appends the version stamps.
func donatelyVersioned(cols ...Column) []Column {
	return append(cols,
		Column{Name: ColRunID, Type: String, Required: true, Derived: RunID, Description: "The run that extracted this version."},
		Column{Name: ColBatchID, Type: String, Required: true, Derived: BatchID, Description: "The load batch this version was committed in; current views only consider batches found in ccsync_checkpoints."},
		Column{Name: ColExtractedAt, Type: Timestamp, Required: true, Derived: ExtractedAt, Description: "When this version was extracted from the API (UTC); the newest version of a record is current."})
}
