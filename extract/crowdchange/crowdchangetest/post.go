package crowdchangetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
)

// maxBody bounds a POST body.
const maxBody = 1 << 20

// The body of POST /v2/client/transactions (the parts the sandbox maps into the transaction).
type (
	cardIn struct {
		Type  *string `json:"type"`
		Token *string `json:"token"`
	}
	billingIn struct {
		IsFoundation *bool   `json:"is_foundation"`
		Title        *string `json:"title"`
		BusinessName *string `json:"business_name"`
		FirstName    *string `json:"first_name"`
		LastName     *string `json:"last_name"`
		Address      *string `json:"address"`
		City         *string `json:"city"`
		State        *string `json:"state"`
		Zip          *string `json:"zip"`
		Country      *string `json:"country"`
	}
	mailIn struct {
		SameAsBilling *bool   `json:"same_as_billing"`
		Address       *string `json:"address"`
		City          *string `json:"city"`
		State         *string `json:"state"`
		Zip           *string `json:"zip"`
		Country       *string `json:"country"`
	}
	tributeIn struct {
		Type    *string `json:"type"`
		Honoree *string `json:"honoree"`
		Message *string `json:"message"`
		Method  *string `json:"method"`
		Address *mailIn `json:"address"`
		Email   *string `json:"email"`
		Phone   *string `json:"phone"`
		Name    *string `json:"name"`
	}
	extraIn struct {
		MailReceipt *bool `json:"mail_receipt"`
	}
)

// createResponse is the answer of POST /v2/client/transactions, in the documented key order.
type createResponse struct {
	ID                  int64         `json:"id"`
	RefID               string        `json:"ref_id"`
	Amount              extract.Money `json:"amount"`
	Currency            string        `json:"currency"`
	CurrencySymbol      string        `json:"currency_symbol"`
	Frequency           string        `json:"frequency"`
	FundraiserID        int64         `json:"fundraiser_id"`
	ParentID            *int64        `json:"parent_id"`
	FundraiserPageID    *int64        `json:"fundraiser_page_id"`
	FundraiserTeamID    *int64        `json:"fundraiser_team_id"`
	OrganizationID      int64         `json:"organization_id"`
	FundraiserName      *string       `json:"fundraiser_name"`
	OrganizationName    string        `json:"organization_name"`
	OrganizationCode    string        `json:"organization_code"`
	UserID              *int64        `json:"user_id"`
	Email               *string       `json:"email"`
	Mail                *mailOut      `json:"mail"`
	StatementDescriptor string        `json:"statement_descriptor"`
	Summary             summaryOut    `json:"summary"`
	Upsell              *struct{}     `json:"upsell"`
	PromoCode           *string       `json:"promo_code"`
	BillingAddress      billingOut    `json:"billing_address"`
	DTD                 *struct{}     `json:"dtd"`
	CreatedAt           string        `json:"created_at"`
	Status              string        `json:"status"`
}

type mailOut struct {
	Address *string `json:"address"`
	City    *string `json:"city"`
	State   *string `json:"state"`
	Zip     *string `json:"zip"`
	Country *string `json:"country"`
}

type summaryOut struct {
	AmountCoveredFee   extract.Money `json:"amount_covered_fee"`
	AmountCustomFee    extract.Money `json:"amount_custom_fee"`
	AmountDonation     extract.Money `json:"amount_donation"`
	AmountApparel      extract.Money `json:"amount_apparel"`
	AmountTicket       extract.Money `json:"amount_ticket"`
	AmountRegistration extract.Money `json:"amount_registration"`
	AmountSponsor      extract.Money `json:"amount_sponsor"`
	AmountCards        extract.Money `json:"amount_cards"`
	Frequency          string        `json:"frequency"`
}

type billingOut struct {
	Name         *string `json:"name"`
	Email        *string `json:"email"`
	BusinessName *string `json:"business_name"`
	Title        *string `json:"title"`
	FirstName    *string `json:"first_name"`
	LastName     *string `json:"last_name"`
	Address      *string `json:"address"`
	City         *string `json:"city"`
	State        *string `json:"state"`
	Zip          *string `json:"zip"`
	Country      *string `json:"country"`
	Phone        *string `json:"phone"`
}

