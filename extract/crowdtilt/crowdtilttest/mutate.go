package crowdtilttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Changes are what one Mutate changed, by id, each list sorted. An id is in a list when the
// record's own content (its answer, the records it embeds reduced to their ids) differs from what
// it was just before the call (at the same Now()), so that a client comparing what it read before
// and after finds exactly these.
type Changes struct {
	// Payments are the existing payments whose own members changed: status (refunds, voided
	// authorizations, a rejected payment retried with a new card, authorized payments charged
	// when a new payment tilts their campaign), card or metadata.
	Payments []string
	// NewPayments are the payments Mutate created.
	NewPayments []string
	// Campaigns are the campaigns whose own members changed: title edits, and the stats,
	// is_tilted, first_contributor and tilter (which user, not the user's content) that the
	// payments' changes move. A change of an embedded user is the user's, not the campaign's.
	Campaigns []string
	// Users are the users whose answer changed: edits (last name, profile image), a
	// verification, and the users Mutate created (also in NewUsers).
	Users    []string
	NewUsers []string
	// Silent are the ids, among the above, of records whose content changed while their
	// modification_date did not move: payments whose metadata a back office rewrote, campaigns
	// whose stats moved (as the seed's own examples show: a payment raises stats without touching
	// the campaign's modification_date), a user verified (is_verified set by POST
	// /users/:id/verification). A client needs a content hash to see them.
	Silent []string
}

// Mutate changes the records that exist at Now(), deterministically from seed, the way a
// Crowdtilt account changes between two syncs, all dated Now() (changes that move the
// modification_date move it to Now()):
//
//   - the given fraction of the existing payments get one change each: a charged one is refunded,
//     an authorized one voided (refunded), a rejected one retried with a new card (charged, or
//     authorized until its campaign tilts), a refunded one gets a note in its metadata; every
//     second one of them instead has its metadata rewritten without its modification_date moving;
//   - new payments (a quarter as many as the changed ones, at least one when fraction > 0), the
//     first to a campaign without any payment when there is one, some by new users; one that
//     tilts its campaign charges the campaign's authorized payments;
//   - the same fraction of the campaigns (at least one) get a new title;
//   - a fifth of that fraction of the users (at least one) get a new last name or profile image,
//     and one unverified user is verified (a silent change).
//
// It returns what changed. Mutate(0, …) changes nothing.
func (s *Server) Mutate(fraction float64, seed int64) Changes {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if fraction <= 0 || math.IsNaN(fraction) {
		return Changes{}
	}
	fraction = math.Min(1, fraction)
	s.mutated++
	r := rand.New(rand.NewPCG(uint64(seed), 0xC7_3A7E_0000+s.mutated))
	ds := s.data
	before := ds.snapshot(now)

	var existing []*payment
	for _, p := range ds.payments {
		if p.existsAt(now) {
			existing = append(existing, p)
		}
	}
	var live []*campaign
	for _, c := range ds.campaigns {
		if c.existsAt(now) {
			live = append(live, c)
		}
	}
	var users []*user
	for _, u := range ds.users {
		if u.existsAt(now) {
			users = append(users, u)
		}
	}
	for i, p := range sample(r, existing, int(math.Round(fraction*float64(len(existing))))) {
		p.states = supersede(p.states, now)
		if i%2 == 1 {
			ds.rewriteMetadata(r, p, now, false)
			continue
		}
		switch p.stateAt(now).status {
		case StatusAuthorized, StatusCharged:
			ds.setStatus(p, now, StatusRefunded)
		case StatusRejected:
			ds.retry(r, p, now)
		default:
			ds.rewriteMetadata(r, p, now, true)
		}
	}
	nNew := max(1, int(math.Round(fraction*float64(len(existing))))/4)
	if len(live) > 0 {
		for k := range nNew {
			c := pick(r, live)
			if k == 0 {
				for _, cc := range live {
					if len(cc.payments) == 0 {
						c = cc
						break
					}
				}
			}
			t := now.Add(-time.Duration(k+1) * 1013 * time.Microsecond)
			var payer *user
			if !chance(r, 0.3) {
				payer = ds.pickUser(r, t)
			}
			if payer == nil {
				payer = ds.newUser(r, t.Add(-time.Second), false)
			}
			ds.admit(r, ds.newPayment(r, c, t, payer), func(time.Time) time.Time { return now }, 0.05)
		}
	}
	for _, c := range sample(r, live, max(1, int(math.Round(fraction*float64(len(live)))))) {
		c.states = supersede(c.states, now)
		st := c.states[len(c.states)-1]
		st.at, st.modified = now, now
		st.title = pick(r, editedTitles) + c.states[0].title
		c.states = append(c.states, st)
	}
	edited := map[*user]bool{}
	for _, u := range sample(r, users, max(1, int(math.Round(fraction*float64(len(users))/5)))) {
		u.states = supersede(u.states, now)
		ds.editUser(r, u, now)
		edited[u] = true
	}
	for _, k := range r.Perm(len(users)) {
		u := users[k]
		if st := u.stateAt(now); !st.verified && !edited[u] {
			u.states = supersede(u.states, now)
			st.at, st.verified = now, true // modified stays
			u.states = append(u.states, st)
			break
		}
	}
	return before.diff(ds.snapshot(now))
}

