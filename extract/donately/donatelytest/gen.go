package donatelytest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"
)

// dataset is everything the sandbox serves. Call its methods with Server.mu held (for writing
// when they change it).
type dataset struct {
	account      account
	campaigns    []*campaign
	campaignByID map[string]*campaign
	fundraisers  map[string]*fundraiser
	people       []*person
	personByID   map[string]*person
	personByMail map[string]*person
	subs         []*subscription
	forms        []*form
	donations    []*donation
	donationByID map[string]*donation
	ids          map[string]bool // every id issued, so that none is issued twice
}

// currencies of generated campaigns: the first ones make sure that several currencies occur.
var currencies = []string{"usd", "cad", "eur", "gbp", "aud"}

// maxEventDelay is the longest time between a donation's creation and a later change of its
// generated history (settlement, refund, rejection, comment edit).
const maxEventDelay = 20 * 24 * time.Hour

// newID issues a new id with the given prefix: twelve lower-case hex digits, as the API's.
func (ds *dataset) newID(r *rand.Rand, prefix string) string {
	for {
		id := fmt.Sprintf("%s%012x", prefix, r.Uint64()>>16)
		if !ds.ids[id] {
			ds.ids[id] = true
			return id
		}
	}
}

// alnum is n random characters of [0-9A-Za-z].
func alnum(r *rand.Rand, n int) string {
	const chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

func ptr[T any](v T) *T { return &v }

// ceilSecond is the first whole second at or after t.
func ceilSecond(t time.Time) time.Time {
	u := t.Truncate(time.Second)
	if u.Before(t) {
		u = u.Add(time.Second)
	}
	return u.UTC()
}

// generate builds the dataset of a sandbox: donations donations created in [from, to), with the
// campaigns, people, fundraisers, subscriptions and forms they refer to. Everything is drawn from
// one random stream seeded by seed, in a fixed order: the same arguments give the same data.
func generate(seed int64, donations int, accountID string, from, to time.Time) *dataset {
	r := rand.New(rand.NewPCG(uint64(seed), 0xD0_7A7E_1F))
	ds := &dataset{
		campaignByID: map[string]*campaign{},
		fundraisers:  map[string]*fundraiser{},
		personByID:   map[string]*person{},
		personByMail: map[string]*person{},
		donationByID: map[string]*donation{},
		ids:          map[string]bool{accountID: true},
	}
	ds.account = account{
		id: accountID, title: "Sandbox Nonprofit", created: from.AddDate(-3, 0, 0).Truncate(24 * time.Hour).Add(12 * time.Hour),
		analyticsID: fmt.Sprintf("UA-%08d-1", r.IntN(1e8)), stripeSubID: "sub_" + alnum(r, 14),
	}
	ds.account.edit = from.AddDate(0, -1, 0).Truncate(time.Second)

	for k, title := range formTitles {
		if k == 0 || chance(r, 0.7) {
			ds.forms = append(ds.forms, &form{id: ds.newID(r, "frm_"), title: title})
		}
	}

	nCampaigns := min(max(donations/150, 4), 30) // the last is a draft: no donations
	span := to.Sub(from)
	for k := 0; k < nCampaigns; k++ {
		c := &campaign{
			id:     ds.newID(r, "cmp_"),
			title:  campaignTitles[k%len(campaignTitles)],
			status: "published",
			kind:   pick(r, []string{"donation", "donation", "peer_to_peer", "event"}),
			goal:   int64(r.IntN(200)+1) * 50_000,
			theme:  pick(r, []string{"classic", "modern", "minimal"}),
		}
		if k >= len(campaignTitles) {
			c.title = fmt.Sprintf("%s %d", c.title, k/len(campaignTitles)+1)
		}
		if k < len(currencies) {
			c.currency = currencies[k]
		} else {
			c.currency = pick(r, []string{"usd", "usd", "usd", "cad", "cad", "eur", "gbp", "aud"})
		}
		switch {
		case k == nCampaigns-1:
			c.status = "draft"
		case chance(r, 0.15):
			c.status = "archived"
		}
		// Most campaigns predate the range; a few start inside it.
		if k < 3 || chance(r, 0.75) {
			c.created = from.Add(-time.Duration(r.Int64N(int64(365*24*time.Hour)) + int64(time.Hour))).Truncate(time.Second)
		} else {
			c.created = from.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Second)
		}
		c.created = c.created.UTC()
		c.edited = c.created
		if chance(r, 0.6) {
			c.edited = c.created.Add(time.Duration(r.Int64N(int64(60 * 24 * time.Hour)))).Truncate(time.Second)
		}
		if c.kind == "peer_to_peer" {
			for j := 0; j < 2+r.IntN(5); j++ {
				f := &fundraiser{id: ds.newID(r, "fun_"), kind: pick(r, []string{"individual", "individual", "team"})}
				c.fundraisers = append(c.fundraisers, f)
				ds.fundraisers[f.id] = f
			}
		}
		ds.campaigns = append(ds.campaigns, c)
		ds.campaignByID[c.id] = c
	}

	for _, t := range donationTimes(r, donations, from, to) {
		ds.addDonation(ds.generateDonation(r, t, true))
	}
	return ds
}

