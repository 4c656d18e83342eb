package crowdtilt

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdtilt"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/load/pipeline"
	"github.com/ccsync/ccsync/schemas"
	crowdtiltschema "github.com/ccsync/ccsync/schemas/crowdtilt"
	"github.com/ccsync/ccsync/transform"
)

// fakeAPI serves campaigns and payments from memory.
type fakeAPI struct {
	campaigns []crowdtilt.Record
	payments  map[string][]crowdtilt.Record
	err       error // returned by Campaigns when set
	listed    int   // Payments calls
}

func (f *fakeAPI) Campaigns(context.Context) (*crowdtilt.Result, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &crowdtilt.Result{Records: f.campaigns, Pages: 1}, nil
}

func (f *fakeAPI) Payments(_ context.Context, id string) (*crowdtilt.Result, error) {
	f.listed++
	return &crowdtilt.Result{Records: f.payments[id], Pages: 1}, nil
}

func (f *fakeAPI) User(_ context.Context, id string) (crowdtilt.Record, error) {
	return crowdtilt.Record{}, fmt.Errorf("no user %s", id)
}

func (f *fakeAPI) Stats() extract.Stats { return extract.Stats{} }

// fakeWarehouse answers the current-versions queries from memory: table → id → hash.
type fakeWarehouse map[string]map[string]string

func (w fakeWarehouse) Ref(name string) string { return name }

func (w fakeWarehouse) Query(_ context.Context, q string, row func([]sql.NullString) error) error {
	for table, hashes := range w {
		if !strings.Contains(q, " "+table+"_current") {
			continue
		}
		for id, h := range hashes {
			if err := row([]sql.NullString{{String: id, Valid: true}, {String: h, Valid: true}}); err != nil {
				return err
			}
		}
	}
	return nil
}

var created2025 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func campaign(id string, created time.Time) crowdtilt.Record {
	raw := fmt.Sprintf(`{"id": %q, "title": "T", "creation_date": %q, "admin": {"id": "USR1", "email": "a@example.org", "creation_date": "2024-01-01T00:00:00Z"}}`, id, created.Format(time.RFC3339))
	return crowdtilt.Record{Kind: crowdtilt.KindCampaign, ID: id, CreationDate: created, Raw: []byte(raw), Campaign: &crowdtilt.Campaign{ID: id}}
}

func payment(id, campaignID string, created time.Time, cents int64, status string) crowdtilt.Record {
	raw := fmt.Sprintf(`{"id": %q, "status": %q, "amount": %d, "campaign": {"id": %q}, "creation_date": %q}`, id, status, cents, campaignID, created.Format(time.RFC3339))
	return crowdtilt.Record{Kind: crowdtilt.KindPayment, ID: id, CampaignID: campaignID, CreationDate: created, Raw: []byte(raw),
		Payment: &crowdtilt.Payment{ID: id, Status: &status, Amount: &cents, Campaign: &crowdtilt.Ref{ID: campaignID}}}
}

func walkCheckpoint(campaignID string, start, end time.Time) load.Checkpoint {
	return load.Checkpoint{Source: crowdtiltschema.Name, Stream: string(StreamWalk), PayoutAccount: campaignID, WindowStart: start, WindowEnd: end}
}

