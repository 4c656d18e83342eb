package pipeline

import (
	"context"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/transform"
)

// Source is a platform as the run loop needs it: how to plan windows, fetch one, and turn fetched
// windows into Arrow rows of its tables. Each platform implements it in its own packages (for
// CrowdChange: package extract for the API, transform for the rows, transform/crowdchange for
// the assembly); the run loop, batches, sinks, checkpoints and the run log know no platform.
type Source interface {
	// Name is the source's name: its checkpoints and runs carry it (schemas.SourceNamed knows it).
	Name() string
	// Records names what the source's records are, in the run summary ("transactions").
	Records() string
	// PlanBackfill plans a backfill of r's range. A source whose API has no filter by date reads
	// it to plan (Crowdtilt lists its campaigns): its failures to read the API are wrapped in a
	// PlanFetchError; any other error is a mistake in what the job asks (a UsageError).
	PlanBackfill(ctx context.Context, r config.Run) (extract.Plan, error)
	// PlanSync plans a sync from the source's own committed checkpoints (errors as PlanBackfill's).
	PlanSync(ctx context.Context, cps []load.Checkpoint, r config.Run, now time.Time) (extract.Plan, error)
	// Fetch reads one window from the API. It is called concurrently.
	Fetch(ctx context.Context, w extract.Window) (extract.WindowFetch, error)
	// Stats are the API client's counters since it was made.
	Stats() extract.Stats
	// Tables are the tables a batch of the source writes, in the order its builders' NewRecords
	// returns their records.
	Tables() []schemas.Table
	// NewBuilder returns an empty builder of the source's rows under the PII policy: the records
	// it returns have Tables' columns less those the policy drops (policy.Tables).
	NewBuilder(mem memory.Allocator, policy schemas.Policy) Builder
}

// ChangeDetector is a source that appends a version of a record only when the record changed
// since its current version (Crowdtilt, whose API has no filter by date: every sync reads
// everything): the run's summary and log say how many records were read and how many changed.
type ChangeDetector interface {
	DetectsChanges() bool
}

// Builder accumulates the Arrow rows of fetched windows (one goroutine uses it).
type Builder interface {
	// AddWindow appends the rows of every record of a fetched window; it never fails (what cannot
	// be stored is noted in the rows and counted in Stats).
	AddWindow(f extract.WindowFetch, m transform.Meta)
	// Len is the number of records added since the last NewRecords.
	Len() int
	Stats() transform.Stats
	// NewRecords returns a record per table (Source.Tables' order) and resets the builder; the
	// caller releases them.
	NewRecords() []arrow.Record
	Release()
}

// Sink is the run loop's view of a warehouse.
type Sink interface {
	// Commit makes a batch's rows and its checkpoints durable, all or nothing as far as the views
	// can tell.
	Commit(ctx context.Context, b *load.Batch) error
	// Checkpoints returns every source's committed windows.
	Checkpoints(ctx context.Context) ([]load.Checkpoint, error)
	RecordRun(ctx context.Context, r load.Run) error
}

var (
	_ Sink = (*load.DuckDB)(nil)
	_ Sink = (*load.BigQuery)(nil)
)

// Progress hears about a run's advance (the terminal progress bar). Its methods must return
// quickly; they are called from the run loop.
type Progress interface {
	// Begin starts a run of total windows; requests counts the API requests made so far.
	Begin(total int, requests func() int64)
	WindowDone(records int)
	BatchCommitted(windows, records int)
	Finish()
}