// donationTimes draws n creation times in [from, to), sorted, whole seconds. Some are planted on
// purpose: two donations at exactly midnight UTC of a day inside the range (a window edge and a
// tie at once), a group of three in one second, and about 1.5% more at midnights and 3% more
// sharing a second with another donation, so that window edges and paging ties are exercised.
func donationTimes(r *rand.Rand, n int, from, to time.Time) []time.Time {
	lo, hi := ceilSecond(from).Unix(), ceilSecond(to).Unix() // [lo, hi)
	if n <= 0 || hi <= lo {
		return nil
	}
	ts := make([]int64, n)
	for k := range ts {
		ts[k] = lo + r.Int64N(hi-lo)
	}
	var midnights []int64
	for m := (lo + 86399) / 86400 * 86400; m < hi; m += 86400 {
		midnights = append(midnights, m)
	}
	next := 0 // the planted ones come first; the rest stays uniform
	if len(midnights) > 0 && n >= 2 {
		m := midnights[r.IntN(len(midnights))]
		ts[0], ts[1] = m, m
		next = 2
		for k := 0; k < int(math.Round(0.015*float64(n))) && next < n; k++ {
			ts[next] = midnights[r.IntN(len(midnights))]
			next++
		}
	}
	if n-next >= 4 {
		t := ts[next]
		ts[next+1], ts[next+2] = t, t
		next += 3
	}
	for k := 0; k < int(math.Round(0.03*float64(n))) && next < n-1; k++ {
		ts[next+1] = ts[next]
		next += 2
	}
	slices.Sort(ts)
	out := make([]time.Time, n)
	for k, u := range ts {
		out[k] = time.Unix(u, 0).UTC()
	}
	return out
}

// amount draws a donation amount in cents: mostly round preset amounts, some arbitrary ones, a
// few of one cent and a few very large gifts.
func amount(r *rand.Rand) int64 {
	switch x := r.Float64(); {
	case x < 0.02:
		return 1
	case x < 0.05:
		return int64(r.IntN(50)+1) * 1_000_000
	case x < 0.65:
		return pick(r, []int64{500, 1000, 2000, 2500, 5000, 10000, 25000, 50000, 100000})
	default:
		return 100 + r.Int64N(200_000)
	}
}

// campaignAt picks a campaign that exists at t, or nil (a general donation to the account).
func (ds *dataset) campaignAt(r *rand.Rand, t time.Time) *campaign {
	if chance(r, 0.1) {
		return nil
	}
	for try := 0; try < 8; try++ {
		c := pick(r, ds.campaigns)
		if c.existsAt(t) && c.status != "draft" {
			return c
		}
	}
	return nil
}

