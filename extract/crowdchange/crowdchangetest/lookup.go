package crowdchangetest

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/ccsync/ccsync/extract/crowdchange"
)

// ceilUnix is the first whole second at or after t.
func ceilUnix(t time.Time) int64 {
	u := t.Unix()
	if t.Nanosecond() > 0 {
		u++
	}
	return u
}

// Truth is the ground truth of the transactions dated in [from, to) that exist at Now(): the
// generated ones, the example (with IncludeExample) and those created by POST or Mutate.
func (s *Server) Truth(from, to time.Time) Truth {
	now := s.opts.Now().UTC()
	g := s.gen
	t := newTally()
	s.mu.RLock()
	defer s.mu.RUnlock()
	vis := g.firstAfter(now.Unix())
	lo := min(g.firstAtOrAfter(ceilUnix(from)), vis)
	hi := min(g.firstAtOrAfter(ceilUnix(to)), vis)
	for i := lo; i < hi; i++ {
		p := g.plan(i)
		tr, _ := s.trickOf(i)
		t.addPlan(g, &p, tr)
	}
	s.entries(func(e *entry) {
		if !e.date.Before(from) && e.date.Before(to) && !e.date.After(now) {
			t.addContribution(e.id, e.contrib)
		}
	})
	return t.truth()
}

// TruthByPayout is the ground truth of the transactions whose payout, as seen at Now(), is dated
// in [from, to] (calendar dates, both inclusive) to one of accounts ("global", "user"; none means
// both).
func (s *Server) TruthByPayout(from, to time.Time, accounts []string) Truth {
	now := s.opts.Now().UTC()
	t := newTally()
	accept := func(a string) bool { return len(accounts) == 0 || slices.Contains(accounts, a) }
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.payoutMatches(from, to, accept, now, func(rf ref) {
		if rf.e != nil {
			t.addContribution(rf.e.id, rf.e.contrib)
			return
		}
		p := s.gen.plan(rf.idx)
		tr, _ := s.trickOf(rf.idx)
		t.addPlan(s.gen, &p, tr)
	})
	return t.truth()
}

// Transaction returns transaction id as GET would serve it now, and whether it exists. The
// result is a copy: changing it does not change the sandbox. It is the transaction before
// Options.Hostile's tricks and canary (see Tricked): what the data says, not how it is mangled.
func (s *Server) Transaction(id int64) (crowdchange.Transaction, bool) {
	now := s.opts.Now().UTC()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var rf ref
	switch {
	case s.example != nil && id == s.example.id:
		rf = ref{e: s.example}
	case id >= idBase && id < s.firstCreatedID():
		rf = ref{idx: id - idBase}
		if s.gen.date(rf.idx) > now.Unix() {
			return crowdchange.Transaction{}, false
		}
	case id >= s.firstCreatedID() && id < s.firstCreatedID()+int64(len(s.overlay)):
		rf = ref{e: s.overlay[id-s.firstCreatedID()]}
		if rf.e.date.After(now) {
			return crowdchange.Transaction{}, false
		}
	default:
		return crowdchange.Transaction{}, false
	}
	tx := s.txOf(rf, now)
	return deepCopy(tx), true
}

// deepCopy copies a transaction through its JSON form, so that no pointer is shared.
func deepCopy(tx crowdchange.Transaction) crowdchange.Transaction {
	b, err := json.Marshal(&tx)
	if err != nil {
		return tx
	}
	var out crowdchange.Transaction
	if err := json.Unmarshal(b, &out); err != nil {
		return tx
	}
	return out
}