// PlanSync starts a new walk after a complete one and resumes an incomplete one at the campaigns
// it did not commit.
func TestPlanSync(t *testing.T) {
	t.Parallel()
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	now := t2.Add(24*time.Hour + 500*time.Millisecond)
	for _, tc := range []struct {
		name        string
		cps         []load.Checkpoint
		from, to    time.Time
		want        []string
		skipped     int
		wantResumed bool
		cmp3New     bool // CMP3 created after t1
	}{
		{name: "a first walk", from: epoch, to: now.Truncate(time.Second), want: []string{"CMP1", "CMP2", "CMP3"}},
		{name: "after a complete walk",
			cps:  []load.Checkpoint{walkCheckpoint("CMP1", epoch, t1), walkCheckpoint("CMP2", epoch, t1), walkCheckpoint("CMP3", epoch, t1)},
			from: t1, to: now.Truncate(time.Second), want: []string{"CMP1", "CMP2", "CMP3"}},
		{name: "after an incomplete walk",
			cps: []load.Checkpoint{walkCheckpoint("CMP1", epoch, t1), walkCheckpoint("CMP2", epoch, t1), walkCheckpoint("CMP3", epoch, t1),
				walkCheckpoint("CMP2", t1, t2)},
			from: t1, to: t2, want: []string{"CMP1", "CMP3"}, skipped: 1, wantResumed: true},
		{name: "a campaign the last walk missed",
			cps:  []load.Checkpoint{walkCheckpoint("CMP1", epoch, t1), walkCheckpoint("CMP2", epoch, t1)},
			from: epoch, to: t1, want: []string{"CMP3"}, skipped: 2, wantResumed: true},
		{name: "a campaign created since the last walk began",
			cps:     []load.Checkpoint{walkCheckpoint("CMP1", epoch, t1), walkCheckpoint("CMP2", epoch, t1)},
			cmp3New: true,
			from:    t1, to: now.Truncate(time.Second), want: []string{"CMP1", "CMP2", "CMP3"}},
		{name: "a backfill's windows do not count",
			cps:  []load.Checkpoint{{Source: crowdtiltschema.Name, Stream: string(StreamCreated), PayoutAccount: "CMP1", WindowStart: t1, WindowEnd: t2}},
			from: epoch, to: now.Truncate(time.Second), want: []string{"CMP1", "CMP2", "CMP3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmp3 := campaign("CMP3", created2025)
			if tc.cmp3New {
				cmp3 = campaign("CMP3", t1.Add(time.Hour))
			}
			api := &fakeAPI{campaigns: []crowdtilt.Record{campaign("CMP1", created2025), campaign("CMP2", created2025), cmp3}}
			src := NewSource(api, nil)
			src.CompareWith(fakeWarehouse{})
			plan, err := src.PlanSync(t.Context(), tc.cps, config.Run{}, now)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range plan.Windows {
				if w.Stream != StreamWalk || !w.Start.Equal(tc.from) || !w.End.Equal(tc.to) {
					t.Errorf("window %s, want walk [%s, %s)", w, tc.from, tc.to)
				}
				got = append(got, w.Account)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") || plan.Skipped != tc.skipped || plan.Fields["resumed"] != tc.wantResumed {
				t.Errorf("campaigns %v, skipped %d, resumed %v; want %v, %d, %v", got, plan.Skipped, plan.Fields["resumed"], tc.want, tc.skipped, tc.wantResumed)
			}
		})
	}
}

// A failure to list the campaigns while planning keeps its class: refused credentials are
// extract.ErrForbidden, not a usage error.
func TestPlanFetchError(t *testing.T) {
	t.Parallel()
	src := NewSource(&fakeAPI{err: fmt.Errorf("401: %w", extract.ErrForbidden)}, nil)
	src.CompareWith(fakeWarehouse{})
	_, err := src.PlanSync(t.Context(), nil, config.Run{}, time.Now())
	var fetch pipeline.PlanFetchError
	if !errors.As(err, &fetch) || !errors.Is(err, extract.ErrForbidden) {
		t.Errorf("PlanSync: %v, want a PlanFetchError wrapping ErrForbidden", err)
	}
}