// sample is n of xs (all when n >= len(xs)), in their order (Knuth's selection sampling).
func sample[T any](r *rand.Rand, xs []T, n int) []T {
	var out []T
	for k, x := range xs {
		if r.IntN(len(xs)-k) < n-len(out) {
			out = append(out, x)
		}
	}
	return out
}

// supersede drops the states that begin after now: a change at now replaces what a generated
// history still held.
func supersede[S stamped](states []S, now time.Time) []S {
	k := len(states)
	for k > 1 && states[k-1].begins().After(now) {
		k--
	}
	return states[:k]
}

// setStatus gives p the status at now (its modification_date moves); a refund needs an
// authorized or charged payment. Call with s.mu held for writing.
func (ds *dataset) setStatus(p *payment, now time.Time, status string) bool {
	p.states = supersede(p.states, now)
	st := p.stateAt(now)
	if status == StatusRefunded && st.status != StatusAuthorized && st.status != StatusCharged {
		return false
	}
	st.at, st.modified, st.status = now, now, status
	p.push(st)
	return true
}

// retry retries a rejected payment with a new card of its user (PUT …/payments/:id with a
// card_id, then the processor's answer): charged when its campaign has tilted, else authorized.
func (ds *dataset) retry(r *rand.Rand, p *payment, now time.Time) {
	st := p.stateAt(now)
	st.at, st.modified = now, now
	st.card = ds.newCard(r, p.user, maxTime(p.user.created, now.Add(-time.Minute)))
	st.status = StatusAuthorized
	if p.campaign.tiltedAt(now) {
		st.status = StatusCharged
	}
	p.push(st)
}

// rewriteMetadata adds a member to p's metadata (the seed: an update overwrites the whole
// metadata): a note, dated (the modification_date moves to now) or not (a back office's
// reconciliation batch, written without touching the date).
func (ds *dataset) rewriteMetadata(r *rand.Rand, p *payment, now time.Time, dated bool) {
	st := p.stateAt(now)
	m := map[string]any{}
	_ = json.Unmarshal(st.metadata, &m)
	if dated {
		m["note"] = pick(r, comments)
		st.modified = now
	} else {
		m["settlement_batch"] = fmt.Sprintf("B%06d", r.IntN(1_000_000))
	}
	st.at = now
	st.metadata = mustJSON(m)
	p.push(st)
}

// snapshot is what every record is at a moment: each campaign's own content (its answer with its
// embedded users reduced to their ids: a user's change is the user's), each user's answer, each
// payment's own state, and each record's modification_date.
type snapshot struct {
	campaigns, users map[string][]byte
	payments         map[string]paymentState
	modified         map[string]time.Time
}

func (ds *dataset) snapshot(now time.Time) snapshot {
	rd, own := newRenderer(now), newRenderer(now)
	own.refs = true
	sn := snapshot{campaigns: map[string][]byte{}, users: map[string][]byte{}, payments: map[string]paymentState{}, modified: map[string]time.Time{}}
	for _, c := range ds.campaigns {
		if c.existsAt(now) {
			sn.campaigns[c.id] = own.campaign(c)
			sn.modified[c.id] = c.stateAt(now).modified
		}
	}
	for _, u := range ds.users {
		if u.existsAt(now) {
			sn.users[u.id] = rd.user(u)
			sn.modified[u.id] = u.stateAt(now).modified
		}
	}
	for _, p := range ds.payments {
		if p.existsAt(now) {
			st := p.stateAt(now)
			sn.payments[p.id] = st
			sn.modified[p.id] = st.modified
		}
	}
	return sn
}

// diff is what changed from sn to after.
func (sn snapshot) diff(after snapshot) Changes {
	var ch Changes
	silent := func(id string) {
		if sn.modified[id].Equal(after.modified[id]) {
			ch.Silent = append(ch.Silent, id)
		}
	}
	for id, st := range after.payments {
		old, ok := sn.payments[id]
		switch {
		case !ok:
			ch.NewPayments = append(ch.NewPayments, id)
		case old.status != st.status || old.card != st.card || !old.modified.Equal(st.modified) || !bytes.Equal(old.metadata, st.metadata):
			ch.Payments = append(ch.Payments, id)
			silent(id)
		}
	}
	for id, b := range after.campaigns {
		if old, ok := sn.campaigns[id]; !ok || !bytes.Equal(old, b) {
			ch.Campaigns = append(ch.Campaigns, id)
			if ok {
				silent(id)
			}
		}
	}
	for id, b := range after.users {
		old, ok := sn.users[id]
		if !ok {
			ch.NewUsers = append(ch.NewUsers, id)
		}
		if !ok || !bytes.Equal(old, b) {
			ch.Users = append(ch.Users, id)
			if ok {
				silent(id)
			}
		}
	}
	for _, l := range []*[]string{&ch.Payments, &ch.NewPayments, &ch.Campaigns, &ch.Users, &ch.NewUsers, &ch.Silent} {
		slices.Sort(*l)
	}
	return ch
}
