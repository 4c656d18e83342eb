package crowdtilt

// The typed models of the records the client reads: every member of the seed's Resource
// Definitions and examples for users, campaigns and payments, but the card data the client
// removes (see scrub.go). A record embedded in another (a payment's campaign and user, a
// campaign's admin) is a Ref in the embedding model: it is versioned on its own. A member the
// models do not know stays in Record.Raw.
//
// Conventions, those of package extract: optional scalars are pointers, so that null and zero stay
// distinct; money is integer cents (int64) exactly as sent, in USD (the seed names no currency);
// flags are the API's integers 0 and 1; timestamps are extract.DateTime, which reads both of the
// seed's layouts ("2011-07-02T14:20:48Z" and "2013-03-19T03:29:34.605286000Z") into UTC and
// keeps the microseconds; metadata, whose shape is the API user's, is kept as its JSON.

import (
	"encoding/json"

	"github.com/ccsync/ccsync/extract"
)

// User is one user (GET /v1/users/:id; embedded in campaigns and payments). Every field but the
// id, the flags and the dates is personal data.
type User struct {
	ID               string           `json:"id"` // USR…
	Email            *string          `json:"email"`
	Firstname        *string          `json:"firstname"`
	Lastname         *string          `json:"lastname"`
	IsVerified       *int64           `json:"is_verified"` // 1: verified to receive money
	CreationDate     extract.DateTime `json:"creation_date"`
	ModificationDate extract.DateTime `json:"modification_date"`
	URI              *string          `json:"uri"`
	CardsURI         *string          `json:"cards_uri"`
	BanksURI         *string          `json:"banks_uri"`
	CampaignsURI     *string          `json:"campaigns_uri"`
	PaymentsURI      *string          `json:"payments_uri"`
	PaidCampaignsURI *string          `json:"paid_campaigns_uri"` // in the seed's later examples
	Metadata         json.RawMessage  `json:"metadata"`
}

// Ref names a record that another one embeds (a payment's campaign and user, a campaign's admin):
// the embedded record is versioned on its own (the campaigns list, EmbeddedUsers), so the
// embedding record's model keeps its id only. Record.Raw keeps the whole object.
type Ref struct {
	ID string `json:"id"`
}

// RefID is the id of r, "" when r is nil (absent or null).
func RefID(r *Ref) string {
	if r == nil {
		return ""
	}
	return r.ID
}

// CampaignStats are a campaign's statistics, computed by the API from its payments (they change
// without the campaign's modification_date moving).
type CampaignStats struct {
	TiltPercent           *int64 `json:"tilt_percent"`
	RaisedAmount          *int64 `json:"raised_amount"` // cents
	UniqueContributors    *int64 `json:"unique_contributors"`
	NumberOfContributions *int64 `json:"number_of_contributions"`
}

// Campaign is one campaign (GET /v1/campaigns; embedded in payments).
type Campaign struct {
	ID                 string           `json:"id"` // CMP…
	Title              *string          `json:"title"`
	TiltAmount         *int64           `json:"tilt_amount"`          // cents
	MinPaymentAmount   *int64           `json:"min_payment_amount"`   // cents
	FixedPaymentAmount *int64           `json:"fixed_payment_amount"` // cents
	ExpirationDate     extract.DateTime `json:"expiration_date"`
	IsTilted           *int64           `json:"is_tilted"`
	IsPaid             *int64           `json:"is_paid"`
	IsExpired          *int64           `json:"is_expired"`
	NeedsBank          *int64           `json:"needs_bank"`
	URI                *string          `json:"uri"`
	PaymentsURI        *string          `json:"payments_uri"`
	SettlementsURI     *string          `json:"settlements_uri"`
	Admin              *Ref             `json:"admin"`
	FirstContributor   *Ref             `json:"first_contributor"` // null until a first payment
	Tilter             *Ref             `json:"tilter"`            // null until the campaign tilts
	Stats              *CampaignStats   `json:"stats"`
	CreationDate       extract.DateTime `json:"creation_date"`
	ModificationDate   extract.DateTime `json:"modification_date"`
	Metadata           json.RawMessage  `json:"metadata"`
}

// Card is the card a payment was made with, less its token (id), uri, number and security code,
// which the client removes.
type Card struct {
	LastFour         *string          `json:"last_four"`
	ExpirationYear   *int64           `json:"expiration_year"`
	ExpirationMonth  *string          `json:"expiration_month"` // two digits, "01"
	CardType         *string          `json:"card_type"`        // "VISA card", …
	User             *Ref             `json:"user"`
	CreationDate     extract.DateTime `json:"creation_date"`
	ModificationDate extract.DateTime `json:"modification_date"`
	Metadata         json.RawMessage  `json:"metadata"`
}

// Payment is one payment (GET /v1/campaigns/:id/payments). Amount goes to the campaign; the payer
// is charged Amount + UserFeeAmount; the admin receives Amount − AdminFeeAmount.
type Payment struct {
	ID             string           `json:"id"`     // CON…
	Status         *string          `json:"status"` // authorized | charged | refunded | rejected
	Amount         *int64           `json:"amount"` // cents
	UserFeeAmount  *int64           `json:"user_fee_amount"`
	AdminFeeAmount *int64           `json:"admin_fee_amount"`
	URI            *string          `json:"uri"`
	Campaign       *Ref             `json:"campaign"`
	Card           *Card            `json:"card"`
	User           *Ref             `json:"user"` // the payer
	CreationDate   extract.DateTime `json:"creation_date"`
	// ModificationDate moves with the status (the processor's answer, a refund), not always with
	// the metadata.
	ModificationDate extract.DateTime `json:"modification_date"`
	Metadata         json.RawMessage  `json:"metadata"`
}

// CampaignID is the id of the payment's embedded campaign, "" when absent (Record.CampaignID is
// the campaign the payment was listed under).
func (p *Payment) CampaignID() string { return RefID(p.Campaign) }

// UserID is the id of the payment's user (the payer), "" when absent.
func (p *Payment) UserID() string { return RefID(p.User) }

// The statuses of a payment, as the API spells them.
const (
	StatusAuthorized = "authorized"
	StatusCharged    = "charged"
	StatusRefunded   = "refunded"
	StatusRejected   = "rejected"
)
