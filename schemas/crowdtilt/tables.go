// Package crowdtilt declares Crowdtilt's tables (seed 003: API v1): payments, campaigns and
// users, each versioned (a new version only when the record changed: content_hash), each with its
// raw JSON beside it (card tokens and numbers removed by the client before anything reads them).
// Its init registers the source with package schemas.
package crowdtilt

import "github.com/ccsync/ccsync/schemas"

// Name is the source's name (--source crowdtilt, column source of the bookkeeping tables).
const Name = "crowdtilt"

// Table names.
const (
	Payments     = "crowdtilt_payments"
	RawPayments  = "raw_crowdtilt_payments"
	Campaigns    = "crowdtilt_campaigns"
	RawCampaigns = "raw_crowdtilt_campaigns"
	Users        = "crowdtilt_users"
	RawUsers     = "raw_crowdtilt_users"
)

// Streams. The API has no filter by date, so a window is one campaign's walk: the campaign, its
// payments and the users they embed, keyed by the campaign's id. "walk" is a sync's: window
// [the previous walk's start, this walk's start); "created" is a backfill's: window [from, to)
// over the payments' creation_date.
const (
	StreamWalk    = "walk"
	StreamCreated = "created"
)

// StreamKey names what the streams' windows are keyed by.
const StreamKey = "campaign"

// ColContentHash is the column of every Crowdtilt record table that holds the record's content
// hash: a sync appends a version only when it differs from the current version's.
const ColContentHash = "content_hash"

// PaymentsFlattening is how a Crowdtilt payment becomes rows of its tables. The model
// (transform/crowdtilt) adds what the API does not send: amount_decimal (amount / 100, exact),
// currency (USD: the seed names none) and content_hash.
func PaymentsFlattening() schemas.Flattening { return payments }

// CampaignsFlattening is how a Crowdtilt campaign becomes rows of its tables.
func CampaignsFlattening() schemas.Flattening { return campaigns }

// UsersFlattening is how a Crowdtilt user becomes rows of its tables.
func UsersFlattening() schemas.Flattening { return users }

var payments, campaigns, users schemas.Flattening

