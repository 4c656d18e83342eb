// Package crowdtilt assembles the Crowdtilt source the run loop (package load/pipeline) and verify
// (package load/verify) run. The API (seed 003, read by package extract/crowdtilt) has no filter
// by date at all, so a run walks it: the campaigns (every page), then each campaign's payments.
//
// Windows. A window is one campaign's walk, keyed by the campaign's id (its checkpoint's
// payout_account column): the campaign, its payments and the users they embed. A sync's windows
// are in the stream "walk", all of one walk sharing [the previous walk's start, this walk's
// start); a backfill's in the stream "created", [from, to) over the payments' creation_date (it
// keeps the payments created in its range, and every campaign).
//
// Resuming. A walk is complete when every campaign the API lists that was created before the walk
// began has its window of the walk committed. A sync after an incomplete walk (a crash, a kill) resumes it: it lists the campaigns
// again and walks only those without a committed window of the walk, so the walk resumes at the
// campaign where the last commit stopped. A backfill re-run skips the committed campaigns as any
// backfill skips committed windows.
//
// Change detection. Every run appends a new version of a payment, campaign or user only when its
// content hash (crowdtilt.ContentHash: modification_date and every own member, embedded records
// reduced to their ids) differs from its current version's, which planning reads from the
// warehouse's *_current views (column content_hash): a sync that finds no change appends nothing
// and costs its campaign pages and payment pages. The summary says how many records were read
// and how many changed (pipeline.ChangeDetector).
package crowdtilt

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdtilt"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/load/pipeline"
	"github.com/ccsync/ccsync/load/verify"
	"github.com/ccsync/ccsync/schemas"
	crowdtiltschema "github.com/ccsync/ccsync/schemas/crowdtilt"
)

// The streams, as schemas declares them, and verify's.
const (
	StreamWalk    extract.Stream = crowdtiltschema.StreamWalk
	StreamCreated extract.Stream = crowdtiltschema.StreamCreated
	// streamVerify is verify's one window: every payment created in its range.
	streamVerify extract.Stream = "verify"
)

// epoch starts the first walk's windows: everything that existed before it.
var epoch = time.Unix(0, 0).UTC()

// API is what the source needs of the Crowdtilt API: *crowdtilt.Client.
type API interface {
	Campaigns(ctx context.Context) (*crowdtilt.Result, error)
	Payments(ctx context.Context, campaignID string) (*crowdtilt.Result, error)
	User(ctx context.Context, id string) (crowdtilt.Record, error)
	Stats() extract.Stats
}

var _ API = (*crowdtilt.Client)(nil)

var (
	_ pipeline.Source         = (*Source)(nil)
	_ pipeline.ChangeDetector = (*Source)(nil)
	_ verify.Source           = (*Source)(nil)
)

// Source is Crowdtilt as the run loop and verify see it. Planning reads the warehouse's current
// versions and the campaigns; Fetch is then called concurrently, the builder from one goroutine.
type Source struct {
	api API
	wh  verify.Warehouse
	log *logrus.Entry

	// Set by planning, read-only after it.
	campaigns     map[string]crowdtilt.Record // the listing, by id
	campaignOrder []string                    // their ids, in the API's order
	// listingQuarantine are the campaign items without a usable id, and listingPages the pages
	// of the listing: they go with the window firstWindow (the plan's first), so that the run's
	// pages are every page read.
	listingQuarantine []extract.Quarantined
	listingPages      int
	firstWindow       extract.Window

	// current are the content hashes of the current versions, by kind and id: read by planning,
	// then updated by the builder (one goroutine) as it appends versions.
	current map[crowdtilt.Kind]map[string]string

	// hasher is verify's content hash of a payment, under the PII policy (ComparePII).
	hasher contentHasher

	usersMu sync.Mutex
	users   map[string]crowdtilt.Record // users fetched by id (references), for the run
}

