package crowdtilttest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// dataset is everything the sandbox serves. Call its methods with Server.mu held (for writing
// when they change it).
type dataset struct {
	campaigns    []*campaign // (creation_date, id) order
	campaignByID map[string]*campaign
	users        []*user // (creation_date, id) order
	userByID     map[string]*user
	payments     []*payment // every payment, (creation_date, id) order
	paymentByID  map[string]*payment
	ids          map[string]bool // every id issued, so that none is issued twice
}

const day = 24 * time.Hour

// newID issues a new id: the prefix (USR, CMP, CON, CCP) and 32 upper-case hex digits shaped like
// a version-1 UUID, as the seed's long ids ("USR7C7CE3AC795F11E2901DABD956AC4F1A").
func (ds *dataset) newID(r *rand.Rand, prefix string) string {
	for {
		hex := fmt.Sprintf("%016X%016X", r.Uint64(), r.Uint64())
		id := prefix + hex[:12] + "1" + hex[13:]
		if !ds.ids[id] {
			ds.ids[id] = true
			return id
		}
	}
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

func ptr[T any](v T) *T { return &v }

// between is a time drawn uniformly in [lo, hi) (lo when the range is empty).
func between(r *rand.Rand, lo, hi time.Time) time.Time {
	if !hi.After(lo) {
		return lo
	}
	return lo.Add(time.Duration(r.Int64N(int64(hi.Sub(lo)))))
}

// apiTime is a moment as the API stores it: with microseconds ("…T03:29:34.605286000Z") for
// three records in four, whole seconds ("…T14:20:48Z") for the rest, as the seed's examples
// show both.
func apiTime(r *rand.Rand, t time.Time) time.Time {
	if chance(r, 0.25) {
		return t.UTC().Truncate(time.Second)
	}
	return t.UTC().Truncate(time.Microsecond)
}

// ceilSecond is the first whole second at or after t.
func ceilSecond(t time.Time) time.Time {
	u := t.Truncate(time.Second)
	if u.Before(t) {
		u = u.Add(time.Second)
	}
	return u.UTC()
}

// noon is noon UTC of t's day: campaigns expire at noon, whole seconds.
func noon(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// processorDelay is when the payment processor answers for a payment made at t: a few seconds
// later, whole seconds (the seed's payment: created at 03:38:38.736326, modified at 03:38:41).
func processorDelay(r *rand.Rand) func(t time.Time) time.Time {
	return func(t time.Time) time.Time {
		return ceilSecond(t.Add(time.Second + time.Duration(r.Int64N(int64(20*time.Second)))))
	}
}

func newDataset() *dataset {
	return &dataset{
		campaignByID: map[string]*campaign{},
		userByID:     map[string]*user{},
		paymentByID:  map[string]*payment{},
		ids:          map[string]bool{},
	}
}

// generate builds the dataset of a sandbox: nCampaigns campaigns and nPayments payments created in
// [from, to), with the users (admins and payers) and cards they name. Everything is drawn from one
// random stream seeded by seed, in a fixed order: the same arguments give the same data.
func generate(seed int64, nCampaigns, nPayments int, from, to time.Time) *dataset {
	r := rand.New(rand.NewPCG(uint64(seed), 0xC7_0003_7117))
	ds := newDataset()
	span := to.Sub(from)

	// Campaigns: one in ten gets no payment, one in ten a large share (several pages), and with
	// enough payments (1000) the sixth gets exactly one full page (MaxPerPage).
	var weightSum float64
	reserved := 0
	for k := range nCampaigns {
		c := &campaign{id: ds.newID(r, "CMP"), reservedN: -1}
		switch {
		case k%10 == 7:
			c.emptyOnPurpose = true
		case k%10 == 3:
			c.weight = 6
		case k == 5 && nPayments >= 10*MaxPerPage:
			c.reservedN = MaxPerPage
			reserved += MaxPerPage
		default:
			c.weight = 0.3 + 1.4*r.Float64()
		}
		weightSum += c.weight
		c.created = apiTime(r, from.Add(-30*day+time.Duration(r.Int64N(int64(span*7/10+30*day)))))
		c.expiration = noon(c.created.Add(45*day + time.Duration(r.Int64N(int64(135*day)))))
		c.admin = ds.newUser(r, c.created.Add(-time.Hour-time.Duration(r.Int64N(int64(200*day)))), true)
		c.admin.admin = append(c.admin.admin, c)
		title := campaignTitles[k%len(campaignTitles)]
		if k >= len(campaignTitles) {
			title = fmt.Sprintf("%s #%d", title, k/len(campaignTitles)+1)
		}
		meta := json.RawMessage(`{}`)
		if chance(r, 0.6) {
			meta = mustJSON(map[string]string{"img": "https://images.example.org/campaigns/" + strings.ToLower(c.id[3:11]) + ".jpg",
				"description": pick(r, descriptions)})
		}
		c.states = []campaignState{{at: c.created, modified: c.created, title: title, metadata: meta}}
		switch x := r.Float64(); {
		case x < 0.15:
			c.fixed = pick(r, []int64{2500, 5000, 10000})
		case x < 0.35:
			c.minPayment = pick(r, []int64{500, 1000})
		}
		c.paymentsFrom = maxTime(from, c.created.Add(time.Hour))
		c.paymentsTo = minTime(to, c.expiration)
		if c.paymentsTo.Sub(c.paymentsFrom) < time.Hour {
			c.paymentsTo = to
		}
		ds.addCampaign(c)
	}
	if reserved > nPayments {
		for _, c := range ds.campaigns {
			c.reservedN = -1
		}
		reserved = 0
	}
	free := nPayments - reserved
	for _, c := range ds.campaigns {
		switch {
		case c.reservedN >= 0:
			c.expectedN = c.reservedN
		case weightSum > 0:
			c.expectedN = int(math.Round(c.weight / weightSum * float64(free)))
		}
		// About as much as the campaign is expected to raise, give or take: some tilt early,
		// some never.
		expected := float64(max(c.expectedN, 3)) * 9000 * (0.4 + 1.0*r.Float64())
		c.tilt = max(10_000, int64(math.Round(expected/1000))*1000)
	}

	// Payments: drawn campaign by campaign (by weight), then admitted in creation order, so that
	// each campaign tilts when its authorized payments reach tilt_amount.
	type draft struct {
		c *campaign
		t time.Time
	}
	var drafts []draft
	byWeight := slices.Clone(ds.campaigns) // a fixed order for the weighted draw
	for _, c := range byWeight {
		for range max(c.reservedN, 0) {
			drafts = append(drafts, draft{c, between(r, c.paymentsFrom, c.paymentsTo)})
		}
	}
	for range free {
		if weightSum <= 0 {
			break
		}
		x := r.Float64() * weightSum
		var c *campaign
		for _, cc := range byWeight {
			if cc.weight <= 0 {
				continue
			}
			c = cc
			if x -= cc.weight; x < 0 {
				break
			}
		}
		drafts = append(drafts, draft{c, between(r, c.paymentsFrom, c.paymentsTo)})
	}
	slices.SortStableFunc(drafts, func(a, b draft) int { return a.t.Compare(b.t) })
	proc := processorDelay(r)
	for k, d := range drafts {
		t := apiTime(r, d.t)
		p := ds.newPayment(r, d.c, t, ds.payerAt(r, t))
		p.echoCard = k == 1 || chance(r, 0.03)
		ds.admit(r, p, proc, 0.04)
	}

	// Later events: refunds (and voided authorizations), campaign title edits, user edits.
	for _, p := range ds.payments {
		last := p.states[len(p.states)-1]
		if (last.status == StatusCharged || last.status == StatusAuthorized) && chance(r, 0.07) && to.Sub(last.at) > 2*time.Hour {
			at := ceilSecond(between(r, last.at.Add(time.Hour), to))
			next := last
			next.at, next.modified, next.status = at, at, StatusRefunded
			p.push(next)
		}
	}
	for _, c := range ds.campaigns {
		if chance(r, 0.4) && to.After(c.created) {
			st := c.states[0]
			at := apiTime(r, between(r, c.created.Add(time.Minute), to))
			st.at, st.modified = at, at
			st.title = pick(r, editedTitles) + st.title
			c.states = append(c.states, st)
		}
	}
	for _, u := range ds.users {
		if chance(r, 0.1) && to.Sub(u.created) > time.Hour {
			at := apiTime(r, between(r, u.created.Add(time.Minute), to))
			ds.editUser(r, u, at)
		}
	}
	return ds
}

// mustJSON marshals a value that cannot fail (maps of strings).
func mustJSON(v any) json.RawMessage {
	b, err := marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// asciiFold keeps the ASCII letters of a name (emails are ASCII); a name without any gives "user".
func asciiFold(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		return "user"
	}
	return b.String()
}

// newUser makes and stores a user created about at t; admins are mostly verified (they need to
// be, to be paid), payers rarely.
func (ds *dataset) newUser(r *rand.Rand, t time.Time, admin bool) *user {
	u := &user{id: ds.newID(r, "USR"), created: apiTime(r, t)}
	first, last := pick(r, firstNames), pick(r, lastNames)
	u.email = strings.ToLower(asciiFold(first)+"."+asciiFold(last)+"."+u.id[3:9]) + "@example.org"
	st := userState{at: u.created, modified: u.created, firstname: ptr(first), lastname: ptr(last), metadata: json.RawMessage(`{}`)}
	if chance(r, 0.05) { // created with an email only, as the seed's API examples
		st.firstname, st.lastname = nil, nil
	}
	st.verified = admin && chance(r, 0.7) || chance(r, 0.03)
	if chance(r, 0.3) {
		st.metadata = mustJSON(map[string]string{"img": "https://images.example.org/users/" + strings.ToLower(u.id[3:11]) + ".png"})
	}
	u.states = []userState{st}
	k, _ := slices.BinarySearchFunc(ds.users, u, compareUsers)
	ds.users = slices.Insert(ds.users, k, u)
	ds.userByID[u.id] = u
	return u
}

// editUser changes a user's last name or profile image at at (PUT /users/:id): the
// modification_date moves.
func (ds *dataset) editUser(r *rand.Rand, u *user, at time.Time) {
	st := u.states[len(u.states)-1]
	st.at, st.modified = at, at
	if chance(r, 0.6) {
		st.lastname = ptr(pick(r, lastNames) + "-" + pick(r, lastNames))
	} else {
		st.metadata = mustJSON(map[string]string{"img": "https://images.example.org/users/" + strings.ToLower(u.id[3:11]) + "-v2.png"})
	}
	u.states = append(u.states, st)
}

// payerAt picks an existing user at t, or makes a new one created a little before t.
func (ds *dataset) payerAt(r *rand.Rand, t time.Time) *user {
	if chance(r, 0.6) {
		if u := ds.pickUser(r, t); u != nil {
			return u
		}
	}
	return ds.newUser(r, t.Add(-time.Minute-time.Duration(r.Int64N(int64(3*day)))), false)
}

// pickUser picks a user created at least a minute before t, or nil when a few tries find none.
func (ds *dataset) pickUser(r *rand.Rand, t time.Time) *user {
	if len(ds.users) == 0 {
		return nil
	}
	for range 8 {
		if u := pick(r, ds.users); u.created.Before(t.Add(-time.Minute)) {
			return u
		}
	}
	return nil
}

// cardFor picks one of u's cards that exists at t, or tokenizes a new one a little before t.
func (ds *dataset) cardFor(r *rand.Rand, u *user, t time.Time) *card {
	if len(u.cards) > 0 && chance(r, 0.8) {
		if cd := pick(r, u.cards); !cd.created.After(t) {
			return cd
		}
	}
	return ds.newCard(r, u, maxTime(u.created, t.Add(-time.Minute-time.Duration(r.Int64N(int64(time.Hour))))))
}

func (ds *dataset) newCard(r *rand.Rand, u *user, t time.Time) *card {
	ct := pick(r, cardTypes)
	cd := &card{
		id: ds.newID(r, "CCP"), number: ct.number, securityCode: ct.code, cardType: ct.name,
		lastFour: ct.number[len(ct.number)-4:], month: fmt.Sprintf("%02d", 1+r.IntN(12)), year: 2014 + r.IntN(12),
		user: u, created: apiTime(r, t),
	}
	u.cards = append(u.cards, cd)
	return cd
}

// amount draws a payment amount in cents: mostly round amounts, some arbitrary ones, a few large.
func amount(r *rand.Rand) int64 {
	switch x := r.Float64(); {
	case x < 0.6:
		return pick(r, []int64{500, 1000, 2000, 2500, 3000, 5000, 10000, 20000})
	case x < 0.97:
		return 100 + r.Int64N(30_000)
	default:
		return 50_000 + r.Int64N(500_000)
	}
}

// newPayment draws a payment of c by payer created at t (not admitted yet): its card, amount, fees
// and metadata.
func (ds *dataset) newPayment(r *rand.Rand, c *campaign, t time.Time, payer *user) *payment {
	p := &payment{id: ds.newID(r, "CON"), campaign: c, created: t, user: payer}
	switch {
	case c.fixed > 0:
		p.amount = c.fixed * int64(1+r.IntN(3))
	default:
		p.amount = max(amount(r), c.minPayment)
	}
	switch x := r.Float64(); {
	case x < 0.5:
		p.userFee = p.amount * 2 / 100
	case x < 0.8:
	default:
		p.userFee = p.amount*3/100 + 30
	}
	if chance(r, 0.6) {
		p.adminFe = p.amount * 2 / 100
	}
	meta := json.RawMessage(`{}`)
	switch x := r.Float64(); {
	case x < 0.2:
		meta = mustJSON(map[string]string{"reward": pick(r, rewards)})
	case x < 0.3:
		meta = mustJSON(map[string]string{"note": pick(r, comments)})
	}
	p.states = []paymentState{{at: t, modified: t, card: ds.cardFor(r, p.user, t), metadata: meta}}
	return p
}

// admit stores a new payment and gives it its first status: rejected (the card was declined) at
// rate reject, charged when its campaign has tilted, else authorized; proc dates the processor's
// answer (the payment's modification_date). An authorized payment that brings the campaign's
// authorized and charged amounts to tilt_amount tilts it: every authorized payment of the
// campaign is charged at that moment. It returns the payments the tilt charged (p included).
func (ds *dataset) admit(r *rand.Rand, p *payment, proc func(time.Time) time.Time, reject float64) []*payment {
	c, t := p.campaign, p.created
	st := p.states[0]
	st.modified = proc(t)
	switch {
	case chance(r, reject):
		st.status = StatusRejected
	case c.tiltedAt(t):
		st.status = StatusCharged
	default:
		st.status = StatusAuthorized
	}
	p.states[0] = st
	k, _ := slices.BinarySearchFunc(c.payments, p, comparePayments)
	c.payments = slices.Insert(c.payments, k, p)
	k, _ = slices.BinarySearchFunc(ds.payments, p, comparePayments)
	ds.payments = slices.Insert(ds.payments, k, p)
	k, _ = slices.BinarySearchFunc(p.user.payments, p, comparePayments)
	p.user.payments = slices.Insert(p.user.payments, k, p)
	ds.paymentByID[p.id] = p
	if st.status != StatusAuthorized || !c.tiltAt.IsZero() {
		return nil
	}
	var raised int64
	for _, q := range c.payments {
		if q.existsAt(t) {
			switch q.stateAt(t).status {
			case StatusAuthorized, StatusCharged:
				raised += q.amount
			}
		}
	}
	if raised < c.tilt {
		return nil
	}
	at := proc(t)
	c.tiltAt, c.tiltedBy = at, p
	var charged []*payment
	for _, q := range c.payments {
		if q.existsAt(t) && q.stateAt(at).status == StatusAuthorized {
			next := q.states[len(q.states)-1]
			next.at, next.modified, next.status = at, at, StatusCharged
			q.push(next)
			charged = append(charged, q)
		}
	}
	return charged
}

func (ds *dataset) addCampaign(c *campaign) {
	k, _ := slices.BinarySearchFunc(ds.campaigns, c, compareCampaigns)
	ds.campaigns = slices.Insert(ds.campaigns, k, c)
	ds.campaignByID[c.id] = c
}
