package crowdtilttest

import (
	"bytes"
	"encoding/json"
	"time"
)

// The two layouts the seed's timestamps are written in, both UTC: whole seconds
// ("2011-07-02T14:20:48Z", the reference's examples) and microseconds padded to nine digits
// ("2013-03-19T03:29:34.605286000Z", the API examples' real answers). A moment with a fraction
// of a second is written in the second layout, a whole second in the first.
const (
	LayoutSeconds = "2006-01-02T15:04:05Z"
	LayoutMicros  = "2006-01-02T15:04:05.000000000Z"
)

// FormatTime writes t as the API does: LayoutSeconds for a whole second, else LayoutMicros.
func FormatTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() == 0 {
		return t.Format(LayoutSeconds)
	}
	return t.Format(LayoutMicros)
}

// marshal encodes v as compact JSON without escaping <, > and & (the API's JSON does not).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The JSON shapes, members in the order of the seed's examples.

type userJSON struct {
	ID               string          `json:"id"`
	Email            string          `json:"email"`
	Firstname        *string         `json:"firstname"`
	Lastname         *string         `json:"lastname"`
	IsVerified       int             `json:"is_verified"`
	CreationDate     string          `json:"creation_date"`
	ModificationDate string          `json:"modification_date"`
	URI              string          `json:"uri"`
	CardsURI         string          `json:"cards_uri"`
	BanksURI         string          `json:"banks_uri"`
	CampaignsURI     string          `json:"campaigns_uri"`
	PaymentsURI      string          `json:"payments_uri"`
	Metadata         json.RawMessage `json:"metadata"`
}

type statsJSON struct {
	TiltPercent           int64 `json:"tilt_percent"`
	RaisedAmount          int64 `json:"raised_amount"`
	UniqueContributors    int64 `json:"unique_contributors"`
	NumberOfContributions int64 `json:"number_of_contributions"`
}

// A campaign, card or payment embeds other records' answers: its own members are encoded in two
// parts (before and after the embedded ones) and the embedded answers spliced in as they are, so
// that a page of payments does not encode each embedded campaign again.

type campaignHead struct {
	ID                 string `json:"id"`
	Title              string `json:"title"`
	TiltAmount         int64  `json:"tilt_amount"`
	MinPaymentAmount   int64  `json:"min_payment_amount"`
	FixedPaymentAmount int64  `json:"fixed_payment_amount"`
	ExpirationDate     string `json:"expiration_date"`
	IsTilted           int    `json:"is_tilted"`
	IsPaid             int    `json:"is_paid"`
	IsExpired          int    `json:"is_expired"`
	NeedsBank          int    `json:"needs_bank"`
	URI                string `json:"uri"`
	PaymentsURI        string `json:"payments_uri"`
	SettlementsURI     string `json:"settlements_uri"`
	// admin, first_contributor, tilter
}

type campaignTail struct {
	Stats            statsJSON       `json:"stats"`
	CreationDate     string          `json:"creation_date"`
	ModificationDate string          `json:"modification_date"`
	Metadata         json.RawMessage `json:"metadata"`
}

type cardHead struct {
	ID string `json:"id"`
	// Number and SecurityCode are echoed on a few payments only (see the package documentation).
	Number          string `json:"number,omitempty"`
	SecurityCode    string `json:"security_code,omitempty"`
	LastFour        string `json:"last_four"`
	ExpirationYear  int    `json:"expiration_year"`
	ExpirationMonth string `json:"expiration_month"`
	// user
}

type cardTail struct {
	URI              string          `json:"uri"`
	CardType         string          `json:"card_type"`
	CreationDate     string          `json:"creation_date"`
	ModificationDate string          `json:"modification_date"`
	Metadata         json.RawMessage `json:"metadata"`
}

type paymentHead struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	Amount         int64  `json:"amount"`
	UserFeeAmount  int64  `json:"user_fee_amount"`
	AdminFeeAmount int64  `json:"admin_fee_amount"`
	URI            string `json:"uri"`
	// campaign, card, user
}

type paymentTail struct {
	CreationDate     string          `json:"creation_date"`
	ModificationDate string          `json:"modification_date"`
	Metadata         json.RawMessage `json:"metadata"`
}

// embedded is a member whose value is another record's answer.
type embedded struct {
	name string
	raw  json.RawMessage
}

// splice is the object of head's members, then the embedded ones, then tail's (head and tail are
// structs encoding to non-empty JSON objects).
func splice(head any, members []embedded, tail any) json.RawMessage {
	h, t := mustJSON(head), mustJSON(tail)
	n := len(h) + len(t)
	for _, m := range members {
		n += len(m.name) + len(m.raw) + 4
	}
	b := make([]byte, 0, n)
	b = append(b, h[:len(h)-1]...)
	for _, m := range members {
		b = append(b, `,"`...)
		b = append(b, m.name...)
		b = append(b, `":`...)
		b = append(b, m.raw...)
	}
	b = append(b, ',')
	return append(b, t[1:]...)
}

