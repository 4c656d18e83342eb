package donatelytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds a POST body.
const maxBody = 1 << 20

// postTypes are the donation_type values POST accepts: the Version2022 vocabulary and cc (stored
// as card).
var postTypes = []string{typeCard, typeStripe, typeACH, typePaypal, typeCash, typeDipjar, "cc"}

// createRequest is a validated POST /v2/donations body.
type createRequest struct {
	amount               int64
	currency             string
	campaign             *campaign
	fundraiser           *fundraiser
	first, last, email   string
	anonymous            bool
	comment, onBehalfOf  *string
	metaData             json.RawMessage
	donationType, origin string
	notes                *string
	ecard                *ecard
}

// bodyFields decodes the members of a JSON object body.
func bodyFields(b []byte) (map[string]json.RawMessage, error) {
	var body map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil || body == nil {
		return nil, errors.New("the request body must be a JSON object")
	}
	return body, nil
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || bytes.Equal(raw, []byte("null")) }

// str decodes an optional string member; problems are appended to errs.
func str(body map[string]json.RawMessage, name string, errs *[]string) (string, bool) {
	raw := body[name]
	if isNull(raw) {
		return "", false
	}
	var v string
	if json.Unmarshal(raw, &v) != nil {
		*errs = append(*errs, name+" must be a string")
		return "", false
	}
	return v, true
}

// validateCreate checks a body the way the API does (version decides which parameters count),
// naming every invalid member. Call with s.mu held.
func (ds *dataset) validateCreate(body map[string]json.RawMessage, version string) (createRequest, []string) {
	var errs []string
	req := createRequest{currency: "usd", donationType: typeCard, origin: "api", metaData: json.RawMessage(`{}`)}
	switch raw := body["amount_in_cents"]; {
	case isNull(raw):
		errs = append(errs, "amount_in_cents is required")
	default:
		lit := string(raw)
		var s string
		if json.Unmarshal(raw, &s) == nil {
			lit = s
		}
		n, err := strconv.ParseInt(lit, 10, 64)
		switch {
		case err != nil:
			errs = append(errs, "amount_in_cents must be an integer number of cents")
		case n <= 0:
			errs = append(errs, "amount_in_cents must be greater than 0")
		default:
			req.amount = n
		}
	}
	if s, ok := str(body, "currency", &errs); ok {
		if !isCurrencyCode(s) {
			errs = append(errs, "currency must be a three-letter ISO currency code")
		} else {
			req.currency = strings.ToLower(s)
		}
	}
	if s, ok := str(body, "fundraiser_id", &errs); ok {
		if req.fundraiser = ds.fundraisers[s]; req.fundraiser == nil {
			errs = append(errs, "fundraiser_id does not name a fundraiser of this account")
		}
	}
	if s, ok := str(body, "campaign_id", &errs); ok {
		if req.campaign = ds.campaignByID[s]; req.campaign == nil {
			errs = append(errs, "campaign_id does not name a campaign of this account")
		}
	}
	if f := req.fundraiser; f != nil {
		owner := ds.campaignOf(f)
		switch {
		case req.campaign == nil:
			req.campaign = owner
		case req.campaign != owner:
			errs = append(errs, "fundraiser_id does not belong to campaign_id")
		}
	}
	req.first, _ = str(body, "first_name", &errs)
	req.last, _ = str(body, "last_name", &errs)
	if s, ok := str(body, "email", &errs); ok {
		if at := strings.IndexByte(s, '@'); at <= 0 || at == len(s)-1 {
			errs = append(errs, "email must be an email address")
		} else {
			req.email = s
		}
	}
	if raw := body["anonymous"]; !isNull(raw) {
		if json.Unmarshal(raw, &req.anonymous) != nil {
			errs = append(errs, "anonymous must be true or false")
		}
	}
	if s, ok := str(body, "comment", &errs); ok {
		req.comment = &s
	}
	if s, ok := str(body, "on_behalf_of", &errs); ok {
		req.onBehalfOf = &s
	}
	if raw := body["meta_data"]; !isNull(raw) {
		if bytes.TrimSpace(raw)[0] != '{' || !json.Valid(raw) {
			errs = append(errs, "meta_data must be a JSON object")
		} else {
			var compact bytes.Buffer
			_ = json.Compact(&compact, raw) // valid JSON compacts
			req.metaData = compact.Bytes()
		}
	}
	if s, ok := str(body, "donation_type", &errs); ok {
		switch {
		case !slices.Contains(postTypes, s):
			errs = append(errs, "donation_type must be one of "+strings.Join(postTypes, ", "))
		case s == "cc":
			req.donationType = typeCard
		default:
			req.donationType = s
		}
	}
	if version == Version2022 {
		if s, ok := str(body, "origin", &errs); ok {
			req.origin = s
		}
		if s, ok := str(body, "notes", &errs); ok {
			req.notes = &s
		}
		if raw := body["ecard"]; !isNull(raw) {
			var e struct {
				Template       string `json:"template"`
				RecipientName  string `json:"recipient_name"`
				RecipientEmail string `json:"recipient_email"`
				Message        string `json:"message"`
			}
			if json.Unmarshal(raw, &e) != nil {
				errs = append(errs, "ecard must be an object")
			} else {
				req.ecard = &ecard{template: e.Template, recipientName: e.RecipientName, recipientEmail: e.RecipientEmail, message: e.Message}
			}
		}
	}
	return req, errs
}