// createRequest is a validated body.
type createRequest struct {
	cents        int64
	frequency    string
	email        *string
	fundraiserID int64
	card         cardIn
	billing      billingIn
	customData   map[string]json.RawMessage
	mail         *mailIn
	tribute      *tributeIn
	extra        extraIn
}

func required(errs map[string][]string, field string) {
	errs[field] = append(errs[field], "The "+strings.ReplaceAll(field, "_", " ")+" field is required.")
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || bytes.Equal(raw, []byte("null")) }

// object decodes an optional JSON object field into dst, recording a validation error.
func object(errs map[string][]string, body map[string]json.RawMessage, field string, dst any, req bool) bool {
	raw := body[field]
	if isNull(raw) {
		if req {
			required(errs, field)
		}
		return false
	}
	if raw[0] != '{' || json.Unmarshal(raw, dst) != nil {
		errs[field] = append(errs[field], "The "+strings.ReplaceAll(field, "_", " ")+" must be a valid object.")
		return false
	}
	return true
}

// parseCreate validates the body the way the API does, naming each invalid field.
func parseCreate(b []byte) (createRequest, map[string][]string, error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(b, &body); err != nil || body == nil {
		return createRequest{}, nil, errors.New("the request body must be a JSON object")
	}
	var req createRequest
	errs := map[string][]string{}

	switch raw := body["amount"]; {
	case isNull(raw):
		required(errs, "amount")
	default:
		lit := string(raw)
		var str string
		if json.Unmarshal(raw, &str) == nil {
			lit = strings.TrimSpace(str)
		}
		c, err := parseCents(lit)
		switch {
		case err != nil && strings.Count(lit, ".") == 1 && allDigits(strings.Replace(strings.TrimPrefix(lit, "-"), ".", "", 1)):
			errs["amount"] = []string{"The amount must have 0-2 decimal places."}
		case err != nil:
			errs["amount"] = []string{"The amount must be a number."}
		case c <= 0:
			errs["amount"] = []string{"The amount must be greater than 0."}
		default:
			req.cents = c
		}
	}
	switch raw := body["frequency"]; {
	case isNull(raw):
		required(errs, "frequency")
	default:
		if json.Unmarshal(raw, &req.frequency) != nil || !slices.Contains([]string{"once", "month", "year"}, req.frequency) {
			errs["frequency"] = []string{"The selected frequency is invalid."}
		}
	}
	if raw := body["email"]; !isNull(raw) {
		var e string
		if json.Unmarshal(raw, &e) != nil || !strings.Contains(e, "@") {
			errs["email"] = []string{"The email must be a valid email address."}
		} else {
			req.email = &e
		}
	}
	switch raw := body["fundraiser_id"]; {
	case isNull(raw):
		required(errs, "fundraiser_id")
	default:
		if json.Unmarshal(raw, &req.fundraiserID) != nil {
			errs["fundraiser_id"] = []string{"The fundraiser id must be an integer."}
		}
	}
	if object(errs, body, "card", &req.card, true) && (req.card.Token == nil || *req.card.Token == "") {
		required(errs, "card.token")
	}
	if object(errs, body, "billing", &req.billing, true) {
		if req.billing.FirstName == nil || *req.billing.FirstName == "" {
			required(errs, "billing.first_name")
		}
		if req.billing.LastName == nil || *req.billing.LastName == "" {
			required(errs, "billing.last_name")
		}
	}
	object(errs, body, "custom_data", &req.customData, false)
	var mail mailIn
	if object(errs, body, "mail", &mail, false) {
		req.mail = &mail
	}
	var tribute tributeIn
	if object(errs, body, "tribute", &tribute, false) {
		req.tribute = &tribute
	}
	object(errs, body, "extra", &req.extra, false)
	var ignored map[string]json.RawMessage
	object(errs, body, "tax_receipt", &ignored, false)
	return req, errs, nil
}

