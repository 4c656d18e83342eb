package donately

// The typed models of the records the client lists: every field of the API reference's examples
// (seed 004, Donately-Version 2022-12-15, which also answers the fields that 2019-03-15 hides),
// but the payment intent secret, which is never kept. A field the models do not know stays in
// Record.Raw.
//
// Conventions, those of package extract: optional scalars are pointers, so that null and zero stay
// distinct; money is integer cents (int64); timestamps are extract.DateTime (UTC; RFC 3339 as the
// API writes them, and the obvious variants); objects whose shape the reference leaves open
// (ecard, page_template, meta_data) are kept as their JSON.

import (
	"encoding/json"

	"github.com/ccsync/ccsync/extract"
)

// Donation is one gift (GET /v2/donations): one-time or one charge of a subscription.
type Donation struct {
	Object        *string `json:"object"` // "donation"
	ID            string  `json:"id"`     // dnt_…
	AmountInCents *int64  `json:"amount_in_cents"`
	Currency      *string `json:"currency"` // ISO code, lower case ("usd")
	Status        *string `json:"status"`   // completed | pending | refunded | rejected
	CampaignID    *string `json:"campaign_id"`
	PersonID      *string `json:"person_id"`
	Recurring     *bool   `json:"recurring"`
	Anonymous     *bool   `json:"anonymous"`
	Comment       *string `json:"comment"`
	OnBehalfOf    *string `json:"on_behalf_of"`
	// DonationType is card, stripe, ach, paypal, cash or dipjar (2019-03-15: cc, ach, cash, paypal).
	DonationType  *string          `json:"donation_type"`
	Ecard         json.RawMessage  `json:"ecard"`
	Origin        *string          `json:"origin"` // form, api, dashboard, …
	Notes         *string          `json:"notes"`  // internal, not shown to the donor
	PaypalOrderID *string          `json:"paypal_order_id"`
	Subscription  *SubscriptionRef `json:"subscription"`
	Fundraiser    *FundraiserRef   `json:"fundraiser"`
	Form          *FormRef         `json:"form"`
	MetaData      json.RawMessage  `json:"meta_data"`
	CreatedAt     extract.DateTime `json:"created_at"`
	UpdatedAt     extract.DateTime `json:"updated_at"`
}

// SubscriptionRef is the subscription a recurring donation belongs to.
type SubscriptionRef struct {
	ID                 string  `json:"id"` // sub_…
	RecurringStartDay  *int64  `json:"recurring_start_day"`
	RecurringStopDay   *int64  `json:"recurring_stop_day"`
	RecurringFrequency *string `json:"recurring_frequency"` // monthly, …
}

// FundraiserRef is the fundraiser a donation is attributed to.
type FundraiserRef struct {
	ID   string  `json:"id"`   // fun_…
	Type *string `json:"type"` // individual | team
}

// FormRef is the form a donation came through.
type FormRef struct {
	ID    string  `json:"id"` // frm_…
	Title *string `json:"title"`
}

// SubscriptionID is the id of the donation's subscription, "" for none.
func (d *Donation) SubscriptionID() string {
	if d.Subscription == nil {
		return ""
	}
	return d.Subscription.ID
}

// FundraiserID is the id of the donation's fundraiser, "" for none.
func (d *Donation) FundraiserID() string {
	if d.Fundraiser == nil {
		return ""
	}
	return d.Fundraiser.ID
}

// RecurringFrequency is the frequency of the donation's subscription, "" when unknown.
func (d *Donation) RecurringFrequency() string {
	if d.Subscription == nil || d.Subscription.RecurringFrequency == nil {
		return ""
	}
	return *d.Subscription.RecurringFrequency
}

// Campaign is one fundraising campaign (GET /v2/campaigns).
type Campaign struct {
	Object             *string          `json:"object"` // "campaign"
	ID                 string           `json:"id"`     // cmp_…
	Title              *string          `json:"title"`
	Status             *string          `json:"status"` // draft | published | archived
	Type               *string          `json:"type"`   // donation, peer_to_peer, …
	GoalInCents        *int64           `json:"goal_in_cents"`
	TotalRaisedInCents *int64           `json:"total_raised_in_cents"`
	PageTemplate       json.RawMessage  `json:"page_template"`
	CreatedAt          extract.DateTime `json:"created_at"`
	UpdatedAt          extract.DateTime `json:"updated_at"`
}

// Person is one donor or contact (GET /v2/people). The reference shows no person; these are the
// fields a donation's donor is created with (name, email) and the contact details the API
// answers with them. Every field is personal data.
type Person struct {
	Object         *string          `json:"object"` // "person"
	ID             string           `json:"id"`     // per_…
	Email          *string          `json:"email"`
	FirstName      *string          `json:"first_name"`
	LastName       *string          `json:"last_name"`
	PhoneNumber    *string          `json:"phone_number"`
	StreetAddress  *string          `json:"street_address"`
	StreetAddress2 *string          `json:"street_address_2"`
	City           *string          `json:"city"`
	State          *string          `json:"state"`
	ZipCode        *string          `json:"zip_code"`
	Country        *string          `json:"country"`
	CreatedAt      extract.DateTime `json:"created_at"`
	UpdatedAt      extract.DateTime `json:"updated_at"`
}