// isCurrencyCode reports whether s is three ASCII letters (any case).
func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// campaignOf is the campaign a fundraiser raises for.
func (ds *dataset) campaignOf(f *fundraiser) *campaign {
	for _, c := range ds.campaigns {
		if slices.Contains(c.fundraisers, f) {
			return c
		}
	}
	return nil
}

// create answers POST /v2/donations: the donation is created at Now() and answered in the
// version's single-object envelope.
func (s *Server) create(x *exchange) {
	b, err := io.ReadAll(io.LimitReader(x.r.Body, maxBody+1))
	if err != nil {
		s.count(func(st *ServerStats) { st.BadRequests++ })
		s.fail(x, http.StatusBadRequest, "The request body could not be read.")
		return
	}
	if len(b) > maxBody {
		s.count(func(st *ServerStats) { st.BadRequests++ })
		s.fail(x, http.StatusBadRequest, "The request body is larger than 1 MiB.")
		return
	}
	body, err := bodyFields(b)
	if err != nil {
		s.count(func(st *ServerStats) { st.BadRequests++ })
		s.fail(x, http.StatusBadRequest, "The request body must be a JSON object.")
		return
	}
	var bodyAccount string
	_ = json.Unmarshal(body["account_id"], &bodyAccount) // a non-string account_id counts as none
	if !s.accountOK(x, strings.TrimSpace(bodyAccount)) {
		return
	}
	now := s.now().Truncate(time.Second)
	s.mu.Lock()
	req, errs := s.data.validateCreate(body, x.version)
	if len(errs) > 0 {
		s.mu.Unlock()
		s.count(func(st *ServerStats) { st.Invalid++ })
		s.fail(x, http.StatusUnprocessableEntity, "Validation failed: "+strings.Join(errs, "; ")+".")
		return
	}
	s.posted++
	r := rand.New(rand.NewPCG(uint64(s.opts.Seed), 0x9057_0000+s.posted))
	d := s.data.createDonation(r, req, now)
	obj := renderDonation(d, x.version, now)
	s.mu.Unlock()
	body2, err := s.oneBody(x, obj)
	if err != nil {
		s.fail(x, http.StatusInternalServerError, "Internal server error.")
		return
	}
	s.count(func(st *ServerStats) { st.Created++ })
	writeBody(x.w, http.StatusOK, "application/json; charset=utf-8", body2)
}

// createDonation stores the donation of a validated POST, created at now: completed (pending for
// ach, which takes days to clear), with a payment intent secret for card, stripe and ach. The donor
// is the person with the email (created at now when new); without an email there is none. Call
// with s.mu held for writing.
func (ds *dataset) createDonation(r *rand.Rand, req createRequest, now time.Time) *donation {
	d := &donation{
		id: ds.newID(r, "dnt_"), amount: req.amount, currency: req.currency, campaign: req.campaign, fundraiser: req.fundraiser,
		anonymous: req.anonymous, onBehalfOf: req.onBehalfOf, donationType: req.donationType, ecard: req.ecard,
		origin: req.origin, notes: req.notes, metaData: req.metaData, created: now,
	}
	status := StatusCompleted
	if d.donationType == typeACH {
		status = StatusPending
	}
	d.versions = []state{{at: now, status: status, comment: req.comment}}
	switch d.donationType {
	case typeCard, typeStripe, typeACH:
		d.secret = "pi_" + alnum(r, 24) + "_secret_" + alnum(r, 25)
	case typePaypal:
		d.paypalOrderID = strings.ToUpper(alnum(r, 17))
	}
	if req.email != "" {
		p := ds.personByMail[strings.ToLower(req.email)]
		if p == nil || !p.existsAt(now) {
			p = &person{id: ds.newID(r, "per_"), first: req.first, last: req.last, email: req.email, created: now}
			ds.addPerson(p)
		}
		d.person = p
	}
	ds.addDonation(d)
	return d
}
