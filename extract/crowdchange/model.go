package crowdchange

// The typed model of one transaction of GET /v2/private/transactions. It covers every field of the
// API's example response (../shared/fixtures/transactions_page_example.json); a field it does not
// know is kept in the raw JSON (Transaction.Raw) and never fails a run.
//
// Conventions: optional objects are pointers (JSON null ⇄ nil); optional scalars are pointers too,
// so that null and zero stay distinct; money is Money, the exact JSON literal; timestamps are
// DateTime and calendar dates Date, both UTC. Struct field order follows the API's key order, so
// that the sandbox marshals transactions in the same shape as the real API.

import (
	"encoding/json"

	"github.com/ccsync/ccsync/extract"
)

// Page is one answer of GET /v2/private/transactions.
type Page struct {
	DTStart string            `json:"dt_start"`
	DTEnd   string            `json:"dt_end"`
	Count   int64             `json:"count"`
	Data    []json.RawMessage `json:"data"`
}

// Transaction is one CrowdChange transaction (a charge or a refund).
type Transaction struct {
	ID                       int64                       `json:"id"`
	Type                     *string                     `json:"type"`   // charge | refund
	Status                   *string                     `json:"status"` // completed | refunded | pending
	RefundChildrenIDs        []int64                     `json:"refund_children_ids"`
	ParentID                 *int64                      `json:"parent_id"`
	PartnerID                *int64                      `json:"partner_id"`
	PromoCode                *string                     `json:"promo_code"`
	Amount                   *Amount                     `json:"amount"`
	Billing                  *Billing                    `json:"billing"`
	DonatedBy                *DonatedBy                  `json:"donated_by"`
	MailingAddress           *Billing                    `json:"mailing_address"`
	CardType                 *string                     `json:"card_type"`
	PaymentProcessor         *string                     `json:"payment_processor"`
	ProcessorTransactionID   *string                     `json:"processor_transaction_id"`
	CustomData               []CustomData                `json:"custom_data"`
	Date                     extract.DateTime            `json:"date"`
	DonationComment          *string                     `json:"donation_comment"`
	Fundraiser               *Fundraiser                 `json:"fundraiser"`
	FundraiserTeam           *Team                       `json:"fundraiser_team"`
	FundraiserUserPage       *UserPage                   `json:"fundraiser_user_page"`
	IsDisputed               *bool                       `json:"is_disputed"`
	IsRefunded               *bool                       `json:"is_refunded"`
	IsPending                *bool                       `json:"is_pending"`
	IsTaxReceiptIssued       *bool                       `json:"is_tax_receipt_issued"`
	TaxReceipt               *TaxReceipt                 `json:"tax_receipt"`
	Recurring                *Recurring                  `json:"recurring"`
	Payout                   *Payout                     `json:"payout"`
	PurchasedItems           *PurchasedItems             `json:"purchased_items"`
	RefundedItems            *RefundedItems              `json:"refunded_items"`
	Sponsorship              *ItemGroup[SponsorshipItem] `json:"sponsorship"`
	FulfillmentTransactionID *int64                      `json:"fulfillment_transaction_id"`
	IsPledgeTransaction      *bool                       `json:"is_pledge_transaction"`
	PledgeTransactionID      *int64                      `json:"pledge_transaction_id"`
	IsFulfillmentTransaction *bool                       `json:"is_fulfillment_transaction"`
	Payee                    *Payee                      `json:"payee"`
}

// Amount is the money breakdown of a transaction.
type Amount struct {
	Apparel         extract.Money `json:"apparel"`
	CoveredFees     extract.Money `json:"covered_fees"`
	Currency        *string       `json:"currency"` // CAD | USD | AUD | EUR
	Donation        extract.Money `json:"donation"`
	DonationToPages extract.Money `json:"donation_to_pages"`
	Ecards          extract.Money `json:"ecards"`
	IsRecurring     *bool         `json:"is_recurring"`
	Registration    extract.Money `json:"registration"`
	Sponsorship     extract.Money `json:"sponsorship"`
	Tickets         extract.Money `json:"tickets"`
	TotalNet        extract.Money `json:"total_net"`
	TotalPaid       extract.Money `json:"total_paid"`
	CustomFees      extract.Money `json:"custom_fees"`
}

