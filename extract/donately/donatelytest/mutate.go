package donatelytest

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Mutate changes the given fraction of the donations that exist at Now(), deterministically from
// seed, the way donations change after they are made, and adds a few new ones (a quarter as many
// as it changes, at least one when fraction > 0), created at Now(). A changed donation gets one
// change: a pending one completes (one in five is rejected instead), a completed one is refunded
// or has its comment edited, a refunded or rejected one has its comment edited. Every change and
// every new donation has updated_at Now() (whole seconds), so that a sync following updated[gt]
// sees them; a change supersedes whatever the donation's generated history still held after
// Now(). It returns the ids of the changed and the new donations, sorted: exactly the donations
// whose updated_at Mutate set.
func (s *Server) Mutate(fraction float64, seed int64) []string {
	now := s.now().Truncate(time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mutated++
	r := rand.New(rand.NewPCG(uint64(seed), 0x3A7E_0000+s.mutated))
	ds := s.data
	existing := slices.Clone(ds.donations[:ds.createdIndex(now, true)])
	want := int(math.Round(math.Max(0, math.Min(1, fraction)) * float64(len(existing))))
	var ids []string
	// Selection sampling (Knuth's algorithm S): exactly want of the existing ones, in order.
	for k, d := range existing {
		if r.IntN(len(existing)-k) >= want-len(ids) {
			continue
		}
		ds.change(r, d, now)
		ids = append(ids, d.id)
	}
	if fraction > 0 {
		for k := 0; k < max(1, want/4); k++ {
			d := ds.generateDonation(r, now, false)
			ds.addDonation(d)
			ids = append(ids, d.id)
		}
	}
	slices.Sort(ids)
	return ids
}

// change makes one change to d at now. Call with s.mu held for writing.
func (ds *dataset) change(r *rand.Rand, d *donation, now time.Time) {
	st := d.stateAt(now)
	// The change supersedes the generated history after now.
	k := len(d.versions)
	for k > 1 && d.versions[k-1].at.After(now) {
		k--
	}
	d.versions = d.versions[:k]
	next := state{at: now, status: st.status, comment: st.comment}
	switch {
	case st.status == StatusPending && chance(r, 0.8):
		next.status = StatusCompleted
	case st.status == StatusPending:
		next.status = StatusRejected
	case st.status == StatusCompleted && chance(r, 0.5):
		next.status = StatusRefunded
	default:
		next.comment = ptr(pick(r, editedComments))
	}
	d.versions = append(d.versions, next)
}