func init() {
	payments = schemas.Flattening{Record: "payment", Key: "id", Date: "creation_date",
		// The campaign and the users a payment embeds are versioned in their own tables.
		Embedded: []schemas.Embedded{{Path: "campaign", Record: CampaignsFlattening}, {Path: "user", Record: UsersFlattening}, {Path: "card.user", Record: UsersFlattening}},
		Tables: []schemas.Table{
			parent(Payments, "One row per version of a Crowdtilt payment (a contribution to a campaign); a new version only when the payment changed. Query crowdtilt_payments_current for the latest state.",
				field("campaign.id", schemas.Column{Name: "campaign_id", Type: schemas.String, Description: "The campaign paid (crowdtilt_campaigns.id)."}),
				field("user.id", schemas.Column{Name: "user_id", Type: schemas.String, Description: "The payer (crowdtilt_users.id)."}),
				field("status", schemas.Column{Name: "status", Type: schemas.String, Description: "authorized (the campaign has not tilted yet), charged, refunded or rejected (the card was declined)."}),
				field("amount", schemas.Column{Name: "amount_in_cents", Type: schemas.Int64, Description: "Amount to the campaign, in integer cents, as the API sends it (its member amount)."}),
				field("amount_decimal", schemas.Column{Name: "amount", Type: schemas.Numeric, Description: "Amount to the campaign as an exact decimal: amount_in_cents / 100 (computed by ccsync)."}),
				field("currency", schemas.Column{Name: "currency", Type: schemas.String, Description: "USD: the API names no currency; its amounts are US cents (set by ccsync)."}),
				field("user_fee_amount", schemas.Column{Name: "user_fee_amount", Type: schemas.Int64, Description: "Fee charged to the payer on top of the amount, in integer cents, as the API sends it."}),
				field("admin_fee_amount", schemas.Column{Name: "admin_fee_amount", Type: schemas.Int64, Description: "Fee taken from the amount before it reaches the campaign's admin, in integer cents, as the API sends it."}),
				field("uri", schemas.Column{Name: "uri", Type: schemas.String, Description: "The payment's API path."}),
				field("card.last_four", schemas.Column{Name: "card_last_four", Type: schemas.String, PII: true, Description: "The last four digits of the card paid with (its number, token and security code are never stored)."}),
				field("card.card_type", schemas.Column{Name: "card_type", Type: schemas.String, Description: "The card's type (VISA card, ...)."}),
				field("card.expiration_month", schemas.Column{Name: "card_expiration_month", Type: schemas.String, Description: "The card's expiration month, two digits."}),
				field("card.expiration_year", schemas.Column{Name: "card_expiration_year", Type: schemas.Int64, Description: "The card's expiration year."}),
				field("card.user.id", schemas.Column{Name: "card_user_id", Type: schemas.String, Description: "The card's owner (crowdtilt_users.id)."}),
				field("card.creation_date", schemas.Column{Name: "card_creation_date", Type: schemas.Timestamp, Description: "When the card was created (UTC)."}),
				field("card.modification_date", schemas.Column{Name: "card_modification_date", Type: schemas.Timestamp, Description: "When the card was last modified (UTC)."}),
				field("card.metadata", schemas.Column{Name: "card_metadata", Type: schemas.String, PII: true, Description: "The card's metadata object, as its JSON text."}),
			),
			raw(RawPayments, Payments, "payment_id"),
		}}
	campaigns = schemas.Flattening{Record: "campaign", Key: "id", Date: "creation_date",
		// The users a campaign embeds are versioned in crowdtilt_users.
		Embedded: []schemas.Embedded{{Path: "admin", Record: UsersFlattening}, {Path: "first_contributor", Record: UsersFlattening}, {Path: "tilter", Record: UsersFlattening}},
		Tables: []schemas.Table{
			parent(Campaigns, "One row per version of a Crowdtilt campaign; a new version only when the campaign changed (its stats follow its payments). Query crowdtilt_campaigns_current for the latest state.",
				field("title", schemas.Column{Name: "title", Type: schemas.String, Description: "Title."}),
				field("tilt_amount", schemas.Column{Name: "tilt_amount", Type: schemas.Int64, Description: "The amount at which the campaign tilts (its payments are charged), in integer cents."}),
				field("min_payment_amount", schemas.Column{Name: "min_payment_amount", Type: schemas.Int64, Description: "The smallest payment accepted, in integer cents."}),
				field("fixed_payment_amount", schemas.Column{Name: "fixed_payment_amount", Type: schemas.Int64, Description: "The one amount accepted, in integer cents; 0 for any amount."}),
				field("expiration_date", schemas.Column{Name: "expiration_date", Type: schemas.Timestamp, Description: "When the campaign expires (UTC)."}),
				field("is_tilted", schemas.Column{Name: "is_tilted", Type: schemas.Int64, Description: "1 when the campaign has tilted, else 0."}),
				field("is_paid", schemas.Column{Name: "is_paid", Type: schemas.Int64, Description: "1 when the campaign's money was paid out, else 0."}),
				field("is_expired", schemas.Column{Name: "is_expired", Type: schemas.Int64, Description: "1 when the campaign has expired, else 0."}),
				field("needs_bank", schemas.Column{Name: "needs_bank", Type: schemas.Int64, Description: "1 when the admin must add a bank account to be paid, else 0."}),
				field("uri", schemas.Column{Name: "uri", Type: schemas.String, Description: "The campaign's API path."}),
				field("payments_uri", schemas.Column{Name: "payments_uri", Type: schemas.String, Description: "The API path of its payments."}),
				field("settlements_uri", schemas.Column{Name: "settlements_uri", Type: schemas.String, Description: "The API path of its settlements."}),
				field("admin.id", schemas.Column{Name: "admin_id", Type: schemas.String, Description: "The campaign's admin (crowdtilt_users.id)."}),
				field("first_contributor.id", schemas.Column{Name: "first_contributor_id", Type: schemas.String, Description: "The first payer (crowdtilt_users.id), if any."}),
				field("tilter.id", schemas.Column{Name: "tilter_id", Type: schemas.String, Description: "The payer whose payment tilted the campaign (crowdtilt_users.id), if any."}),
				field("stats.tilt_percent", schemas.Column{Name: "tilt_percent", Type: schemas.Int64, Description: "Raised amount as a percentage of tilt_amount, rounded down (the API's stats)."}),
				field("stats.raised_amount", schemas.Column{Name: "raised_amount", Type: schemas.Int64, Description: "Raised so far (authorized and charged payments), in integer cents, as the API counts it."}),
				field("stats.unique_contributors", schemas.Column{Name: "unique_contributors", Type: schemas.Int64, Description: "Distinct payers, as the API counts them."}),
				field("stats.number_of_contributions", schemas.Column{Name: "number_of_contributions", Type: schemas.Int64, Description: "Payments counted in raised_amount, as the API counts them."}),
			),
			raw(RawCampaigns, Campaigns, "campaign_id"),
		}}
	users = schemas.Flattening{Record: "user", Key: "id", Date: "creation_date", Tables: []schemas.Table{
		schemas.WithDonorKey(parent(Users, "One row per version of a Crowdtilt user (a payer or a campaign's admin); a new version only when the user changed. Query crowdtilt_users_current for the latest state.",
			field("email", schemas.Column{Name: "email", Type: schemas.String, PII: true, Description: "Email address."}),
			field("firstname", schemas.Column{Name: "firstname", Type: schemas.String, PII: true, Description: "First name."}),
			field("lastname", schemas.Column{Name: "lastname", Type: schemas.String, PII: true, Description: "Last name."}),
			field("is_verified", schemas.Column{Name: "is_verified", Type: schemas.Int64, Description: "1 when the user is verified to receive money, else 0."}),
			field("uri", schemas.Column{Name: "uri", Type: schemas.String, Description: "The user's API path."}),
			field("cards_uri", schemas.Column{Name: "cards_uri", Type: schemas.String, Description: "The API path of the user's cards."}),
			field("banks_uri", schemas.Column{Name: "banks_uri", Type: schemas.String, Description: "The API path of the user's bank accounts."}),
			field("campaigns_uri", schemas.Column{Name: "campaigns_uri", Type: schemas.String, Description: "The API path of the user's campaigns."}),
			field("payments_uri", schemas.Column{Name: "payments_uri", Type: schemas.String, Description: "The API path of the user's payments."}),
			field("paid_campaigns_uri", schemas.Column{Name: "paid_campaigns_uri", Type: schemas.String, Description: "The API path of the campaigns the user paid for."}),
		), "email", "email"),
		raw(RawUsers, Users, "user_id"),
	}}
	schemas.RegisterSource(schemas.SourceInfo{
		Name:        Name,
		Streams:     []schemas.Stream{{Name: StreamWalk, Key: StreamKey}, {Name: StreamCreated, Key: StreamKey}},
		Watched:     []string{StreamWalk, StreamCreated},
		Flattenings: []schemas.Flattening{payments, campaigns, users},
		Donations:   DonationRows,
	})
}

