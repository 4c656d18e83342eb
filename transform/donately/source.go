// Package donately assembles the Donately source the run loop (package load/pipeline) and verify
// (package load/verify) run: windows over the donations' created_at (backfill) and updated_at
// (sync), the campaigns and people changed in the run's range, fetched by the Donately client
// (package extract/donately), turned into rows of the tables schemas declares for Donately.
//
// Streams (donatelyschema.Name): "created" is a backfill's donations by created_at, in windows of
// --window; "updated" is a sync's donations by updated_at, from the stream's own watermark (else
// the created stream's, else --start) to now minus --lag, so refunds and status changes arrive
// without a look-back; "campaigns" and "people" are one window per run over updated_at (the API
// lists them whole; the client keeps the window's): a backfill's window starts at the Unix epoch,
// so everything that existed at its end is read once, and a sync's continues from the watermark.
package donately

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/donately"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/load/verify"
	"github.com/ccsync/ccsync/schemas"
	donatelyschema "github.com/ccsync/ccsync/schemas/donately"
	"github.com/ccsync/ccsync/transform"
)

// The streams, as schemas declares them.
const (
	StreamCreated   extract.Stream = "created"
	StreamUpdated   extract.Stream = "updated"
	StreamCampaigns extract.Stream = "campaigns"
	StreamPeople    extract.Stream = "people"
)

// epoch starts a backfill's campaigns and people window: everything updated before its end.
var epoch = time.Unix(0, 0).UTC()

// Lister is what the source needs of the API: *donately.Client.
type Lister interface {
	Donations(ctx context.Context, f donately.Filter) (*donately.Result, error)
	Campaigns(ctx context.Context, f donately.Filter) (*donately.Result, error)
	People(ctx context.Context, f donately.Filter) (*donately.Result, error)
	Stats() extract.Stats
}

var _ Lister = (*donately.Client)(nil)

// Source is Donately as the run loop and verify see it.
type Source struct {
	api Lister
	// redact is what verify does to the API's raw JSON before comparing it (ComparePII).
	redact func([]byte) []byte
}

// NewSource returns the Donately source reading through api.
func NewSource(api Lister) *Source { return &Source{api: api, redact: transform.Unredacted} }

// Name is donatelyschema.Name.
func (s *Source) Name() string { return donatelyschema.Name }

// Records names Donately's records in summaries.
func (s *Source) Records() string { return "records" }

// Stats are the client's counters.
func (s *Source) Stats() extract.Stats { return s.api.Stats() }

// PlanBackfill plans the donations created in r's range, in windows of r.Window, and one window
// each for the campaigns and people that existed at the range's end.
func (s *Source) PlanBackfill(_ context.Context, r config.Run) (extract.Plan, error) {
	if r.By != "" && r.By != "date" {
		return extract.Plan{}, fmt.Errorf("by: Donately has no payouts: backfill by date (created_at) only")
	}
	from, to := r.From, r.RangeEnd()
	ws, err := windowsOf(StreamCreated, from, to, r.Window)
	if err != nil {
		return extract.Plan{}, err
	}
	ws = append(ws,
		extract.Window{Stream: StreamCampaigns, Start: epoch, End: to},
		extract.Window{Stream: StreamPeople, Start: epoch, End: to})
	return extract.Plan{Windows: ws, From: from, To: to}, nil
}

// ErrNothingCommitted is returned by PlanSync for a warehouse without a Donately watermark and no
// start.
var ErrNothingCommitted = fmt.Errorf("start: the warehouse has no Donately window committed yet: give --start YYYY-MM-DD, the first day to sync, or backfill first")

// PlanSync plans the donations updated since the updated stream's watermark (else the created
// stream's: a donation created after it is updated after it too; else r.Start) up to now minus
// r.Lag, in windows of r.Window, and the campaigns and people updated since their own watermarks.
func (s *Source) PlanSync(_ context.Context, cps []load.Checkpoint, r config.Run, now time.Time) (extract.Plan, error) {
	end := now.UTC().Add(-r.Lag).Truncate(time.Second)
	start, ok := load.Watermark(cps, string(StreamUpdated), "")
	if !ok {
		start, ok = load.Watermark(cps, string(StreamCreated), "")
	}
	switch {
	case !ok && r.Start.IsZero():
		return extract.Plan{}, ErrNothingCommitted
	case !ok:
		start = r.Start
	}
	p := extract.Plan{From: start, To: end, Fields: map[string]any{"updated_from": start.Format(time.RFC3339), "updated_to": end.Format(time.RFC3339)}}
	if start.Before(end) {
		ws, err := windowsOf(StreamUpdated, start, end, r.Window)
		if err != nil {
			return extract.Plan{}, err
		}
		p.Windows = ws
	}
	for _, st := range []extract.Stream{StreamCampaigns, StreamPeople} {
		from, ok := load.Watermark(cps, string(st), "")
		if !ok {
			from = start
		}
		if from.Before(end) {
			p.Windows = append(p.Windows, extract.Window{Stream: st, Start: from, End: end})
		}
	}
	return p, nil
}

