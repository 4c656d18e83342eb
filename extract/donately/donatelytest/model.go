package donatelytest

import (
	"encoding/json"
	"sort"
	"time"
)

// The sandbox keeps every record in memory (a donation is a few hundred bytes: 20 000 of them
// are a few MiB). Records are built once by the generator, by POST or by Mutate, and only ever
// change by gaining a version (donations) or a gift time (people), under Server.mu.

// The statuses of a donation, as the API spells them.
const (
	StatusCompleted = "completed"
	StatusPending   = "pending"
	StatusRefunded  = "refunded"
	StatusRejected  = "rejected"
)

// Donation types, in the vocabulary of Version2022. Version2019 answers cc for card and stripe
// and cash for dipjar.
const (
	typeCard   = "card"
	typeStripe = "stripe"
	typeACH    = "ach"
	typePaypal = "paypal"
	typeCash   = "cash"
	typeDipjar = "dipjar"
)

// legacyType is a donation type in the vocabulary of Version2019 (cc, ach, cash, paypal).
func legacyType(t string) string {
	switch t {
	case typeCard, typeStripe:
		return "cc"
	case typeCash, typeDipjar:
		return "cash"
	}
	return t
}

// state is what a donation is from a moment on: its status and comment.
type state struct {
	at      time.Time
	status  string
	comment *string
}

type donation struct {
	id            string
	amount        int64
	currency      string // lower case, as the API sends it
	campaign      *campaign
	person        *person
	fundraiser    *fundraiser
	subscription  *subscription
	form          *form
	recurring     bool
	anonymous     bool
	onBehalfOf    *string
	donationType  string // Version2022 vocabulary
	ecard         *ecard
	origin        string
	notes         *string
	secret        string // payment_intent_secret, "" for none
	paypalOrderID string
	metaData      json.RawMessage // a JSON object
	created       time.Time
	// versions are the donation's states, ascending; versions[0].at is created. The state at a
	// time is the last version at or before it, and its at is updated_at.
	versions []state
}

// stateAt is the donation's state at now (created must not be after now).
func (d *donation) stateAt(now time.Time) state {
	k := sort.Search(len(d.versions), func(i int) bool { return d.versions[i].at.After(now) })
	if k == 0 {
		return d.versions[0]
	}
	return d.versions[k-1]
}

func (d *donation) existsAt(now time.Time) bool { return !d.created.After(now) }

type ecard struct {
	template, recipientName, recipientEmail, message string
}

type campaign struct {
	id, title, status, kind string
	currency                string // of its generated donations; not served
	goal                    int64
	created                 time.Time
	edited                  time.Time // updated_at once the clock reaches it (else created_at)
	theme                   string
	fundraisers             []*fundraiser
}

func (c *campaign) existsAt(now time.Time) bool { return !c.created.After(now) }

func (c *campaign) updatedAt(now time.Time) time.Time {
	if c.edited.After(c.created) && !c.edited.After(now) {
		return c.edited
	}
	return c.created
}

type person struct {
	id                         string
	first, last, email         string
	phone, street, street2     *string
	city, region, zip, country *string
	created                    time.Time
	gifts                      []time.Time // created_at of the person's donations, ascending
}

func (p *person) existsAt(now time.Time) bool { return !p.created.After(now) }

// updatedAt is the time of the person's latest donation at now: the API touches the donor on
// every gift.
func (p *person) updatedAt(now time.Time) time.Time {
	k := sort.Search(len(p.gifts), func(i int) bool { return p.gifts[i].After(now) })
	if k == 0 {
		return p.created
	}
	return maxTime(p.created, p.gifts[k-1])
}

// addGift records a donation of the person at t, keeping gifts sorted.
func (p *person) addGift(t time.Time) {
	k := sort.Search(len(p.gifts), func(i int) bool { return p.gifts[i].After(t) })
	p.gifts = append(p.gifts, time.Time{})
	copy(p.gifts[k+1:], p.gifts[k:])
	p.gifts[k] = t
}

type fundraiser struct {
	id, kind string // kind: individual or team
}

type subscription struct {
	id        string
	person    *person
	campaign  *campaign
	amount    int64
	currency  string
	frequency string
	startDay  int
	stopDay   *int
}

type form struct {
	id, title string
}

// account is the one account the sandbox serves.
type account struct {
	id, title     string
	created, edit time.Time
	analyticsID   string
	stripeSubID   string
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