// NewSource returns the Crowdtilt source reading through api. log (nil: discarded) gets the
// plan's lines. Give it the warehouse (CompareWith) before planning a run.
func NewSource(api API, log *logrus.Entry) *Source {
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	return &Source{api: api, log: log, users: map[string]crowdtilt.Record{}, hasher: newContentHasher(flattenings(schemas.Policy{}))}
}

// ComparePII makes verify compare the API's payments' content hashes as the PII policy stores
// them (the hash of their raw JSON redacted).
func (s *Source) ComparePII(p schemas.Policy) { s.hasher = newContentHasher(flattenings(p)) }

// CompareWith sets the warehouse whose current versions (their content hashes) the records read
// are compared with: planning reads them.
func (s *Source) CompareWith(wh verify.Warehouse) { s.wh = wh }

// Name is crowdtiltschema.Name.
func (s *Source) Name() string { return crowdtiltschema.Name }

// Records names Crowdtilt's records in summaries: payments, campaigns and users.
func (s *Source) Records() string { return "records" }

// DetectsChanges says that a version is appended only for a record that changed.
func (s *Source) DetectsChanges() bool { return true }

// Stats are the client's counters.
func (s *Source) Stats() extract.Stats { return s.api.Stats() }

// PlanBackfill plans one window per campaign over r's range: the payments created in it.
func (s *Source) PlanBackfill(ctx context.Context, r config.Run) (extract.Plan, error) {
	if r.By != "" && r.By != "date" {
		return extract.Plan{}, fmt.Errorf("by: Crowdtilt has no payouts: backfill by date (the payments' creation_date) only")
	}
	if err := s.prepare(ctx); err != nil {
		return extract.Plan{}, err
	}
	from, to := r.From, r.RangeEnd()
	var ws []extract.Window
	for _, c := range s.campaignOrder {
		ws = append(ws, extract.Window{Stream: StreamCreated, Account: c, Start: from, End: to})
	}
	s.setFirst(ws)
	return extract.Plan{Windows: ws, From: from, To: to,
		Fields: logrus.Fields{"campaigns": len(s.campaigns)}}, nil
}

// PlanSync plans a walk: the rest of the last walk when it is incomplete (a campaign the API
// lists has no window of it committed), else a new one, from the last walk's start to now.
func (s *Source) PlanSync(ctx context.Context, cps []load.Checkpoint, _ config.Run, now time.Time) (extract.Plan, error) {
	if err := s.prepare(ctx); err != nil {
		return extract.Plan{}, err
	}
	last, ok := lastWalk(cps)
	start, end := epoch, now.UTC().Truncate(time.Second)
	resumed := false
	if ok {
		resumed = !s.walked(last)
		switch {
		case resumed:
			start, end = last.start, last.end
		default:
			start = last.end
			if !end.After(start) {
				end = start.Add(time.Second)
			}
		}
	}
	var ws []extract.Window
	skipped := 0
	for _, c := range s.campaignOrder {
		if resumed && last.campaigns[c] {
			skipped++
			continue
		}
		ws = append(ws, extract.Window{Stream: StreamWalk, Account: c, Start: start, End: end})
	}
	s.setFirst(ws)
	return extract.Plan{Windows: ws, From: start, To: end, Skipped: skipped, Fields: logrus.Fields{
		"walk_from": start.Format(time.RFC3339), "walk_to": end.Format(time.RFC3339),
		"campaigns": len(s.campaigns), "resumed": resumed,
	}}, nil
}

// walk is the last walk's windows, as committed.
type walk struct {
	start, end time.Time
	campaigns  map[string]bool // campaigns with a committed window of the walk
}

