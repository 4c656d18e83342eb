package donately

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/donately"
	"github.com/ccsync/ccsync/extract/donately/donatelytest"
	"github.com/ccsync/ccsync/schemas"
	donatelyschema "github.com/ccsync/ccsync/schemas/donately"
	"github.com/ccsync/ccsync/transform"
)

// A month of the sandbox's donations, campaigns and people become rows of Donately's tables: one
// row per record version in each parent table and its raw table, one per meta data member, every
// Arrow buffer released.
func TestWindowsBecomeRows(t *testing.T) {
	from, to := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	srv, hs := donatelytest.Start(donatelytest.Options{Seed: 3, Donations: 120, From: from, To: to})
	t.Cleanup(hs.Close)
	client, err := donately.NewClient(config.Donately{URL: hs.URL, Token: config.Secret(donatelytest.DefaultToken), Account: donatelytest.DefaultAccount},
		config.API{Rate: 1000, Burst: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := NewSource(client)
	var r config.Run
	r.SetDefaults()
	r.From, r.To = from, to.AddDate(0, 0, -1)
	plan, err := src.PlanBackfill(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Windows) != 33 { // 31 days, campaigns, people
		t.Fatalf("%d windows, want 33", len(plan.Windows))
	}

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := src.NewBuilder(mem, schemas.Policy{})
	defer b.Release()
	meta := transform.Meta{RunID: "run", BatchID: "batch", ExtractedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	records := 0
	for _, w := range plan.Windows {
		f, err := src.Fetch(context.Background(), w)
		if err != nil {
			t.Fatal(err)
		}
		records += f.Counts().Records
		b.AddWindow(f, meta)
	}
	truth := srv.Truth(from, to)
	s := b.Stats()
	if s.Rows[donatelyschema.Donations] != int64(truth.Count) || s.Rows[donatelyschema.RawDonations] != int64(truth.Count) {
		t.Errorf("rows %v, want %d donations", s.Rows, truth.Count)
	}
	if s.Rows[donatelyschema.Campaigns] == 0 || s.Rows[donatelyschema.People] == 0 {
		t.Errorf("no campaign or person rows: %v", s.Rows)
	}
	if b.Len() != records {
		t.Errorf("Len %d, want the %d records fetched", b.Len(), records)
	}
	recs := b.NewRecords()
	tables := src.Tables()
	if len(recs) != len(tables) {
		t.Fatalf("%d records for %d tables", len(recs), len(tables))
	}
	for i, rec := range recs {
		if !rec.Schema().Equal(tables[i].ArrowSchema()) {
			t.Errorf("record %d does not have %s's schema", i, tables[i].Name)
		}
		rec.Release()
	}
}
