package crowdtilt

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdtilt"
	"github.com/ccsync/ccsync/load/verify"
	crowdtiltschema "github.com/ccsync/ccsync/schemas/crowdtilt"
)

var _ extract.WindowFetch = (*Fetched)(nil)

// Fetched is one campaign's walk: the campaign as the listing gave it, its payments (a
// backfill's: those created in the window), and the users they embed, each once.
type Fetched struct {
	Window extract.Window
	// Campaign is the campaign's record; nil for verify's window, which spans every campaign.
	Campaign *crowdtilt.Record
	Payments []crowdtilt.Record
	Users    []crowdtilt.Record
	// Quarantined are the items without a usable id: the payments listing's, and, in the plan's
	// first window, the campaigns listing's.
	Quarantined []extract.Quarantined
	// Pages and Duplicates are the payments listing's; the plan's first window also counts the
	// campaigns listing's pages.
	Pages, Duplicates int
}

// Counts implements extract.WindowFetch: every record read, the campaign, its payments and its
// users.
func (f *Fetched) Counts() extract.WindowCounts {
	n := len(f.Payments) + len(f.Users)
	if f.Campaign != nil {
		n++
	}
	return extract.WindowCounts{Window: f.Window, Records: n, Pages: f.Pages, Duplicates: f.Duplicates}
}

// Fetch walks one planned campaign: its payments, then the users that they and the campaign
// embed only as references (the API embeds full users: usually none).
func (s *Source) Fetch(ctx context.Context, w extract.Window) (extract.WindowFetch, error) {
	switch w.Stream {
	case StreamWalk, StreamCreated:
	case streamVerify:
		return s.fetchVerify(ctx, w)
	default:
		return nil, fmt.Errorf("crowdtilt: no stream %q", w.Stream)
	}
	c, ok := s.campaigns[w.Account]
	if !ok {
		return nil, fmt.Errorf("crowdtilt: campaign %s was not listed by this run's plan", w.Account)
	}
	res, err := s.api.Payments(ctx, c.ID)
	if err != nil {
		return nil, err // the client's errors name the campaign
	}
	payments := res.Records
	if w.Stream == StreamCreated {
		payments = createdIn(payments, w.Start, w.End)
	}
	users, err := s.resolve(ctx, crowdtilt.CollectUsers([]crowdtilt.Record{c}, payments))
	if err != nil {
		return nil, err
	}
	f := &Fetched{Window: w, Campaign: &c, Payments: payments, Users: users, Quarantined: res.Quarantined,
		Pages: res.Pages, Duplicates: res.Duplicates}
	if w == s.firstWindow {
		f.Quarantined = append(f.Quarantined, s.listingQuarantine...)
		f.Pages += s.listingPages
	}
	return f, nil
}

// createdIn keeps the payments whose creation_date is in [from, to).
func createdIn(payments []crowdtilt.Record, from, to time.Time) []crowdtilt.Record {
	var out []crowdtilt.Record
	for _, p := range payments {
		if !p.CreationDate.Before(from) && p.CreationDate.Before(to) {
			out = append(out, p)
		}
	}
	return out
}

// resolve replaces the users embedded as mere references by the users themselves (User), each
// fetched once per run.
func (s *Source) resolve(ctx context.Context, users []crowdtilt.Record) ([]crowdtilt.Record, error) {
	for i, u := range users {
		if !u.IsReference() {
			continue
		}
		s.usersMu.Lock()
		full, ok := s.users[u.ID]
		s.usersMu.Unlock()
		if !ok {
			var err error
			if full, err = s.api.User(ctx, u.ID); err != nil {
				return nil, err
			}
			s.usersMu.Lock()
			s.users[u.ID] = full
			s.usersMu.Unlock()
		}
		users[i] = full
	}
	return users, nil
}

// verifyConcurrency bounds the payment listings verify's window reads at once.
const verifyConcurrency = 4

// VerifyWindows is one window over r's range: every payment created in it, whatever its campaign
// (the API cannot be asked for a range: verify lists every campaign's payments and keeps the
// range's).
func (s *Source) VerifyWindows(r config.Run) ([]extract.Window, error) {
	return []extract.Window{{Stream: streamVerify, Start: r.From, End: r.RangeEnd()}}, nil
}

// fetchVerify lists every campaign's payments and keeps those created in w.
func (s *Source) fetchVerify(ctx context.Context, w extract.Window) (*Fetched, error) {
	campaigns, err := s.api.Campaigns(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the Crowdtilt campaigns: %w", err)
	}
	f := &Fetched{Window: w, Quarantined: campaigns.Quarantined}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(verifyConcurrency)
	for _, c := range campaigns.Records {
		g.Go(func() error {
			res, err := s.api.Payments(gctx, c.ID)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			f.Payments = append(f.Payments, createdIn(res.Records, w.Start, w.End)...)
			f.Pages += res.Pages
			f.Duplicates += res.Duplicates
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return f, nil
}

// Amounts are the money verify sums per currency.
func (s *Source) Amounts() []string { return []string{"amount"} }

// Facts are a window's payments as verify compares them: id, currency, amount, and their content
// hash in place of their raw JSON: a payment's JSON embeds its campaign, whose stats change with
// other payments, while the payment's own version does not.
func (s *Source) Facts(f extract.WindowFetch) []verify.Fact {
	fetched, ok := f.(*Fetched)
	if !ok {
		panic(fmt.Sprintf("crowdtilt: a %T is not a Crowdtilt window", f))
	}
	out := make([]verify.Fact, 0, len(fetched.Payments))
	for _, p := range fetched.Payments {
		var amount string
		if p.Payment != nil && p.Payment.Amount != nil {
			amount = crowdtilt.DecimalString(*p.Payment.Amount)
		}
		out = append(out, verify.NewFact(p.ID, crowdtilt.Currency, []byte(s.hasher.of(&p)), amount))
	}
	return out
}

// WarehouseQuery reads the current payments created in [from, to), and those whose creation date
// could not be read, with their content hash (see Facts).
func (s *Source) WarehouseQuery(ref func(string) string, from, to time.Time) string {
	return fmt.Sprintf(`SELECT p.id, p.currency, CAST(p.amount AS STRING), p.%s, CAST(NULL AS STRING), CAST(p.creation_date IS NULL AS STRING)
FROM %s AS p
WHERE (p.creation_date >= TIMESTAMP '%s' AND p.creation_date < TIMESTAMP '%s') OR p.creation_date IS NULL`,
		crowdtiltschema.ColContentHash, ref(crowdtiltschema.Payments+"_current"),
		from.UTC().Format("2006-01-02 15:04:05"), to.UTC().Format("2006-01-02 15:04:05"))
}