// lastWalk finds the walk of the latest committed walk window: its range and its campaigns.
func lastWalk(cps []load.Checkpoint) (walk, bool) {
	var w walk
	found := false
	for _, cp := range cps {
		if cp.Stream != string(StreamWalk) {
			continue
		}
		if !found || cp.WindowEnd.After(w.end) {
			w = walk{start: cp.WindowStart, end: cp.WindowEnd, campaigns: map[string]bool{}}
			found = true
		}
		if cp.WindowEnd.Equal(w.end) {
			w.campaigns[cp.PayoutAccount] = true
			if cp.WindowStart.Before(w.start) {
				w.start = cp.WindowStart
			}
		}
	}
	return w, found
}

// walked says whether w is complete: every campaign listed that existed when w began (created
// before its end: the API lists campaigns oldest first and never deletes one, so w listed it) has
// its window of w committed. A campaign created since is not w's: a new walk reads it.
func (s *Source) walked(w walk) bool {
	for id, c := range s.campaigns {
		if c.CreationDate.Before(w.end) && !w.campaigns[id] {
			return false
		}
	}
	return true
}

// prepare reads what planning needs: the current versions' hashes, then the campaigns. Its
// failures are pipeline.PlanFetchErrors: they keep their class (refused credentials exit 3).
func (s *Source) prepare(ctx context.Context) error {
	current, err := s.readCurrent(ctx)
	if err != nil {
		return pipeline.PlanFetchError{Err: err}
	}
	res, err := s.api.Campaigns(ctx)
	if err != nil {
		return pipeline.PlanFetchError{Err: fmt.Errorf("listing the Crowdtilt campaigns: %w", err)}
	}
	s.current = current
	s.campaigns = make(map[string]crowdtilt.Record, len(res.Records))
	s.campaignOrder = s.campaignOrder[:0]
	for _, r := range res.Records {
		s.campaigns[r.ID] = r
		s.campaignOrder = append(s.campaignOrder, r.ID)
	}
	s.listingQuarantine, s.listingPages = res.Quarantined, res.Pages
	s.log.WithFields(logrus.Fields{"campaigns": len(res.Records), "pages": res.Pages, "quarantined": len(res.Quarantined),
		"current_payments": len(current[crowdtilt.KindPayment]), "current_campaigns": len(current[crowdtilt.KindCampaign]),
		"current_users": len(current[crowdtilt.KindUser])}).Info("campaigns listed")
	return nil
}

// setFirst notes the plan's first window, which carries the listing's quarantined items.
func (s *Source) setFirst(ws []extract.Window) {
	if len(ws) > 0 {
		s.firstWindow = ws[0]
	} else if len(s.listingQuarantine) > 0 {
		s.log.WithField("quarantined", len(s.listingQuarantine)).Warn("campaign items without a usable id: no window to keep them with in this run")
	}
}

// currentTables are the tables whose *_current views hold each kind's current content hashes.
var currentTables = map[crowdtilt.Kind]string{
	crowdtilt.KindPayment:  crowdtiltschema.Payments,
	crowdtilt.KindCampaign: crowdtiltschema.Campaigns,
	crowdtilt.KindUser:     crowdtiltschema.Users,
}

// readCurrent reads the content hash of every record's current version.
func (s *Source) readCurrent(ctx context.Context) (map[crowdtilt.Kind]map[string]string, error) {
	if s.wh == nil {
		return nil, errors.New("crowdtilt: no warehouse to compare the records with (a wiring mistake: CompareWith)")
	}
	out := map[crowdtilt.Kind]map[string]string{}
	for kind, table := range currentTables {
		hashes := map[string]string{}
		q := fmt.Sprintf("SELECT id, %s FROM %s", crowdtiltschema.ColContentHash, s.wh.Ref(table+"_current"))
		err := s.wh.Query(ctx, q, func(row []sql.NullString) error {
			if len(row) != 2 {
				return fmt.Errorf("want 2 columns, got %d", len(row))
			}
			hashes[row[0].String] = row[1].String
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading the current versions of %s: %w", table, err)
		}
		out[kind] = hashes
	}
	return out, nil
}