// newPerson makes a donor created at t (not yet in the dataset).
func (ds *dataset) newPerson(r *rand.Rand, t time.Time) *person {
	first, last := pick(r, firstNames), pick(r, lastNames)
	p := &person{id: ds.newID(r, "per_"), first: first, last: last, created: t}
	p.email = strings.ToLower(asciiFold(first)+"."+asciiFold(last)) + "." + p.id[4:10] + "@example.org"
	if chance(r, 0.6) {
		p.phone = ptr(fmt.Sprintf("+1-555-%03d-%04d", r.IntN(1000), r.IntN(10000)))
	}
	if chance(r, 0.8) {
		c := pick(r, cities)
		p.street = ptr(fmt.Sprintf("%d %s", 1+r.IntN(9999), pick(r, streets)))
		if chance(r, 0.2) {
			p.street2 = ptr(fmt.Sprintf("Apt %d", 1+r.IntN(400)))
		}
		p.city, p.country = ptr(c.city), ptr(c.country)
		if c.region != "" {
			p.region = ptr(c.region)
		}
		p.zip = ptr(fmt.Sprintf("%05d", r.IntN(100000)))
	}
	return p
}

// asciiFold keeps the ASCII letters of a name (emails are ASCII); a name without any gives "donor".
func asciiFold(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		return "donor"
	}
	return b.String()
}

// addPerson stores a new person.
func (ds *dataset) addPerson(p *person) {
	ds.people = append(ds.people, p)
	ds.personByID[p.id] = p
	ds.personByMail[strings.ToLower(p.email)] = p
}

// donorAt picks an existing donor at t, or makes a new one (stored).
func (ds *dataset) donorAt(r *rand.Rand, t time.Time) *person {
	if len(ds.people) > 0 && !chance(r, 0.4) {
		for try := 0; try < 8; try++ {
			p := pick(r, ds.people)
			if p.existsAt(t) {
				return p
			}
		}
	}
	p := ds.newPerson(r, t)
	ds.addPerson(p)
	return p
}