// Billing is a person's or business's address block; used for billing, mailing_address and
// payee.billing (mailing_address has no email).
type Billing struct {
	BusinessName  *string `json:"business_name"`
	IsFoundation  *bool   `json:"is_foundation"`
	Title         *string `json:"title"`
	Name          *string `json:"name"`
	FirstName     *string `json:"first_name"`
	LastName      *string `json:"last_name"`
	StreetAddress *string `json:"street_address"`
	City          *string `json:"city"`
	Country       *string `json:"country"`
	State         *string `json:"state"`
	Postal        *string `json:"postal"`
	Email         *string `json:"email,omitempty"`
	Phone         *string `json:"phone"`
}

// DonatedBy is the donor as credited on the transaction.
type DonatedBy struct {
	BusinessName  *string `json:"business_name"`
	Title         *string `json:"title"`
	Name          *string `json:"name"`
	FirstName     *string `json:"first_name"`
	LastName      *string `json:"last_name"`
	StreetAddress *string `json:"street_address"`
	City          *string `json:"city"`
	Country       *string `json:"country"`
	State         *string `json:"state"`
	Postal        *string `json:"postal"`
	Email         *string `json:"email"`
	IsFoundation  *bool   `json:"is_foundation"`
	UserID        *int64  `json:"user_id"`
	Phone         *string `json:"phone"`
}

// CustomData is one answer to a custom question, at any level.
type CustomData struct {
	FieldID          *int64           `json:"field_id"`
	SourceID         *int64           `json:"source_id"`
	Name             *string          `json:"name"`
	Content          extract.JSONText `json:"content"`
	FieldCustomID    *string          `json:"field_custom_id"`
	ResponseCustomID *string          `json:"response_custom_id"`
}

// Fundraiser is the campaign.
type Fundraiser struct {
	ID                   *int64           `json:"id"`
	PartnerID            *int64           `json:"partner_id"`
	FundraiserTemplateID *int64           `json:"fundraiser_template_id"`
	FundraiserTemplate   *Template        `json:"fundraiser_template"`
	Name                 *string          `json:"name"`
	DTStart              extract.DateTime `json:"dt_start"`
	DTEnd                extract.DateTime `json:"dt_end"`
	Location             *string          `json:"location"`
	Goal                 extract.Money    `json:"goal"`
	Campus               *string          `json:"campus"`
	NationalOffice       *string          `json:"national_office"`
	Chapter              *string          `json:"chapter"`
	ChapterCustomID      *string          `json:"chapter_custom_id"`
	Organization         *string          `json:"organization"`
	InSupportName        *string          `json:"in_support_name"`
	InSupportCode        *string          `json:"in_support_code"`
	AppealCode           *string          `json:"appeal_code"`
	Language             *string          `json:"language"` // en | fr
	CustomData           []CustomData     `json:"custom_data"`
	User                 *User            `json:"user"`
	TagsList             []string         `json:"tags_list"`
}

// Template is a campaign template.
type Template struct {
	ID   *int64  `json:"id"`
	Name *string `json:"name"`
}

// User is a CrowdChange user (campaign owner, team captain, page owner, payee).
type User struct {
	ID        *int64  `json:"id"`
	Email     *string `json:"email"`
	FirstName *string `json:"first_name"`
	LastName  *string `json:"last_name"`
	Language  *string `json:"language,omitempty"`
	Title     *string `json:"title"`
	Name      *string `json:"name"`
}

// Team is a fundraising team.
type Team struct {
	ID           *int64        `json:"id"`
	PartnerID    *int64        `json:"partner_id"`
	FundraiserID *int64        `json:"fundraiser_id"`
	Name         *string       `json:"name"`
	Goal         extract.Money `json:"goal"`
	URL          *string       `json:"url"`
	User         *User         `json:"user"`
	CustomData   []CustomData  `json:"custom_data"`
}

// UserPage is a personal fundraising page.
type UserPage struct {
	ID         *int64        `json:"id"`
	PartnerID  *int64        `json:"partner_id"`
	Name       *string       `json:"name"`
	FirstName  *string       `json:"first_name"`
	LastName   *string       `json:"last_name"`
	UserName   *string       `json:"user_name"`
	Title      *string       `json:"title"`
	Goal       extract.Money `json:"goal"`
	URL        *string       `json:"url"`
	Language   *string       `json:"language"`
	CustomData []CustomData  `json:"custom_data"`
}

