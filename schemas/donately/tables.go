// Package donately declares Donately's tables (seed 004: REST API v2): donations, campaigns and
// people, each versioned like CrowdChange's transactions, each with its raw JSON beside it
// (payment_intent_secret, a credential, removed by the client before anything reads it), and the
// donations' meta data in a child table. Its init registers the source with package schemas.
package donately

import "github.com/ccsync/ccsync/schemas"

// Name is the source's name (--source donately, column source of the bookkeeping tables).
const Name = "donately"

// Table names.
const (
	Donations    = "donately_donations"
	DonationMeta = "donately_donation_meta_data"
	RawDonations = "raw_donately_donations"
	Campaigns    = "donately_campaigns"
	RawCampaigns = "raw_donately_campaigns"
	People       = "donately_people"
	RawPeople    = "raw_donately_people"
)

// Streams: donations by created_at (backfill) and updated_at (sync), and the campaigns and people
// changed in a window (transform/donately).
const (
	StreamCreated   = "created"
	StreamUpdated   = "updated"
	StreamCampaigns = "campaigns"
	StreamPeople    = "people"
)

// DonationsFlattening is how a Donately donation becomes rows of its three tables. The
// model (transform/donately) adds two fields the API does not send: amount (amount_in_cents / 100,
// exact) and meta_data_entries (meta_data's members, by key); it upper-cases the currency.
func DonationsFlattening() schemas.Flattening { return donatelyDonations }

// CampaignsFlattening is how a Donately campaign becomes rows of its tables.
func CampaignsFlattening() schemas.Flattening { return donatelyCampaigns }

// PeopleFlattening is how a Donately person (donor or contact) becomes rows of its tables.
func PeopleFlattening() schemas.Flattening { return donatelyPeople }

var donatelyDonations, donatelyCampaigns, donatelyPeople schemas.Flattening

