package crowdtilttest_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract/crowdtilt/crowdtilttest"
)

// seen is what a walk read, by id: each payment's own members (its embedded campaign and user
// left out, its card by id), each campaign's (its users by id), and each user as served.
type seen struct {
	payments, campaigns, users map[string][]byte
	modified                   map[string]string
}

func (w walk) seen(t *testing.T) seen {
	t.Helper()
	s := seen{payments: map[string][]byte{}, campaigns: map[string][]byte{}, users: map[string][]byte{}, modified: map[string]string{}}
	addUser := func(raw json.RawMessage) {
		if string(raw) == "null" || raw == nil {
			return
		}
		r := decode(t, raw)
		if old, ok := s.users[r.ID]; ok && !bytes.Equal(old, raw) {
			t.Fatalf("user %s embedded twice, differently", r.ID)
		}
		s.users[r.ID] = raw
		s.modified[r.ID] = r.ModificationDate
	}
	for _, raw := range w.campaigns {
		r := decode(t, raw)
		var own map[string]json.RawMessage
		if err := json.Unmarshal(raw, &own); err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"admin", "first_contributor", "tilter"} {
			addUser(own[m])
			if string(own[m]) != "null" {
				own[m] = json.RawMessage(`{"id":` + string(member(t, own[m], "id")) + `}`)
			}
		}
		s.campaigns[r.ID], _ = json.Marshal(own)
		s.modified[r.ID] = r.ModificationDate
		for _, praw := range w.payments[r.ID] {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(praw, &m); err != nil {
				t.Fatal(err)
			}
			addUser(m["user"])
			addUser(member(t, m["card"], "user"))
			m["card"] = member(t, m["card"], "id")
			delete(m, "campaign")
			delete(m, "user")
			own, _ := json.Marshal(m)
			p := decode(t, praw)
			s.payments[p.ID] = own
			s.modified[p.ID] = p.ModificationDate
		}
	}
	return s
}

// changed are the ids whose bytes differ between two readings (new ones included), sorted.
func changed(before, after map[string][]byte) (changed, added []string) {
	for id, b := range after {
		old, ok := before[id]
		if !ok {
			added = append(added, id)
		}
		if !ok || !bytes.Equal(old, b) {
			changed = append(changed, id)
		}
	}
	slices.Sort(changed)
	slices.Sort(added)
	return changed, added
}

// What Mutate reports is exactly what a client reading before and after finds changed: payments
// (own members), new payments, campaigns, users; the silent changes keep their
// modification_date, the others have Now(); the truth follows; the same seed makes the same
// changes.
func TestMutate(t *testing.T) {
	t.Parallel()
	clk := newClock(later)
	opts := crowdtilttest.Options{Seed: 15, Campaigns: 10, Payments: 400, From: rangeFrom, To: rangeTo, Now: clk.Now}
	s, base := sandbox(t, opts)
	c := newClient(base)
	before := c.walk(t, 100).seen(t)
	truthBefore := s.Truth()
	clk.Add(90 * time.Minute)
	ch := s.Mutate(0.1, 7)
	after := c.walk(t, 100).seen(t)

	gotPayments, gotNew := changed(before.payments, after.payments)
	gotPayments = slices.DeleteFunc(gotPayments, func(id string) bool { return slices.Contains(gotNew, id) })
	gotCampaigns, _ := changed(before.campaigns, after.campaigns)
	gotUsers, gotNewUsers := changed(before.users, after.users)
	for _, tc := range []struct {
		name      string
		got, want []string
	}{
		{"payments", gotPayments, ch.Payments},
		{"new payments", gotNew, ch.NewPayments},
		{"campaigns", gotCampaigns, ch.Campaigns},
		{"users", gotUsers, ch.Users},
		{"new users", gotNewUsers, ch.NewUsers},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: the walks found %d changed, Mutate reports %d", tc.name, len(tc.got), len(tc.want))
		}
	}
	if len(ch.Payments) < 40 || len(ch.NewPayments) != 10 || len(ch.Campaigns) == 0 || len(ch.Users) == 0 || len(ch.NewUsers) == 0 {
		t.Errorf("changes: %d payments, %d new, %d campaigns, %d users, %d new users", len(ch.Payments), len(ch.NewPayments),
			len(ch.Campaigns), len(ch.Users), len(ch.NewUsers))
	}
	now := crowdtilttest.FormatTime(clk.Now())
	silentKinds := map[string]int{}
	for _, l := range [][]string{ch.Payments, ch.Campaigns, ch.Users} {
		for _, id := range l {
			if slices.Contains(ch.NewUsers, id) {
				continue
			}
			silent := slices.Contains(ch.Silent, id)
			switch {
			case silent && after.modified[id] != before.modified[id]:
				t.Errorf("%s is silent, yet its modification_date moved from %s to %s", id, before.modified[id], after.modified[id])
			case !silent && after.modified[id] != now:
				t.Errorf("%s changed with modification_date %s, want %s", id, after.modified[id], now)
			case silent:
				silentKinds[id[:3]]++
			}
		}
	}
	if silentKinds["CON"] == 0 || silentKinds["CMP"] == 0 || silentKinds["USR"] != 1 || len(ch.Silent) != silentKinds["CON"]+silentKinds["CMP"]+1 {
		t.Errorf("silent changes by kind %v of %d", silentKinds, len(ch.Silent))
	}
	tr := s.Truth()
	if tr.Count != truthBefore.Count+len(ch.NewPayments) || tr.Cents[crowdtilttest.StatusRefunded] <= truthBefore.Cents[crowdtilttest.StatusRefunded] {
		t.Errorf("truth before %+v\nafter %+v", truthBefore.Payments, tr.Payments)
	}
	// Status changes of the kinds Mutate makes.
	statuses := map[[2]string]int{}
	for _, id := range ch.Payments {
		var b, a struct{ Status string }
		_ = json.Unmarshal(before.payments[id], &b)
		_ = json.Unmarshal(after.payments[id], &a)
		statuses[[2]string{b.Status, a.Status}]++
	}
	for _, k := range [][2]string{{"charged", "refunded"}, {"rejected", "charged"}} {
		if statuses[k] == 0 {
			t.Errorf("no %s → %s change: %v", k[0], k[1], statuses)
		}
	}

	twin := crowdtilttest.New(opts)
	if again := twin.Mutate(0.1, 7); !reflect.DeepEqual(again, ch) {
		t.Error("the same Mutate on the same data changed other records")
	}
	if none := twin.Mutate(0, 7); !reflect.DeepEqual(none, crowdtilttest.Changes{}) {
		t.Errorf("Mutate(0) changed %+v", none)
	}
}