func joinAddress(parts ...*string) *string {
	var out []string
	for _, p := range parts {
		if p != nil && *p != "" {
			out = append(out, *p)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return extract.String(strings.Join(out, ", "))
}

// create answers POST /v2/client/transactions: it stores a new charge dated Now().
func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(b) > maxBody {
		writeError(w, http.StatusBadRequest, "The request body could not be read.")
		return
	}
	req, errs, err := parseCreate(b)
	if err != nil {
		writeError(w, http.StatusBadRequest, "The request body must be a JSON object.")
		return
	}
	if len(errs) > 0 {
		writeInvalid(w, s, errs)
		return
	}
	now := s.opts.Now().UTC().Truncate(time.Second)

	s.mu.Lock()
	id := s.firstCreatedID() + int64(len(s.overlay))
	tx := s.createdTransaction(&req, id, now)
	c, err := contributionOf(&tx)
	if err != nil {
		s.mu.Unlock()
		writeError(w, http.StatusInternalServerError, "Server Error")
		return
	}
	s.overlay = append(s.overlay, &entry{id: id, date: now, tx: tx, payout: s.createdPayout(id, now), contrib: c})
	s.mu.Unlock()
	s.count(func(st *ServerStats) { st.Created++ })

	bl := req.billing
	resp := createResponse{
		ID: id, RefID: refID(s.gen, id), Amount: money(req.cents), Currency: *tx.Amount.Currency,
		CurrencySymbol: currencySymbol(*tx.Amount.Currency), Frequency: req.frequency, FundraiserID: req.fundraiserID,
		OrganizationID: 1, FundraiserName: tx.Fundraiser.Name, OrganizationName: "CrowdChange Sandbox Org",
		OrganizationCode: "SANDBOX", Email: req.email, StatementDescriptor: "CC*SANDBOX",
		Summary: summaryOut{AmountCoveredFee: "0", AmountCustomFee: "0", AmountDonation: money(req.cents), AmountApparel: "0",
			AmountTicket: "0", AmountRegistration: "0", AmountSponsor: "0", AmountCards: "0", Frequency: req.frequency},
		BillingAddress: billingOut{Name: tx.Billing.Name, Email: req.email, BusinessName: bl.BusinessName, Title: bl.Title,
			FirstName: bl.FirstName, LastName: bl.LastName, Address: bl.Address, City: bl.City, State: bl.State, Zip: bl.Zip, Country: bl.Country},
		CreatedAt: now.Format(extract.DateTimeLayout), Status: "received",
	}
	if req.extra.MailReceipt != nil && *req.extra.MailReceipt {
		if m := req.mail; m != nil && (m.SameAsBilling == nil || !*m.SameAsBilling) {
			resp.Mail = &mailOut{Address: m.Address, City: m.City, State: m.State, Zip: m.Zip, Country: m.Country}
		} else {
			resp.Mail = &mailOut{Address: bl.Address, City: bl.City, State: bl.State, Zip: bl.Zip, Country: bl.Country}
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// refID is the payment processor's reference of a created transaction.
func refID(g *generator, id int64) string {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	h := g.h(sCreated, id)
	b := []byte("SC")
	for range 14 {
		b = append(b, digits[h%uint64(len(digits))])
		h = mix64(h)
	}
	return string(b)
}

// createdPayout is the payout plan of a created transaction: 2..9 days after its date.
func (s *Server) createdPayout(id int64, date time.Time) payoutPlan {
	h := s.gen.h(sCreated, id)
	acct := "global"
	if h%2 == 1 {
		acct = "user"
	}
	return payoutPlan{ok: true, account: acct, date: date.Truncate(24*time.Hour).AddDate(0, 0, 2+int(h>>8%(maxPayoutDelay-1)))}
}

// createdTransaction maps a created charge into the transaction model.
func (s *Server) createdTransaction(req *createRequest, id int64, now time.Time) crowdchange.Transaction {
	cur := "USD"
	var fund *crowdchange.Fundraiser
	if k, ok := fundIndex(req.fundraiserID); ok {
		cur = fundraisers[k].currency
		fund = s.gen.fundraiser(k)
	} else {
		fund = &crowdchange.Fundraiser{ID: extract.Int(req.fundraiserID), CustomData: []crowdchange.CustomData{}, TagsList: []string{}}
	}
	amt := money(req.cents)
	bl := req.billing
	name := strings.TrimSpace(strings.Join(slices.DeleteFunc([]string{deref(bl.Title), deref(bl.FirstName), deref(bl.LastName)},
		func(s string) bool { return s == "" }), " "))
	foundation := bl.IsFoundation
	if foundation == nil {
		foundation = extract.Bool(false)
	}
	ref := refID(s.gen, id)
	tx := crowdchange.Transaction{
		ID: id, Type: extract.String("charge"), Status: extract.String("completed"), RefundChildrenIDs: []int64{},
		PartnerID: extract.Int(10),
		Amount: &crowdchange.Amount{Apparel: "0", CoveredFees: "0", Currency: extract.String(cur), Donation: amt, DonationToPages: "0",
			Ecards: "0", IsRecurring: extract.Bool(req.frequency != "once"), Registration: "0", Sponsorship: "0", Tickets: "0",
			TotalNet: amt, TotalPaid: amt, CustomFees: "0"},
		Billing: &crowdchange.Billing{BusinessName: bl.BusinessName, IsFoundation: foundation, Title: bl.Title, Name: extract.String(name),
			FirstName: bl.FirstName, LastName: bl.LastName, StreetAddress: bl.Address, City: bl.City, Country: bl.Country,
			State: bl.State, Postal: bl.Zip, Email: req.email},
		DonatedBy: &crowdchange.DonatedBy{BusinessName: bl.BusinessName, Title: bl.Title, Name: extract.String(name), FirstName: bl.FirstName,
			LastName: bl.LastName, StreetAddress: bl.Address, City: bl.City, Country: bl.Country, State: bl.State, Postal: bl.Zip,
			Email: req.email, IsFoundation: foundation},
		CardType: req.card.Type, PaymentProcessor: extract.String("Stripe"), ProcessorTransactionID: extract.String("ch_" + ref),
		CustomData: []crowdchange.CustomData{}, Date: extract.DateTime{Time: now}, Fundraiser: fund,
		IsDisputed: extract.Bool(false), IsRefunded: extract.Bool(false), IsPending: extract.Bool(false),
		IsTaxReceiptIssued: extract.Bool(false), PurchasedItems: &crowdchange.PurchasedItems{},
		IsPledgeTransaction: extract.Bool(false), IsFulfillmentTransaction: extract.Bool(false),
	}
	keys := make([]string, 0, len(req.customData))
	for k := range req.customData {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for n, k := range keys {
		var content extract.JSONText
		if err := content.UnmarshalJSON(req.customData[k]); err != nil {
			continue
		}
		tx.CustomData = append(tx.CustomData, crowdchange.CustomData{FieldID: extract.Int(int64(n + 1)), SourceID: extract.Int(id),
			Name: extract.String(k), Content: content})
	}
	if m := req.mail; m != nil {
		if m.SameAsBilling != nil && *m.SameAsBilling {
			mb := *tx.Billing
			mb.Email = nil
			tx.MailingAddress = &mb
		} else {
			tx.MailingAddress = &crowdchange.Billing{IsFoundation: foundation, Title: bl.Title, Name: extract.String(name),
				FirstName: bl.FirstName, LastName: bl.LastName, StreetAddress: m.Address, City: m.City, Country: m.Country,
				State: m.State, Postal: m.Zip}
		}
	}
	if t := req.tribute; t != nil {
		method := t.Method
		if method == nil {
			method = extract.String("email")
		}
		rec := &crowdchange.Recipient{Name: t.Name, Email: t.Email, Phone: t.Phone}
		if a := t.Address; a != nil {
			rec.Address = joinAddress(a.Address, a.City, a.State, a.Zip, a.Country)
		}
		tx.PurchasedItems.TributeCards = &crowdchange.ItemGroup[crowdchange.TributeCardItem]{Count: extract.Int(1),
			Items: []crowdchange.TributeCardItem{{ID: extract.Int(8_000_000 + id), Method: method, Type: t.Type, Honoree: t.Honoree,
				Message: t.Message, DeliveryStatus: extract.String("pending"), Recipient: rec}}}
	}
	if req.frequency != "once" {
		tx.Recurring = &crowdchange.Recurring{ID: extract.Int(60000 + id - s.firstCreatedID()), Amount: amt, AmountNet: amt,
			Interval: extract.String(req.frequency), Day: extract.Int(int64(now.Day())), Month: extract.Int(int64(now.Month())),
			Status: extract.String("active")}
	}
	return tx
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