// TaxReceipt is the tax receipt issued for a transaction.
type TaxReceipt struct {
	ID             *int64           `json:"id"`
	AmountDonation extract.Money    `json:"amount_donation"`
	AmountBenefit  extract.Money    `json:"amount_benefit"`
	AmountEligible extract.Money    `json:"amount_eligible"`
	BusinessName   *string          `json:"business_name"`
	NameOnReceipt  *string          `json:"name_on_receipt"`
	IssuedOn       extract.DateTime `json:"issued_on"`
	ReceiptNumber  *string          `json:"receipt_number"`
	Status         *string          `json:"status"` // valid | cancelled
	Title          *string          `json:"title"`
	FirstName      *string          `json:"first_name"`
	LastName       *string          `json:"last_name"`
	StreetAddress  *string          `json:"street_address"`
	City           *string          `json:"city"`
	Country        *string          `json:"country"`
	State          *string          `json:"state"`
	Postal         *string          `json:"postal"`
	Email          *string          `json:"email"`
	UserID         *int64           `json:"user_id"`
	TransactionID  *int64           `json:"transaction_id"`
}

// Recurring is the recurring plan a transaction belongs to.
type Recurring struct {
	ID        *int64        `json:"id"`
	Amount    extract.Money `json:"amount"`
	AmountNet extract.Money `json:"amount_net"`
	Interval  *string       `json:"interval"` // month | year
	Day       *int64        `json:"day"`
	Month     *int64        `json:"month"`
	Status    *string       `json:"status"` // active | cancelled | paused
}

// Payout says when and to which account the transaction was paid out.
type Payout struct {
	Account *string      `json:"account"` // global | user
	Date    extract.Date `json:"date"`
}

// ItemGroup is one category of line items. Count is what the API reports; it is kept as is and
// never trusted for the number of items.
type ItemGroup[T any] struct {
	Count *int64 `json:"count,omitempty"`
	Items []T    `json:"items"`
}

// PurchasedItems are the line items bought in a transaction, by category.
type PurchasedItems struct {
	Apparel      *ItemGroup[ProductItem]      `json:"apparel"`
	Registration *ItemGroup[RegistrationItem] `json:"registration"`
	Tickets      *ItemGroup[ProductItem]      `json:"tickets"`
	Ecards       *ItemGroup[EcardItem]        `json:"ecards"`
	TributeCards *ItemGroup[TributeCardItem]  `json:"tribute_cards"`
	CustomFees   *ItemGroup[AmountItem]       `json:"custom_fees"`
}

// RefundedItems are the line items a refund gives back, by category.
type RefundedItems struct {
	Donations     *ItemGroup[AmountItem]       `json:"donations"`
	CoveredFees   *ItemGroup[AmountItem]       `json:"covered_fees"`
	Apparel       *ItemGroup[ProductItem]      `json:"apparel"`
	Registration  *ItemGroup[RegistrationItem] `json:"registration"`
	Tickets       *ItemGroup[ProductItem]      `json:"tickets"`
	Ecards        *ItemGroup[EcardItem]        `json:"ecards"`
	Sponsorship   *ItemGroup[SponsorshipItem]  `json:"sponsorship"`
	CustomFees    *ItemGroup[AmountItem]       `json:"custom_fees"`
	SelfDonations *ItemGroup[SelfDonationItem] `json:"self_donations"`
}

// ProductItem is an apparel or ticket line.
type ProductItem struct {
	ID     *int64        `json:"id"`
	Name   *string       `json:"name"`
	Option *string       `json:"option"`
	Price  extract.Money `json:"price"`
}

// AmountItem is a line that is only an amount: custom fees (with a name), refunded donations and
// refunded covered fees (without).
type AmountItem struct {
	ID     *int64        `json:"id"`
	Name   *string       `json:"name,omitempty"`
	Amount extract.Money `json:"amount"`
}

// SponsorshipItem is a sponsorship package.
type SponsorshipItem struct {
	ID       *int64        `json:"id"`
	OptionID *int64        `json:"option_id"`
	SourceID *int64        `json:"source_id"`
	Name     *string       `json:"name"`
	Price    extract.Money `json:"price"`
}

