package donatelytest

import (
	"encoding/json"
	"time"
)

// timeLayout is how the API writes times: RFC 3339 in UTC, whole seconds ("2026-03-01T14:30:00Z").
const timeLayout = "2006-01-02T15:04:05Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// The JSON shapes, in the key order of the API reference. Version2022 objects carry "object";
// single-object answers add "request_id" (see withRequestID). Version2019 hides what the reference
// says it hides.

type ecardJSON struct {
	Template       string `json:"template"`
	RecipientName  string `json:"recipient_name"`
	RecipientEmail string `json:"recipient_email"`
	Message        string `json:"message"`
}

type subscriptionRef2022 struct {
	ID                 string `json:"id"`
	RecurringStartDay  int    `json:"recurring_start_day"`
	RecurringStopDay   *int   `json:"recurring_stop_day"`
	RecurringFrequency string `json:"recurring_frequency"`
}

type fundraiserRef2022 struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type idRef struct {
	ID string `json:"id"`
}

type formRef struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type donation2022 struct {
	Object              string               `json:"object"`
	ID                  string               `json:"id"`
	AmountInCents       int64                `json:"amount_in_cents"`
	Currency            string               `json:"currency"`
	Status              string               `json:"status"`
	CampaignID          *string              `json:"campaign_id"`
	PersonID            *string              `json:"person_id"`
	Recurring           bool                 `json:"recurring"`
	Anonymous           bool                 `json:"anonymous"`
	Comment             *string              `json:"comment"`
	OnBehalfOf          *string              `json:"on_behalf_of"`
	DonationType        string               `json:"donation_type"`
	Ecard               *ecardJSON           `json:"ecard"`
	Origin              string               `json:"origin"`
	Notes               *string              `json:"notes"`
	PaymentIntentSecret *string              `json:"payment_intent_secret"`
	PaypalOrderID       *string              `json:"paypal_order_id"`
	Subscription        *subscriptionRef2022 `json:"subscription"`
	Fundraiser          *fundraiserRef2022   `json:"fundraiser"`
	Form                *formRef             `json:"form"`
	MetaData            json.RawMessage      `json:"meta_data"`
	CreatedAt           string               `json:"created_at"`
	UpdatedAt           string               `json:"updated_at"`
}

