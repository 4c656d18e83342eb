package crowdtilt_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdtilt"
	"github.com/ccsync/ccsync/extract/crowdtilt/crowdtilttest"
	"golang.org/x/sync/errgroup"
)

// later is the sandboxes' clock: in the afternoon, so that moving it by minutes crosses no
// campaign's expiration (at noon).
var later = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

// settableClock is a clock a test moves, in whole seconds.
type settableClock struct{ unix atomic.Int64 }

func newSettableClock(t time.Time) *settableClock {
	c := &settableClock{}
	c.unix.Store(t.Unix())
	return c
}

func (c *settableClock) Now() time.Time { return time.Unix(c.unix.Load(), 0).UTC() }

func (c *settableClock) Add(d time.Duration) { c.unix.Add(int64(d / time.Second)) }

// sandboxClient is a client of a sandbox started by startSandbox that never sleeps.
func sandboxClient(t *testing.T, url string, l *logs) *crowdtilt.Client {
	t.Helper()
	c, err := crowdtilt.NewClient(testConfig(url), testAPI(), l.entry, quiet(&sleepRecorder{})...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startSandbox serves a sandbox with the test credentials.
func startSandbox(t *testing.T, opts crowdtilttest.Options) (*crowdtilttest.Server, string) {
	t.Helper()
	opts.Key, opts.Secret = testKey, testSecret
	s, ts := crowdtilttest.Start(opts)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// synced is what one walk read.
type synced struct {
	campaigns []crowdtilt.Record
	payments  map[string][]crowdtilt.Record // by campaign id
	users     []crowdtilt.Record
	requests  int
}

// walk reads every campaign, then the payments of each with workers goroutines, then collects the
// users the records embed, as a sync does.
func walk(t *testing.T, c *crowdtilt.Client, workers int) synced {
	t.Helper()
	ctx := context.Background()
	res, err := c.Campaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := synced{campaigns: res.Records, payments: map[string][]crowdtilt.Record{}, requests: res.Requests}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, camp := range res.Records {
		g.Go(func() error {
			pres, err := c.Payments(gctx, camp.ID)
			if err != nil {
				return err
			}
			if len(pres.Quarantined) > 0 || pres.Duplicates > 0 {
				t.Errorf("campaign %s: %d quarantined, %d duplicates", camp.ID, len(pres.Quarantined), pres.Duplicates)
			}
			mu.Lock()
			s.payments[camp.ID] = pres.Records
			s.requests += pres.Requests
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	all := [][]crowdtilt.Record{s.campaigns}
	for _, camp := range s.campaigns {
		all = append(all, s.payments[camp.ID])
	}
	s.users = crowdtilt.CollectUsers(all...)
	return s
}

// hashes are each record's content hash by id.
func (s synced) hashes() (payments, campaigns, users map[string]string) {
	payments, campaigns, users = map[string]string{}, map[string]string{}, map[string]string{}
	for _, r := range s.campaigns {
		campaigns[r.ID] = r.ContentHash()
		for _, p := range s.payments[r.ID] {
			payments[p.ID] = p.ContentHash()
		}
	}
	for _, u := range s.users {
		users[u.ID] = u.ContentHash()
	}
	return payments, campaigns, users
}

// TestFaultyWalkMatchesTruth walks a sandbox of 20 campaigns and 1000 payments (campaigns without
// payments, with exactly one full page, with several pages) with faults on (429, 500, 502, 503,
// truncated bodies) and four workers, and compares what it read with the sandbox's ground truth:
// every payment once, count and cents (and fees) per status, payments and cents per campaign, the
// campaigns and the users; and no card data or credential anywhere.
func TestFaultyWalkMatchesTruth(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t, crowdtilttest.Options{Seed: 7, Campaigns: 20, Payments: 1000, Faults: crowdtilttest.Faults{Rate: 0.3},
		Now: func() time.Time { return later }})
	l := newLogs()
	c := sandboxClient(t, url, l)
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := walk(t, c, 4)
	truth := sb.Truth()
	shapes := map[string]int{}
	for _, n := range truth.PerCampaign {
		switch {
		case n == 0:
			shapes["empty"]++
		case n == crowdtilt.PerPage:
			shapes["one full page"]++
		case n > crowdtilt.PerPage:
			shapes["several pages"]++
		}
	}
	if len(shapes) != 3 {
		t.Errorf("campaigns by shape %v: want some empty, one with one full page, some with several pages", shapes)
	}

	var got, campaigns []string
	count := map[string]int{}
	cents, userFees, adminFees := map[string]int64{}, map[string]int64{}, map[string]int64{}
	var everything strings.Builder
	everything.Grow(16 << 20)
	mid := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	since := 0
	for _, camp := range s.campaigns {
		campaigns = append(campaigns, camp.ID)
		everything.Write(camp.Raw)
		var n int
		var sum int64
		for _, r := range s.payments[camp.ID] {
			if r.Err != nil {
				t.Errorf("%s: %v", r.ID, r.Err)
			}
			p := r.Payment
			got = append(got, r.ID)
			count[*p.Status]++
			cents[*p.Status] += *p.Amount
			userFees[*p.Status] += *p.UserFeeAmount
			adminFees[*p.Status] += *p.AdminFeeAmount
			n++
			sum += *p.Amount
			if !r.CreationDate.Before(mid) {
				since++
			}
			if r.CampaignID != camp.ID || p.CampaignID() != camp.ID || p.UserID() == "" {
				t.Errorf("%s: campaign %s / %s, user %q", r.ID, r.CampaignID, p.CampaignID(), p.UserID())
			}
			everything.Write(r.Raw)
			if r.ID == truth.IDs[0] || *p.Status == crowdtilttest.StatusRejected {
				typed, _ := json.Marshal(p) // a sample of the typed models (all of them would double the text)
				everything.Write(typed)
			}
		}
		if n != truth.PerCampaign[camp.ID] || sum != truth.CentsPerCampaign[camp.ID] {
			t.Errorf("campaign %s: %d payments, %d cents; truth %d, %d", camp.ID, n, sum, truth.PerCampaign[camp.ID], truth.CentsPerCampaign[camp.ID])
		}
	}
	slices.Sort(got)
	slices.Sort(campaigns)
	if !slices.Equal(got, truth.IDs) || !slices.Equal(campaigns, truth.Campaigns) || truth.Count != 1000 {
		t.Fatalf("read %d payments of %d campaigns; the sandbox holds %d of %d (or not the same ones)", len(got), len(campaigns), len(truth.IDs), len(truth.Campaigns))
	}
	for _, st := range crowdtilttest.Statuses() {
		if count[st] != truth.Payments[st] || cents[st] != truth.Cents[st] || userFees[st] != truth.UserFeeCents[st] || adminFees[st] != truth.AdminFeeCents[st] {
			t.Errorf("%s: %d payments, %d cents, fees %d and %d; truth %d, %d, %d, %d", st, count[st], cents[st], userFees[st], adminFees[st],
				truth.Payments[st], truth.Cents[st], truth.UserFeeCents[st], truth.AdminFeeCents[st])
		}
	}
	if want := sb.TruthCreated(mid, later).Count; since != want {
		t.Errorf("%d payments created since %s, truth %d", since, mid.Format(time.DateOnly), want)
	}
	if ids := ids(s.users); len(ids) != len(truth.Users) || !slices.Equal(slices.Sorted(slices.Values(ids)), truth.Users) {
		t.Errorf("%d users, truth %d", len(ids), len(truth.Users))
	}
	for _, u := range s.users {
		if u.IsReference() || u.Err != nil || u.User.Email == nil {
			t.Fatalf("user %s: reference %v, err %v", u.ID, u.IsReference(), u.Err)
		}
		everything.Write(u.Raw)
	}
	// A payment as the sandbox holds it, field by field.
	for _, id := range truth.IDs[:20] {
		held, _ := sb.Payment(id)
		var r crowdtilt.Record
		for _, p := range s.payments[held.CampaignID] {
			if p.ID == id {
				r = p
			}
		}
		p := r.Payment
		if *p.Status != held.Status || *p.Amount != held.Amount || *p.UserFeeAmount != held.UserFeeAmount || *p.AdminFeeAmount != held.AdminFeeAmount ||
			!r.CreationDate.Equal(held.CreationDate) || !r.ModificationDate.Equal(held.ModificationDate) || p.UserID() != held.UserID ||
			string(p.Metadata) != string(held.Metadata) {
			t.Errorf("payment %s: read %+v, held %+v", id, r, held)
		}
	}
	st, sst := c.Stats(), sb.Stats()
	if st.Retries == 0 || st.InvalidBodies == 0 || st.ServerErrors == 0 || st.Throttled == 0 || sst.TotalFaults() != st.Retries {
		t.Errorf("client stats %+v, sandbox faults %v: the faults were not all retried", st, sst.Faults)
	}
	if int64(s.requests) != st.Requests-1 || st.Pages != int64(truth.Pages(crowdtilt.PerPage))+1 {
		t.Errorf("%d requests, stats %+v, %d pages in a walk", s.requests, st, truth.Pages(crowdtilt.PerPage))
	}
	everything.WriteString(l.all())
	text := everything.String()
	secrets := map[string]bool{}
	for _, secret := range sb.Secrets() {
		secrets[secret] = true
	}
	// Every card token and digit run of the text, looked up among the sandbox's card data (one
	// pass, where a strings.Contains per secret would read the text thousands of times).
	if leaked := cardDataIn(text, secrets); leaked {
		t.Fatalf("card data of the sandbox leaked")
	}
	if len(secrets) < truth.Count/3 {
		t.Errorf("only %d card secrets in the sandbox", len(secrets))
	}
	for _, leak := range []string{testKey, testSecret, `"security_code"`, `"number"`, `"cards/CCP`} {
		if strings.Contains(text, leak) {
			t.Fatalf("%q leaked", leak)
		}
	}
}

// cardDataIn reports whether a word of text that may be a card token ("CCP" and hex digits) or
// a card number (digits), taken whole, is one of secrets.
func cardDataIn(text string, secrets map[string]bool) bool {
	isHex := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' }
	for i := 0; i < len(text); {
		j := i
		switch {
		case strings.HasPrefix(text[i:], "CCP"):
			for j = i + 3; j < len(text) && isHex(text[j]); j++ {
			}
		case text[i] >= '0' && text[i] <= '9':
			for ; j < len(text) && text[j] >= '0' && text[j] <= '9'; j++ {
			}
		default:
			i++
			continue
		}
		if secrets[text[i:j]] {
			return true
		}
		i = j
	}
	return false
}

// A sync that changes nothing costs exactly its campaign pages and payment pages (no user is
// fetched: payments embed them in full), and finds no change.
func TestNoChangeWalkRequests(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t, crowdtilttest.Options{Seed: 8, Campaigns: 8, Payments: 300, Now: func() time.Time { return later }})
	c := sandboxClient(t, url, newLogs())
	first := walk(t, c, 2)
	before := sb.Stats().Requests
	second := walk(t, c, 2)
	pages := sb.Truth().Pages(crowdtilt.PerPage)
	if n := sb.Stats().Requests - before; n != int64(pages) || second.requests != pages || first.requests != pages {
		t.Errorf("a walk took %d and %d requests (sandbox: %d), want %d: the campaign pages and payment pages", first.requests, second.requests, n, pages)
	}
	p1, c1, u1 := first.hashes()
	p2, c2, u2 := second.hashes()
	for _, m := range []struct {
		name    string
		a, b    map[string]string
		atLeast int
	}{{"payments", p1, p2, 300}, {"campaigns", c1, c2, 8}, {"users", u1, u2, 100}} {
		if len(m.a) < m.atLeast || len(m.a) != len(m.b) {
			t.Errorf("%s: %d, then %d", m.name, len(m.a), len(m.b))
		}
		for id, h := range m.a {
			if m.b[id] != h {
				t.Errorf("%s %s changed without a change", m.name, id)
			}
		}
	}
	for _, u := range second.users {
		if u.IsReference() {
			t.Errorf("user %s is embedded as a reference: a sync would fetch it", u.ID)
		}
	}
	// A user read embedded and read alone is the same version.
	for _, u := range second.users[:3] {
		alone, err := c.User(context.Background(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if alone.ContentHash() != u.ContentHash() || string(alone.Raw) != string(u.Raw) {
			t.Errorf("user %s: %s alone, %s embedded", u.ID, alone.Raw, u.Raw)
		}
	}
	if _, err := c.User(context.Background(), "USR00000000000010000000000000000000"); !errors.Is(err, crowdtilt.ErrUnknownID) {
		t.Errorf("an unknown user: %v", err)
	}
}

// changedIDs are the ids whose hash differs between two walks, and those new in the second.
func changedIDs(before, after map[string]string) (changed, added []string) {
	for id, h := range after {
		old, ok := before[id]
		switch {
		case !ok:
			added = append(added, id)
		case old != h:
			changed = append(changed, id)
		}
	}
	slices.Sort(changed)
	slices.Sort(added)
	return changed, added
}

// After mid-run changes (refunds, retried payments, new payments and users, title edits, and
// changes that do not move modification_date), a walk with faults on finds by content hash
// exactly what changed, and what it read matches the changed truth.
func TestChangesFoundByHash(t *testing.T) {
	t.Parallel()
	clk := newSettableClock(later)
	sb, url := startSandbox(t, crowdtilttest.Options{Seed: 9, Campaigns: 8, Payments: 300, Now: clk.Now,
		Faults: crowdtilttest.Faults{Rate: 0.2}})
	c := sandboxClient(t, url, newLogs())
	before := walk(t, c, 3)
	p1, c1, u1 := before.hashes()
	clk.Add(90 * time.Minute)
	ch := sb.Mutate(0.1, 5)
	after := walk(t, c, 3)
	p2, c2, u2 := after.hashes()
	// The campaigns keep their order: a walk checkpointed after a campaign resumes at the next.
	if !slices.Equal(ids(before.campaigns), ids(after.campaigns)[:len(before.campaigns)]) {
		t.Errorf("the campaigns' order changed: %v, then %v", ids(before.campaigns), ids(after.campaigns))
	}

	payments, newPayments := changedIDs(p1, p2)
	campaigns, newCampaigns := changedIDs(c1, c2)
	users, newUsers := changedIDs(u1, u2)
	for _, tc := range []struct {
		name      string
		got, want []string
	}{
		{"payments", payments, ch.Payments},
		{"new payments", newPayments, ch.NewPayments},
		{"campaigns", campaigns, ch.Campaigns},
		{"new campaigns", newCampaigns, nil},
		{"users", slices.Sorted(slices.Values(append(users, newUsers...))), ch.Users},
		{"new users", newUsers, ch.NewUsers},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: the hashes found %v, Mutate changed %v", tc.name, tc.got, tc.want)
		}
	}
	// The silent changes: the hash sees them, modification_date does not.
	modified := map[string]time.Time{}
	for _, r := range after.campaigns {
		modified[r.ID] = r.ModificationDate
		for _, p := range after.payments[r.ID] {
			modified[p.ID] = p.ModificationDate
		}
	}
	for _, u := range after.users {
		modified[u.ID] = u.ModificationDate
	}
	if len(ch.Silent) == 0 {
		t.Fatal("Mutate made no silent change")
	}
	for _, id := range ch.Silent {
		if !modified[id].Before(clk.Now()) {
			t.Errorf("%s: a silent change, yet modification_date %v", id, modified[id])
		}
	}
	truth := sb.Truth()
	count := map[string]int{}
	cents := map[string]int64{}
	for _, ps := range after.payments {
		for _, r := range ps {
			count[*r.Payment.Status]++
			cents[*r.Payment.Status] += *r.Payment.Amount
		}
	}
	for _, st := range crowdtilttest.Statuses() {
		if count[st] != truth.Payments[st] || cents[st] != truth.Cents[st] {
			t.Errorf("%s: %d payments, %d cents; truth %d, %d", st, count[st], cents[st], truth.Payments[st], truth.Cents[st])
		}
	}
}

// Wrong credentials stop at once: ErrForbidden after exactly one request, an error that says
// where the credentials come from and holds neither of them.
func TestWrongCredentials(t *testing.T) {
	t.Parallel()
	sb, url := startSandbox(t, crowdtilttest.Options{Seed: 10, Campaigns: 3, Payments: 30, Now: func() time.Time { return later }})
	for _, cfg := range []config.Crowdtilt{
		{URL: url, Key: testKey, Secret: "another_secret_123"},
		{URL: url, Key: "another_key_123", Secret: testSecret},
	} {
		l := newLogs()
		c, err := crowdtilt.NewClient(cfg, config.API{}, l.entry, quiet(&sleepRecorder{})...)
		if err != nil {
			t.Fatal(err)
		}
		for _, call := range []func() error{
			func() error { return c.Check(context.Background()) },
			func() error { _, err := c.Campaigns(context.Background()); return err },
			func() error { _, err := c.Payments(context.Background(), "CMP1"); return err },
			func() error { _, err := c.User(context.Background(), "USR1"); return err },
		} {
			before := sb.Stats().Requests
			err := call()
			if !errors.Is(err, extract.ErrForbidden) || extract.IsTransient(err) {
				t.Fatalf("err = %v, want ErrForbidden", err)
			}
			if n := sb.Stats().Requests - before; n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			msg := err.Error()
			if !strings.Contains(msg, config.CrowdtiltKeyEnv) || strings.Contains(msg, "another_") || strings.Contains(msg, testSecret) ||
				strings.Contains(l.all(), "another_") {
				t.Errorf("error %q", msg)
			}
		}
	}
}