func init() {
	donatelyDonations = schemas.Flattening{Record: "donation", Key: "id", Date: "created_at", Tables: []schemas.Table{
		donatelyParent(Donations, "One row per extracted version of a Donately donation (a gift, one-time or a charge of a subscription). Query donately_donations_current for the latest state.",
			"created_date",
			field("amount_in_cents", schemas.Column{Name: "amount_in_cents", Type: schemas.Int64, Description: "Amount, in integer cents, as the API sends it."}),
			field("amount", schemas.Column{Name: "amount", Type: schemas.Numeric, Description: "Amount as an exact decimal: amount_in_cents / 100 (computed by ccsync)."}),
			field("currency", schemas.Column{Name: "currency", Type: schemas.String, Description: "ISO currency code, upper case (the API sends lower case)."}),
			field("status", schemas.Column{Name: "status", Type: schemas.String, Description: "completed, pending, refunded or rejected."}),
			field("campaign_id", schemas.Column{Name: "campaign_id", Type: schemas.String, Description: "The campaign (donately_campaigns.id)."}),
			field("person_id", schemas.Column{Name: "person_id", Type: schemas.String, Description: "The donor (donately_people.id)."}),
			field("fundraiser.id", schemas.Column{Name: "fundraiser_id", Type: schemas.String, Description: "The fundraiser (peer-to-peer page), if any."}),
			field("fundraiser.type", schemas.Column{Name: "fundraiser_type", Type: schemas.String, Description: "individual or team."}),
			field("subscription.id", schemas.Column{Name: "subscription_id", Type: schemas.String, Description: "The subscription of a recurring donation."}),
			field("subscription.recurring_frequency", schemas.Column{Name: "recurring_frequency", Type: schemas.String, Description: "The subscription's frequency (monthly, ...)."}),
			field("subscription.recurring_start_day", schemas.Column{Name: "recurring_start_day", Type: schemas.Int64, Description: "The subscription's start day."}),
			field("subscription.recurring_stop_day", schemas.Column{Name: "recurring_stop_day", Type: schemas.Int64, Description: "The subscription's stop day."}),
			field("recurring", schemas.Column{Name: "recurring", Type: schemas.Bool, Description: "Whether the donation is recurring."}),
			field("anonymous", schemas.Column{Name: "anonymous", Type: schemas.Bool, Description: "Whether the donor asked to stay anonymous."}),
			field("donation_type", schemas.Column{Name: "donation_type", Type: schemas.String, Description: "card, stripe, ach, paypal, cash or dipjar (cc, ach, cash, paypal in 2019-03-15)."}),
			field("comment", schemas.Column{Name: "comment", Type: schemas.String, PII: true, Description: "The donor's comment."}),
			field("on_behalf_of", schemas.Column{Name: "on_behalf_of", Type: schemas.String, PII: true, Description: "Whom the gift honours."}),
			field("origin", schemas.Column{Name: "origin", Type: schemas.String, Description: "Where the donation came from (form, api, dashboard, ...)."}),
			field("notes", schemas.Column{Name: "notes", Type: schemas.String, PII: true, Description: "Internal notes."}),
			field("paypal_order_id", schemas.Column{Name: "paypal_order_id", Type: schemas.String, Description: "PayPal's order id."}),
			field("form.id", schemas.Column{Name: "form_id", Type: schemas.String, Description: "The form the donation came through."}),
			field("form.title", schemas.Column{Name: "form_title", Type: schemas.String, Description: "The form's title."}),
			field("ecard", schemas.Column{Name: "ecard", Type: schemas.String, PII: true, Description: "The e-card sent with the gift, as its JSON text."}),
			field("meta_data", schemas.Column{Name: "meta_data", Type: schemas.String, PII: true, Description: "The donation's meta data object, as its JSON text (its members are rows of donately_donation_meta_data)."}),
		),
		{
			Name: DonationMeta, Kind: schemas.Data, Parent: Donations, ParentKey: "donation_id",
			Description: "One row per member of a donation version's meta_data object, by key.",
			Partition:   "created_date", Cluster: []string{"donation_id"},
			Columns: schemas.Versioned(
				schemas.Column{Name: "donation_id", Type: schemas.String, Required: true, Derived: schemas.RecordKey, Description: "The donation (donately_donations.id)."},
				schemas.Column{Name: "created_date", Type: schemas.Date, Derived: schemas.RecordDate, Description: "The UTC date the donation was created; the partitioning column."},
				schemas.Column{Name: "position", Type: schemas.Int64, Required: true, Derived: schemas.Position, Description: "The member's position, by key, from 0."},
				schemas.Column{Name: "key", Type: schemas.String, Description: "The member's name."},
				schemas.Column{Name: "value", Type: schemas.String, PII: true, Description: "The member's value, as its JSON text."},
			),
			Rows: []schemas.RowSource{{Each: "meta_data_entries[]", Leaves: []schemas.Leaf{{Path: "key", Column: "key"}, {Path: "value", Column: "value"}}}},
		},
		donatelyRaw(RawDonations, Donations, "donation_id", "created_date", "Every Donately donation version's JSON as the API sent it, less payment_intent_secret."),
	}}
	donatelyCampaigns = schemas.Flattening{Record: "campaign", Key: "id", Date: "created_at", Tables: []schemas.Table{
		donatelyParent(Campaigns, "One row per extracted version of a Donately campaign. Query donately_campaigns_current for the latest state.",
			"created_date",
			field("title", schemas.Column{Name: "title", Type: schemas.String, Description: "Title."}),
			field("status", schemas.Column{Name: "status", Type: schemas.String, Description: "draft, published or archived."}),
			field("type", schemas.Column{Name: "type", Type: schemas.String, Description: "donation, peer_to_peer, ..."}),
			field("goal_in_cents", schemas.Column{Name: "goal_in_cents", Type: schemas.Int64, Description: "Goal, in integer cents."}),
			field("total_raised_in_cents", schemas.Column{Name: "total_raised_in_cents", Type: schemas.Int64, Description: "Raised so far, in integer cents, as the API counts it."}),
			field("page_template", schemas.Column{Name: "page_template", Type: schemas.String, Description: "The page template, as its JSON text."}),
		),
		donatelyRaw(RawCampaigns, Campaigns, "campaign_id", "created_date", "Every Donately campaign version's JSON as the API sent it."),
	}}
	donatelyPeople = schemas.Flattening{Record: "person", Key: "id", Date: "created_at", Tables: []schemas.Table{
		schemas.WithDonorKey(donatelyParent(People, "One row per extracted version of a Donately person (a donor or contact). Query donately_people_current for the latest state.",
			"created_date",
			field("email", schemas.Column{Name: "email", Type: schemas.String, PII: true, Description: "Email address."}),
			field("first_name", schemas.Column{Name: "first_name", Type: schemas.String, PII: true, Description: "First name."}),
			field("last_name", schemas.Column{Name: "last_name", Type: schemas.String, PII: true, Description: "Last name."}),
			field("phone_number", schemas.Column{Name: "phone_number", Type: schemas.String, PII: true, Description: "Phone number."}),
			field("street_address", schemas.Column{Name: "street_address", Type: schemas.String, PII: true, Description: "Street address."}),
			field("street_address_2", schemas.Column{Name: "street_address_2", Type: schemas.String, PII: true, Description: "Street address, second line."}),
			field("city", schemas.Column{Name: "city", Type: schemas.String, PII: true, Description: "City."}),
			field("state", schemas.Column{Name: "state", Type: schemas.String, Description: "State or province."}),
			field("zip_code", schemas.Column{Name: "zip_code", Type: schemas.String, PII: true, Description: "Postal or ZIP code."}),
			field("country", schemas.Column{Name: "country", Type: schemas.String, Description: "Country."}),
		), "email", "email"),
		donatelyRaw(RawPeople, People, "person_id", "created_date", "Every Donately person version's JSON as the API sent it."),
	}}
	schemas.RegisterSource(schemas.SourceInfo{
		Name: Name,
		Streams: []schemas.Stream{
			{Name: StreamCreated}, {Name: StreamUpdated}, {Name: StreamCampaigns}, {Name: StreamPeople},
		},
		Watched:     []string{StreamUpdated, StreamCreated},
		Flattenings: []schemas.Flattening{donatelyDonations, donatelyCampaigns, donatelyPeople},
		Donations:   DonationRows,
	})
}