type donation2019 struct {
	ID                  string          `json:"id"`
	AmountInCents       int64           `json:"amount_in_cents"`
	Currency            string          `json:"currency"`
	Status              string          `json:"status"`
	CampaignID          *string         `json:"campaign_id"`
	PersonID            *string         `json:"person_id"`
	Recurring           bool            `json:"recurring"`
	Anonymous           bool            `json:"anonymous"`
	Comment             *string         `json:"comment"`
	OnBehalfOf          *string         `json:"on_behalf_of"`
	DonationType        string          `json:"donation_type"`
	PaymentIntentSecret *string         `json:"payment_intent_secret"`
	PaypalOrderID       *string         `json:"paypal_order_id"`
	Subscription        *idRef          `json:"subscription"`
	Fundraiser          *idRef          `json:"fundraiser"`
	Form                *formRef        `json:"form"`
	MetaData            json.RawMessage `json:"meta_data"`
	CreatedAt           string          `json:"created_at"`
	UpdatedAt           string          `json:"updated_at"`
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// renderDonation is the donation as version answers it at now.
func renderDonation(d *donation, version string, now time.Time) any {
	st := d.stateAt(now)
	var campaignID, personID *string
	if d.campaign != nil {
		campaignID = &d.campaign.id
	}
	if d.person != nil {
		personID = &d.person.id
	}
	var fm *formRef
	if d.form != nil {
		fm = &formRef{ID: d.form.id, Title: d.form.title}
	}
	if version == Version2019 {
		out := donation2019{
			ID: d.id, AmountInCents: d.amount, Currency: d.currency, Status: st.status, CampaignID: campaignID,
			PersonID: personID, Recurring: d.recurring, Anonymous: d.anonymous, Comment: st.comment, OnBehalfOf: d.onBehalfOf,
			DonationType: legacyType(d.donationType), PaymentIntentSecret: nonEmpty(d.secret), PaypalOrderID: nonEmpty(d.paypalOrderID),
			Form: fm, MetaData: d.metaData, CreatedAt: formatTime(d.created), UpdatedAt: formatTime(st.at),
		}
		if d.subscription != nil {
			out.Subscription = &idRef{ID: d.subscription.id}
		}
		if d.fundraiser != nil {
			out.Fundraiser = &idRef{ID: d.fundraiser.id}
		}
		return out
	}
	out := donation2022{
		Object: "donation", ID: d.id, AmountInCents: d.amount, Currency: d.currency, Status: st.status, CampaignID: campaignID,
		PersonID: personID, Recurring: d.recurring, Anonymous: d.anonymous, Comment: st.comment, OnBehalfOf: d.onBehalfOf,
		DonationType: d.donationType, Origin: d.origin, Notes: d.notes, PaymentIntentSecret: nonEmpty(d.secret),
		PaypalOrderID: nonEmpty(d.paypalOrderID), Form: fm, MetaData: d.metaData, CreatedAt: formatTime(d.created),
		UpdatedAt: formatTime(st.at),
	}
	if e := d.ecard; e != nil {
		out.Ecard = &ecardJSON{Template: e.template, RecipientName: e.recipientName, RecipientEmail: e.recipientEmail, Message: e.message}
	}
	if s := d.subscription; s != nil {
		out.Subscription = &subscriptionRef2022{ID: s.id, RecurringStartDay: s.startDay, RecurringStopDay: s.stopDay, RecurringFrequency: s.frequency}
	}
	if f := d.fundraiser; f != nil {
		out.Fundraiser = &fundraiserRef2022{ID: f.id, Type: f.kind}
	}
	return out
}

type pageTemplateJSON struct {
	Theme       string `json:"theme"`
	HeaderImage string `json:"header_image"`
}

type campaign2022 struct {
	Object             string           `json:"object"`
	ID                 string           `json:"id"`
	Title              string           `json:"title"`
	Status             string           `json:"status"`
	Type               string           `json:"type"`
	GoalInCents        int64            `json:"goal_in_cents"`
	TotalRaisedInCents int64            `json:"total_raised_in_cents"`
	PageTemplate       pageTemplateJSON `json:"page_template"`
	CreatedAt          string           `json:"created_at"`
	UpdatedAt          string           `json:"updated_at"`
}

type campaign2019 struct {
	ID                 string `json:"id"`
	Title              string `json:"title"`
	Status             string `json:"status"`
	Type               string `json:"type"`
	GoalInCents        int64  `json:"goal_in_cents"`
	TotalRaisedInCents int64  `json:"total_raised_in_cents"`
	CreatedAt          string `json:"created_at"`
	UpdatedAt          string `json:"updated_at"`
}

// renderCampaign is the campaign as version answers it at now; raised is its
// total_raised_in_cents.
func renderCampaign(c *campaign, version string, now time.Time, raised int64) any {
	if version == Version2019 {
		return campaign2019{ID: c.id, Title: c.title, Status: c.status, Type: c.kind, GoalInCents: c.goal,
			TotalRaisedInCents: raised, CreatedAt: formatTime(c.created), UpdatedAt: formatTime(c.updatedAt(now))}
	}
	return campaign2022{Object: "campaign", ID: c.id, Title: c.title, Status: c.status, Type: c.kind, GoalInCents: c.goal,
		TotalRaisedInCents: raised, PageTemplate: pageTemplateJSON{Theme: c.theme, HeaderImage: "https://cdn.example.org/" + c.id + ".jpg"},
		CreatedAt: formatTime(c.created), UpdatedAt: formatTime(c.updatedAt(now))}
}

// raisedAt is total_raised_in_cents of every campaign at now: the sum of its completed donations
// in its own currency.
func (ds *dataset) raisedAt(now time.Time) map[*campaign]int64 {
	out := make(map[*campaign]int64, len(ds.campaigns))
	for _, d := range ds.donations {
		if d.campaign != nil && d.currency == d.campaign.currency && d.existsAt(now) && d.stateAt(now).status == StatusCompleted {
			out[d.campaign] += d.amount
		}
	}
	return out
}

type person2022 struct {
	Object         string  `json:"object"`
	ID             string  `json:"id"`
	Email          string  `json:"email"`
	FirstName      string  `json:"first_name"`
	LastName       string  `json:"last_name"`
	PhoneNumber    *string `json:"phone_number"`
	StreetAddress  *string `json:"street_address"`
	StreetAddress2 *string `json:"street_address_2"`
	City           *string `json:"city"`
	State          *string `json:"state"`
	ZipCode        *string `json:"zip_code"`
	Country        *string `json:"country"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
}

type person2019 struct {
	ID             string  `json:"id"`
	Email          string  `json:"email"`
	FirstName      string  `json:"first_name"`
	LastName       string  `json:"last_name"`
	PhoneNumber    *string `json:"phone_number"`
	StreetAddress  *string `json:"street_address"`
	StreetAddress2 *string `json:"street_address_2"`
	City           *string `json:"city"`
	State          *string `json:"state"`
	ZipCode        *string `json:"zip_code"`
	Country        *string `json:"country"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
}

func renderPerson(p *person, version string, now time.Time) any {
	out := person2019{ID: p.id, Email: p.email, FirstName: p.first, LastName: p.last, PhoneNumber: p.phone,
		StreetAddress: p.street, StreetAddress2: p.street2, City: p.city, State: p.region, ZipCode: p.zip, Country: p.country,
		CreatedAt: formatTime(p.created), UpdatedAt: formatTime(p.updatedAt(now))}
	if version == Version2019 {
		return out
	}
	return person2022{Object: "person", ID: out.ID, Email: out.Email, FirstName: out.FirstName, LastName: out.LastName,
		PhoneNumber: out.PhoneNumber, StreetAddress: out.StreetAddress, StreetAddress2: out.StreetAddress2, City: out.City,
		State: out.State, ZipCode: out.ZipCode, Country: out.Country, CreatedAt: out.CreatedAt, UpdatedAt: out.UpdatedAt}
}

type integrationJSON struct {
	Type    string `json:"type"`
	Enabled bool   `json:"enabled"`
}

type billing2022 struct {
	Plan                      string `json:"plan"`
	SubscriptionStripeID      string `json:"subscription_stripe_id"`
	SubscriptionPrepaidMaxUSD int64  `json:"subscription_prepaid_max_usd"`
	SubscriptionStatus        string `json:"subscription_status"`
}

type account2022 struct {
	Object              string            `json:"object"`
	ID                  string            `json:"id"`
	Title               string            `json:"title"`
	Currency            string            `json:"currency"`
	IntegrationAccounts []integrationJSON `json:"integration_accounts"`
	PartnerType         string            `json:"partner_type"`
	PageTemplate        pageTemplateJSON  `json:"page_template"`
	Billing             billing2022       `json:"billing"`
	CreatedAt           string            `json:"created_at"`
	UpdatedAt           string            `json:"updated_at"`
}

type billing2019 struct {
	Plan string `json:"plan"`
}

type account2019 struct {
	ID                string      `json:"id"`
	Title             string      `json:"title"`
	Currency          string      `json:"currency"`
	Billing           billing2019 `json:"billing"`
	GoogleAnalyticsID string      `json:"google_analytics_id"`
	CreatedAt         string      `json:"created_at"`
	UpdatedAt         string      `json:"updated_at"`
}

func renderAccount(a *account, version string) any {
	if version == Version2019 {
		return account2019{ID: a.id, Title: a.title, Currency: "usd", Billing: billing2019{Plan: "grow"},
			GoogleAnalyticsID: a.analyticsID, CreatedAt: formatTime(a.created), UpdatedAt: formatTime(a.edit)}
	}
	return account2022{Object: "account", ID: a.id, Title: a.title, Currency: "usd",
		IntegrationAccounts: []integrationJSON{{Type: "salesforce", Enabled: false}, {Type: "mailchimp", Enabled: true}},
		PartnerType:         "standard", PageTemplate: pageTemplateJSON{Theme: "classic", HeaderImage: "https://cdn.example.org/" + a.id + ".jpg"},
		Billing:   billing2022{Plan: "grow", SubscriptionStripeID: a.stripeSubID, SubscriptionPrepaidMaxUSD: 50000, SubscriptionStatus: "active"},
		CreatedAt: formatTime(a.created), UpdatedAt: formatTime(a.edit)}
}

// withRequestID is a Version2022 single-object answer: the object's members, then request_id.
func withRequestID(obj any, requestID string) ([]byte, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	rid, err := json.Marshal(requestID)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b)+len(rid)+16)
	out = append(out, b[:len(b)-1]...) // every object rendered here has members: drop its '}'
	out = append(out, `,"request_id":`...)
	out = append(out, rid...)
	return append(out, '}'), nil
}
