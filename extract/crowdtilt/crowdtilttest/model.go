package crowdtilttest

import (
	"encoding/json"
	"sort"
	"strings"
	"time"
)

// The sandbox keeps every record in memory (a payment is a few hundred bytes before rendering:
// tens of thousands of them are a few MiB). Records are built once by the generator or by Mutate
// and only ever change by gaining a state (a version), under Server.mu. A record's state at a
// time is its last state that begins at or before that time: the served answers follow Now().

// The statuses of a payment, as the API spells them (seed 003, Payment Definition).
const (
	StatusAuthorized = "authorized"
	StatusCharged    = "charged"
	StatusRefunded   = "refunded"
	StatusRejected   = "rejected"
)

// Statuses returns every payment status, in the order of the reference.
func Statuses() []string {
	return []string{StatusAuthorized, StatusCharged, StatusRefunded, StatusRejected}
}

// begins is what a state has in common: the moment it takes effect.
type stamped interface{ begins() time.Time }

// stateAt is the last of states (ascending by begins, not empty) that begins at or before now,
// or the first one when none does.
func stateAt[S stamped](states []S, now time.Time) S {
	k := sort.Search(len(states), func(i int) bool { return states[i].begins().After(now) })
	if k == 0 {
		return states[0]
	}
	return states[k-1]
}

// userState is what a user is from a moment on. modified is the modification_date it is served
// with: the moment itself, or an earlier one for a change that does not move the date.
type userState struct {
	at, modified        time.Time
	firstname, lastname *string // null for a user created with an email only, as the seed's examples show
	verified            bool
	metadata            json.RawMessage
}

func (s userState) begins() time.Time { return s.at }

type user struct {
	id, email string
	created   time.Time
	states    []userState
	cards     []*card
	admin     []*campaign // campaigns the user is the admin of
	payments  []*payment  // the user's payments, in creation order
}

func (u *user) existsAt(now time.Time) bool { return !u.created.After(now) }
func (u *user) stateAt(now time.Time) userState {
	return stateAt(u.states, now)
}

// card is a tokenized credit card. number and securityCode are what the card was created with;
// the API never answers them, but the sandbox echoes them on a few payments (payment.echoCard)
// so that a client's scrubbing is exercised.
type card struct {
	id, lastFour, month, cardType string
	year                          int
	number, securityCode          string
	user                          *user
	created                       time.Time
}

// campaignState is what a campaign's editable members are from a moment on.
type campaignState struct {
	at, modified time.Time
	title        string
	metadata     json.RawMessage
}

func (s campaignState) begins() time.Time { return s.at }

type campaign struct {
	id                       string
	admin                    *user
	tilt, minPayment, fixed  int64 // tilt_amount, min_payment_amount, fixed_payment_amount (cents)
	expiration, created      time.Time
	states                   []campaignState
	payments                 []*payment // in (creation_date, id) order: the order of its payments list
	tiltAt                   time.Time  // when the campaign tilted (zero: not yet)
	tiltedBy                 *payment   // the payment that tilted it
	weight                   float64    // the generator's share of payments
	expectedN                int        // the generator's planned number of payments
	reservedN                int        // a number of payments the generator plants exactly (-1: none)
	emptyOnPurpose           bool       // the generator gives it no payment
	paymentsFrom, paymentsTo time.Time  // where the generator draws its payments' creation_date
}

func (c *campaign) existsAt(now time.Time) bool { return !c.created.After(now) }
func (c *campaign) stateAt(now time.Time) campaignState {
	return stateAt(c.states, now)
}
func (c *campaign) tiltedAt(now time.Time) bool { return !c.tiltAt.IsZero() && !c.tiltAt.After(now) }

// paymentState is what a payment is from a moment on.
type paymentState struct {
	at, modified time.Time
	status       string
	card         *card
	metadata     json.RawMessage
}

func (s paymentState) begins() time.Time { return s.at }

type payment struct {
	id                       string
	campaign                 *campaign
	user                     *user
	amount, userFee, adminFe int64 // amount, user_fee_amount, admin_fee_amount (cents)
	created                  time.Time
	echoCard                 bool // the card's number and security code are echoed (sandbox choice)
	states                   []paymentState
}

func (p *payment) existsAt(now time.Time) bool { return !p.created.After(now) }
func (p *payment) stateAt(now time.Time) paymentState {
	return stateAt(p.states, now)
}

// push appends a state, keeping the states ascending and modification_date never going back.
func (p *payment) push(st paymentState) {
	if n := len(p.states); n > 0 {
		last := p.states[n-1]
		if st.at.Before(last.at) {
			st.at = last.at
		}
		if st.modified.Before(last.modified) {
			st.modified = last.modified
		}
	}
	p.states = append(p.states, st)
}

// comparePayments orders payments by (creation_date, id): the order of every payments list.
func comparePayments(a, b *payment) int {
	if c := a.created.Compare(b.created); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// compareCampaigns orders campaigns by (creation_date, id): the order of the campaigns list.
func compareCampaigns(a, b *campaign) int {
	if c := a.created.Compare(b.created); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// compareUsers orders users by (creation_date, id): the order of the users list.
func compareUsers(a, b *user) int {
	if c := a.created.Compare(b.created); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// stats are a campaign's stats member at a moment, and the users it names.
type stats struct {
	raised, contributions, contributors int64
	tiltPercent                         int64
	first, tilter                       *user
}

// statsAt computes a campaign's stats at now from its payments: raised_amount and
// number_of_contributions count the authorized and charged payments, unique_contributors their
// distinct users, tilt_percent is ⌊100·raised/tilt⌋; first_contributor is the user of the
// earliest payment that is not rejected, tilter the user of the payment that tilted it.
func (c *campaign) statsAt(now time.Time) stats {
	var st stats
	seen := map[*user]bool{}
	for _, p := range c.payments {
		if !p.existsAt(now) {
			break // in creation order: the rest is later still
		}
		switch p.stateAt(now).status {
		case StatusAuthorized, StatusCharged:
			st.raised += p.amount
			st.contributions++
			if !seen[p.user] {
				seen[p.user] = true
				st.contributors++
			}
		case StatusRejected:
			continue
		}
		if st.first == nil {
			st.first = p.user
		}
	}
	if c.tilt > 0 {
		st.tiltPercent = st.raised * 100 / c.tilt
	}
	if c.tiltedAt(now) && c.tiltedBy != nil {
		st.tilter = c.tiltedBy.user
	}
	return st
}