// field is the Field of column c at path.
func field(path string, c schemas.Column) schemas.Field { return schemas.FieldAt(path, c) }

// donatelyParent declares a Donately record's table: id, the creation date (the partitioning
// column), object, the record's own fields, its timestamps, and the version stamps.
func donatelyParent(name, desc, dateCol string, fields ...schemas.Field) schemas.Table {
	fields = append([]schemas.Field{
		field("id", schemas.Column{Name: "id", Type: schemas.String, Required: true, Description: "ID."}),
		field("object", schemas.Column{Name: "object", Type: schemas.String, Description: "The API's object type."}),
	}, fields...)
	fields = append(fields,
		field("created_at", schemas.Column{Name: "created_at", Type: schemas.Timestamp, Description: "Created (UTC)."}),
		field("updated_at", schemas.Column{Name: "updated_at", Type: schemas.Timestamp, Description: "Last updated (UTC); sync follows it."}))
	date := schemas.Column{Name: dateCol, Type: schemas.Date, Derived: schemas.RecordDate, Description: "The UTC date of created_at; the partitioning column."}
	return schemas.RecordTable(name, desc, date, fields...)
}

// donatelyRaw declares the raw JSON table of a Donately record's versions.
func donatelyRaw(name, parent, key, dateCol, desc string) schemas.Table {
	return schemas.RawTable(name, parent, key, dateCol, desc, "The record exactly as the API sent it (a payment_intent_secret member removed).")
}