// renderer renders records as they are at one moment, each user and campaign once: a page of
// payments embeds the same campaign and users many times.
type renderer struct {
	now       time.Time
	users     map[*user]json.RawMessage
	campaigns map[*campaign]json.RawMessage
	// refs renders users as {"id": …}: a record's own content, its embedded users left to
	// themselves (Mutate's comparisons).
	refs bool
}

func newRenderer(now time.Time) *renderer {
	return &renderer{now: now, users: map[*user]json.RawMessage{}, campaigns: map[*campaign]json.RawMessage{}}
}

func userURI(u *user) string { return "/v1/users/" + u.id }

func (rd *renderer) user(u *user) json.RawMessage {
	if u == nil {
		return json.RawMessage("null")
	}
	if b, ok := rd.users[u]; ok {
		return b
	}
	if rd.refs {
		b := mustJSON(struct {
			ID string `json:"id"`
		}{u.id})
		rd.users[u] = b
		return b
	}
	st := u.stateAt(rd.now)
	uri := userURI(u)
	b := mustJSON(userJSON{
		ID: u.id, Email: u.email, Firstname: st.firstname, Lastname: st.lastname, IsVerified: flag(st.verified),
		CreationDate: FormatTime(u.created), ModificationDate: FormatTime(st.modified), URI: uri,
		CardsURI: uri + "/cards", BanksURI: uri + "/banks", CampaignsURI: uri + "/campaigns", PaymentsURI: uri + "/payments",
		Metadata: st.metadata,
	})
	rd.users[u] = b
	return b
}

func (rd *renderer) campaign(c *campaign) json.RawMessage {
	if b, ok := rd.campaigns[c]; ok {
		return b
	}
	st := c.stateAt(rd.now)
	stats := c.statsAt(rd.now)
	tilted := c.tiltedAt(rd.now)
	expired := !c.expiration.After(rd.now)
	uri := "/v1/campaigns/" + c.id
	b := splice(campaignHead{
		ID: c.id, Title: st.title, TiltAmount: c.tilt, MinPaymentAmount: c.minPayment, FixedPaymentAmount: c.fixed,
		ExpirationDate: FormatTime(c.expiration), IsTilted: flag(tilted), IsPaid: flag(tilted && expired), IsExpired: flag(expired),
		NeedsBank: flag(tilted && !c.admin.stateAt(rd.now).verified), URI: uri, PaymentsURI: uri + "/payments",
		SettlementsURI: uri + "/settlements",
	}, []embedded{{"admin", rd.user(c.admin)}, {"first_contributor", rd.user(stats.first)}, {"tilter", rd.user(stats.tilter)}},
		campaignTail{
			Stats: statsJSON{TiltPercent: stats.tiltPercent, RaisedAmount: stats.raised, UniqueContributors: stats.contributors,
				NumberOfContributions: stats.contributions},
			CreationDate: FormatTime(c.created), ModificationDate: FormatTime(st.modified), Metadata: st.metadata,
		})
	rd.campaigns[c] = b
	return b
}

func (rd *renderer) card(cd *card, echo bool) json.RawMessage {
	head := cardHead{ID: cd.id, LastFour: cd.lastFour, ExpirationYear: cd.year, ExpirationMonth: cd.month}
	if echo {
		head.Number, head.SecurityCode = cd.number, cd.securityCode
	}
	return splice(head, []embedded{{"user", rd.user(cd.user)}}, cardTail{
		URI: userURI(cd.user) + "/cards/" + cd.id, CardType: cd.cardType, CreationDate: FormatTime(cd.created),
		ModificationDate: FormatTime(cd.created), Metadata: json.RawMessage(`{}`),
	})
}

func (rd *renderer) payment(p *payment) json.RawMessage {
	st := p.stateAt(rd.now)
	return splice(paymentHead{
		ID: p.id, Status: st.status, Amount: p.amount, UserFeeAmount: p.userFee, AdminFeeAmount: p.adminFe,
		URI: "/v1/campaigns/" + p.campaign.id + "/payments/" + p.id,
	}, []embedded{{"campaign", rd.campaign(p.campaign)}, {"card", rd.card(st.card, p.echoCard)}, {"user", rd.user(p.user)}},
		paymentTail{CreationDate: FormatTime(p.created), ModificationDate: FormatTime(st.modified), Metadata: st.metadata})
}