// field is the Field of column c at path.
func field(path string, c schemas.Column) schemas.Field { return schemas.FieldAt(path, c) }

// parent declares a Crowdtilt record's table: id, the creation day (the partitioning column), the
// record's own fields, its dates, metadata and content hash, and the version stamps.
func parent(name, desc string, fields ...schemas.Field) schemas.Table {
	fields = append([]schemas.Field{
		field("id", schemas.Column{Name: "id", Type: schemas.String, Required: true, Description: "ID."}),
	}, fields...)
	fields = append(fields,
		field("creation_date", schemas.Column{Name: "creation_date", Type: schemas.Timestamp, Description: "Created (UTC, microseconds)."}),
		field("modification_date", schemas.Column{Name: "modification_date", Type: schemas.Timestamp, Description: "Last modified (UTC, microseconds); it does not move on every change, content_hash does."}),
		field("metadata", schemas.Column{Name: "metadata", Type: schemas.String, PII: true, Description: "The record's metadata object (the API user's own members), as its JSON text."}),
		field("content_hash", schemas.Column{Name: ColContentHash, Type: schemas.String, Required: true, Description: "SHA-256 of the record's canonical content (embedded records reduced to their ids), computed by ccsync: a new version is appended only when it changes."}))
	day := schemas.Column{Name: "creation_day", Type: schemas.Date, Derived: schemas.RecordDate, Description: "The UTC date of creation_date; the partitioning column."}
	return schemas.RecordTable(name, desc, day, fields...)
}

// raw declares the raw JSON table of a Crowdtilt record's versions.
func raw(name, parent, key string) schemas.Table {
	return schemas.RawTable(name, parent, key, "creation_day",
		"Every version of "+parent+" as its JSON, exactly as the API sent it.",
		"The record exactly as the API sent it, less card data (a card's id, uri, number and token, and any security code, account or routing number, removed with their members).")
}