// windowsOf cuts [from, to) into windows of size of the stream.
func windowsOf(stream extract.Stream, from, to time.Time, size time.Duration) ([]extract.Window, error) {
	ws, err := extract.PlanDateWindows(from, to, size)
	if err != nil {
		return nil, err
	}
	for i := range ws {
		ws[i].Stream = stream
	}
	return ws, nil
}

var _ extract.WindowFetch = (*Fetched)(nil)

// Fetched is one Donately window's listing.
type Fetched struct {
	Window extract.Window
	// Kind is what the records are: donations, campaigns or people.
	Kind   extract.Stream
	Result *donately.Result
}

// Counts implements extract.WindowFetch.
func (f *Fetched) Counts() extract.WindowCounts {
	return extract.WindowCounts{Window: f.Window, Records: len(f.Result.Records), Pages: f.Result.Pages, Duplicates: f.Result.Duplicates}
}

// Fetch lists one window's records.
func (s *Source) Fetch(ctx context.Context, w extract.Window) (extract.WindowFetch, error) {
	var (
		res  *donately.Result
		err  error
		kind = w.Stream
	)
	// The client's errors name the listing and its filter; the run loop adds the window.
	switch w.Stream {
	case StreamCreated:
		res, err = s.api.Donations(ctx, donately.Filter{Field: donately.FieldCreated, After: w.Start, Before: w.End})
		kind = "donations"
	case StreamUpdated:
		res, err = s.api.Donations(ctx, donately.Filter{Field: donately.FieldUpdated, After: w.Start, Before: w.End})
		kind = "donations"
	case StreamCampaigns:
		res, err = s.api.Campaigns(ctx, donately.Filter{Field: donately.FieldUpdated, After: w.Start, Before: w.End})
	case StreamPeople:
		res, err = s.api.People(ctx, donately.Filter{Field: donately.FieldUpdated, After: w.Start, Before: w.End})
	default:
		return nil, fmt.Errorf("donately: no stream %q", w.Stream)
	}
	if err != nil {
		return nil, err
	}
	return &Fetched{Window: w, Kind: kind, Result: res}, nil
}

var _ verify.Source = (*Source)(nil)

// VerifyWindows re-reads the donations created in r's range, in windows of r.Window.
func (s *Source) VerifyWindows(r config.Run) ([]extract.Window, error) {
	return windowsOf(StreamCreated, r.From, r.RangeEnd(), r.Window)
}

// Amounts are the money verify sums per currency.
func (s *Source) Amounts() []string { return []string{"amount"} }

// Facts are a window's donations as verify compares them: id, currency (upper case), amount.
func (s *Source) Facts(f extract.WindowFetch) []verify.Fact {
	fetched, ok := f.(*Fetched)
	if !ok {
		panic(fmt.Sprintf("donately: a %T is not a Donately window", f))
	}
	out := make([]verify.Fact, 0, len(fetched.Result.Records))
	for _, r := range fetched.Result.Records {
		var currency, amount string
		if d := r.Donation; d != nil {
			if d.Currency != nil {
				currency = strings.ToUpper(*d.Currency)
			}
			if d.AmountInCents != nil {
				amount = new(big.Rat).SetFrac64(*d.AmountInCents, 100).FloatString(2)
			}
		}
		out = append(out, verify.NewFact(r.ID, currency, s.redact(r.Raw), amount))
	}
	return out
}

// ComparePII makes verify compare the API's donations as the PII policy stores them (their raw
// JSON redacted).
func (s *Source) ComparePII(p schemas.Policy) {
	s.redact = transform.Redactor(p.Flattening(donatelyschema.DonationsFlattening()))
}