// generateDonation draws a donation created at t, with its history: a pending donation that
// settles, a completed one refunded later, a rejected one, a comment edited after the fact. With
// history false (donations made "now" by Mutate) it is created in its final state. The donation is
// not stored yet; its donor and subscription are.
func (ds *dataset) generateDonation(r *rand.Rand, t time.Time, history bool) *donation {
	d := &donation{id: ds.newID(r, "dnt_"), created: t, origin: "form", metaData: json.RawMessage(`{}`)}
	if chance(r, 0.15) {
		d.recurring = true
		var sub *subscription
		if len(ds.subs) > 0 && chance(r, 0.6) {
			s := pick(r, ds.subs)
			if s.person.existsAt(t) && (s.campaign == nil || s.campaign.existsAt(t)) {
				sub = s
			}
		}
		if sub == nil {
			sub = &subscription{
				id: ds.newID(r, "sub_"), person: ds.donorAt(r, t), campaign: ds.campaignAt(r, t), amount: amount(r),
				frequency: pick(r, []string{"monthly", "monthly", "monthly", "quarterly", "yearly", "weekly"}), startDay: t.Day(),
			}
			sub.currency = "usd"
			if sub.campaign != nil {
				sub.currency = sub.campaign.currency
			}
			if chance(r, 0.2) {
				sub.stopDay = ptr(1 + r.IntN(28))
			}
			ds.subs = append(ds.subs, sub)
		}
		d.subscription, d.person, d.campaign, d.amount, d.currency = sub, sub.person, sub.campaign, sub.amount, sub.currency
		d.donationType = pick(r, []string{typeCard, typeCard, typeStripe, typeACH})
	} else {
		d.person = ds.donorAt(r, t)
		d.campaign = ds.campaignAt(r, t)
		d.amount = amount(r)
		d.currency = "usd"
		if d.campaign != nil {
			d.currency = d.campaign.currency
		}
		switch x := r.Float64(); {
		case x < 0.50:
			d.donationType = typeCard
		case x < 0.60:
			d.donationType = typeStripe
		case x < 0.70:
			d.donationType = typeACH
		case x < 0.82:
			d.donationType = typePaypal
		case x < 0.97:
			d.donationType = typeCash
		default:
			d.donationType = typeDipjar
		}
	}
	if c := d.campaign; c != nil && len(c.fundraisers) > 0 && chance(r, 0.7) {
		d.fundraiser = pick(r, c.fundraisers)
	}
	d.anonymous = chance(r, 0.08)
	if chance(r, 0.05) {
		d.onBehalfOf = ptr(pick(r, honorees))
	}
	if chance(r, 0.05) {
		d.notes = ptr(pick(r, notes))
	}
	if chance(r, 0.05) {
		d.ecard = &ecard{template: pick(r, ecardTemplates), recipientName: pick(r, firstNames) + " " + pick(r, lastNames),
			recipientEmail: fmt.Sprintf("friend%d@example.net", r.IntN(10000)), message: pick(r, comments)}
	}
	switch x := r.Float64(); {
	case d.donationType == typeCash || d.donationType == typeDipjar:
		d.origin = "dashboard"
	case x < 0.8:
		d.origin = "form"
	case x < 0.9:
		d.origin = "api"
	default:
		d.origin = "import"
	}
	if d.origin == "form" && len(ds.forms) > 0 {
		d.form = pick(r, ds.forms)
	}
	switch d.donationType {
	case typeCard, typeStripe, typeACH:
		d.secret = "pi_" + alnum(r, 24) + "_secret_" + alnum(r, 25)
	case typePaypal:
		d.paypalOrderID = strings.ToUpper(alnum(r, 17))
	}
	if chance(r, 0.4) {
		meta := map[string]any{"utm_source": pick(r, utmSources)}
		if e := pick(r, employers); e != "" {
			meta["custom_fields"] = map[string]any{"employer": e, "matching_gift": chance(r, 0.3)}
		}
		d.metaData, _ = json.Marshal(meta)
	}
	var comment *string
	if chance(r, 0.3) {
		comment = ptr(pick(r, comments))
	}

	later := func(after time.Time, longest time.Duration) time.Time {
		return after.Add(time.Minute + time.Duration(r.Int64N(int64(longest)))).Truncate(time.Second)
	}
	first := state{at: t, status: StatusCompleted, comment: comment}
	switch x := r.Float64(); {
	case !history:
		if d.donationType == typeACH {
			first.status = StatusPending
		}
		d.versions = []state{first}
	case x < 0.80: // completed, some of them pending first (ACH always: it takes days to clear)
		d.versions = []state{first}
		if d.donationType == typeACH || chance(r, 0.2) {
			first.status = StatusPending
			d.versions = []state{first, {at: later(t, 5*24*time.Hour), status: StatusCompleted, comment: comment}}
		}
	case x < 0.88:
		d.versions = []state{first, {at: later(t, maxEventDelay-time.Hour), status: StatusRefunded, comment: comment}}
	case x < 0.93:
		first.status = StatusRejected
		d.versions = []state{first}
		if chance(r, 0.5) {
			first.status = StatusPending
			d.versions = []state{first, {at: later(t, 2*24*time.Hour), status: StatusRejected, comment: comment}}
		}
	default:
		first.status = StatusPending
		d.versions = []state{first}
	}
	if history && chance(r, 0.03) {
		last := d.versions[len(d.versions)-1]
		if at := later(last.at, 5*24*time.Hour); at.Before(t.Add(maxEventDelay)) {
			d.versions = append(d.versions, state{at: at, status: last.status, comment: ptr(pick(r, editedComments))})
		}
	}
	return d
}

// compareCreated orders donations by (created_at, id): the order ds.donations is kept in.
func compareCreated(a, b *donation) int {
	if c := a.created.Compare(b.created); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// createdIndex is the number of donations created before t, or at or before t with through.
func (ds *dataset) createdIndex(t time.Time, through bool) int {
	return sort.Search(len(ds.donations), func(i int) bool {
		c := ds.donations[i].created
		if through {
			return c.After(t)
		}
		return !c.Before(t)
	})
}

// addDonation stores a donation in (created_at, id) order and records it on its donor.
func (ds *dataset) addDonation(d *donation) {
	k, _ := slices.BinarySearchFunc(ds.donations, d, compareCreated)
	ds.donations = slices.Insert(ds.donations, k, d)
	ds.donationByID[d.id] = d
	if d.person != nil {
		d.person.addGift(d.created)
	}
}