// A backfill keeps the payments created in its range; every run appends a version only of what
// changed since the current version, the versions it appended itself included.
func TestChangesOnly(t *testing.T) {
	t.Parallel()
	jan := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	feb := jan.AddDate(0, 1, 0)
	p1, p2, p3 := payment("CON1", "CMP1", jan, 1234, "charged"), payment("CON2", "CMP1", jan, 500, "authorized"), payment("CON3", "CMP1", feb, 700, "charged")
	api := &fakeAPI{campaigns: []crowdtilt.Record{campaign("CMP1", created2025)}, payments: map[string][]crowdtilt.Record{"CMP1": {p1, p2, p3}}}
	// p1's current version is the one read; p2's differs.
	wh := fakeWarehouse{crowdtiltschema.Payments: {"CON1": p1.ContentHash(), "CON2": "an older hash"}}
	src := NewSource(api, nil)
	src.CompareWith(wh)
	r := config.Run{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)}
	plan, err := src.PlanBackfill(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Windows) != 1 || plan.Windows[0].Stream != StreamCreated || plan.Windows[0].Account != "CMP1" {
		t.Fatalf("windows %v, want one created window of CMP1", plan.Windows)
	}

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := src.NewBuilder(mem, schemas.Policy{})
	defer b.Release()
	meta := transform.Meta{RunID: "run", BatchID: "batch", ExtractedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}
	for range 2 { // the second time, everything is current
		f, err := src.Fetch(t.Context(), plan.Windows[0])
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Counts().Records; got != 4 { // the campaign, two payments of January, its admin
			t.Errorf("%d records read, want 4", got)
		}
		b.AddWindow(f, meta)
	}
	s := b.Stats()
	// Appended: CON2 (changed), the campaign and its admin (new); unchanged: CON1; then all four
	// read again.
	if s.Rows[crowdtiltschema.Payments] != 1 || s.Rows[crowdtiltschema.Campaigns] != 1 || s.Rows[crowdtiltschema.Users] != 1 || s.Unchanged != 1 || s.Reread != 4 {
		t.Errorf("rows %v, unchanged %d, read again %d; want 1 payment, 1 campaign, 1 user, 1 unchanged, 4 read again", s.Rows, s.Unchanged, s.Reread)
	}
	for _, rec := range b.NewRecords() {
		rec.Release()
	}
}

// A record read again in the same run (a user embedded in several campaigns' payments) becomes a
// new version only when it differs and is newer (modification_date) than the version current
// since it was first read: a stale read that arrives after a fresh one is not appended.
func TestRereadKeepsTheNewest(t *testing.T) {
	t.Parallel()
	user := func(name string, modified time.Time) crowdtilt.Record {
		raw := fmt.Sprintf(`{"id": "USR9", "email": "u@example.org", "lastname": %q, "modification_date": %q}`, name, modified.Format(time.RFC3339))
		return crowdtilt.Record{Kind: crowdtilt.KindUser, ID: "USR9", ModificationDate: modified, Raw: []byte(raw),
			User: &crowdtilt.User{ID: "USR9", Email: new("u@example.org"), Lastname: &name}}
	}
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	for _, tc := range []struct {
		name   string
		reads  []crowdtilt.Record
		want   int64 // versions appended
		reread int
	}{
		{name: "the same twice", reads: []crowdtilt.Record{user("Old", t1), user("Old", t1)}, want: 1, reread: 1},
		{name: "fresh after stale", reads: []crowdtilt.Record{user("Old", t1), user("New", t2)}, want: 2, reread: 1},
		{name: "stale after fresh", reads: []crowdtilt.Record{user("New", t2), user("Old", t1)}, want: 1, reread: 1},
		{name: "a silent change read again", reads: []crowdtilt.Record{user("Old", t1), user("Silent", t1)}, want: 1, reread: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			b := NewSource(&fakeAPI{}, nil).NewBuilder(mem, schemas.Policy{})
			defer b.Release()
			for i, u := range tc.reads {
				w := extract.Window{Stream: StreamWalk, Account: fmt.Sprintf("CMP%d", i)}
				b.AddWindow(&Fetched{Window: w, Users: []crowdtilt.Record{u}}, transform.Meta{RunID: "run", BatchID: "b", ExtractedAt: t2})
			}
			s := b.Stats()
			if s.Rows[crowdtiltschema.Users] != tc.want || s.Reread != tc.reread {
				t.Errorf("%d versions, %d read again; want %d, %d", s.Rows[crowdtiltschema.Users], s.Reread, tc.want, tc.reread)
			}
			for _, rec := range b.NewRecords() {
				rec.Release()
			}
		})
	}
}