// RegistrationItem is an event registration, with the registrant's page and team.
type RegistrationItem struct {
	ID             *int64            `json:"id"`
	Name           *string           `json:"name"`
	Option         *string           `json:"option"`
	Price          extract.Money     `json:"price"`
	FirstName      *string           `json:"first_name"`
	LastName       *string           `json:"last_name"`
	AliasName      *string           `json:"alias_name"`
	Comment        *string           `json:"comment"`
	IsAmountHidden *bool             `json:"is_amount_hidden"`
	FundraiserPage *RegistrationPage `json:"fundraiser_page"`
	MailingAddress *Address          `json:"mailing_address"`
	CustomData     []CustomData      `json:"custom_data"`
	RegistrantID   *int64            `json:"registrant_id,omitempty"`
}

// RegistrationPage is the personal page created for a registrant.
type RegistrationPage struct {
	ID           *int64        `json:"id"`
	Name         *string       `json:"name"`
	Goal         extract.Money `json:"goal"`
	SelfDonation *SelfDonation `json:"self_donation"`
	URL          *string       `json:"url"`
	Team         *PageTeam     `json:"team"`
	User         *User         `json:"user"`
}

// SelfDonation is the registrant's donation to their own page.
type SelfDonation struct {
	ID     *int64        `json:"id"`
	Name   *string       `json:"name"`
	Amount extract.Money `json:"amount"`
}

// PageTeam is the team a registrant's page belongs to.
type PageTeam struct {
	ID       *int64        `json:"id"`
	Name     *string       `json:"name"`
	Goal     extract.Money `json:"goal"`
	URL      *string       `json:"url"`
	Language *string       `json:"language"`
}

// Address is a short postal address.
type Address struct {
	StreetAddress *string `json:"street_address"`
	City          *string `json:"city"`
	Country       *string `json:"country"`
	State         *string `json:"state"`
	Postal        *string `json:"postal"`
}

// EcardItem is an e-card sent with the transaction.
type EcardItem struct {
	ID             *int64       `json:"id"`
	Method         *string      `json:"method"` // email | sms | mail
	SendOn         extract.Date `json:"send_on"`
	Message        *string      `json:"message"`
	IsAnonymous    *bool        `json:"is_anonymous"`
	DeliveryStatus *string      `json:"delivery_status"` // na | pending | sent | delivered | opened | error
	Card           *Card        `json:"card"`
	Recipient      *Recipient   `json:"recipient"`
}

// Card is the e-card design.
type Card struct {
	ID    *int64        `json:"id"`
	Name  *string       `json:"name"`
	Price extract.Money `json:"price"`
}

// Recipient is who receives an e-card or tribute card.
type Recipient struct {
	Name    *string `json:"name"`
	Email   *string `json:"email"`
	Phone   *string `json:"phone"`
	Address *string `json:"address"`
}

// TributeCardItem is a tribute card ("In honor of", "In memory of").
type TributeCardItem struct {
	ID             *int64     `json:"id"`
	Method         *string    `json:"method"`
	Type           *string    `json:"type"`
	Honoree        *string    `json:"honoree"`
	Message        *string    `json:"message"`
	DeliveryStatus *string    `json:"delivery_status"`
	Recipient      *Recipient `json:"recipient"`
}

// SelfDonationItem is a refunded self-donation, with the page it was made to.
type SelfDonationItem struct {
	ID             *int64            `json:"id"`
	Amount         extract.Money     `json:"amount"`
	Name           *string           `json:"name"`
	FundraiserPage *SelfDonationPage `json:"fundraiser_page"`
}

// SelfDonationPage is the personal page of a self-donation.
type SelfDonationPage struct {
	ID         *int64        `json:"id"`
	PartnerID  *int64        `json:"partner_id"`
	Name       *string       `json:"name"`
	FirstName  *string       `json:"first_name"`
	LastName   *string       `json:"last_name"`
	Goal       extract.Money `json:"goal"`
	Language   *string       `json:"language"`
	CustomData []CustomData  `json:"custom_data"`
}

// Payee is who the transaction is paid out to.
type Payee struct {
	Billing *Billing `json:"billing"`
	User    *User    `json:"user"`
}
