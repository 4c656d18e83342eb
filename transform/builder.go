package transform

import (
	"fmt"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/schemas"
)

// Meta stamps every row of one transaction version.
type Meta struct {
	RunID       string    // the run that extracted the version (_run_id)
	BatchID     string    // the load batch it is committed in (_batch_id)
	ExtractedAt time.Time // when it was extracted (_extracted_at, stored in µs, UTC)
}

// Stats are a Builder's counters since it was made.
type Stats struct {
	// Transactions is the number of transactions added.
	Transactions int
	// Rows is the number of rows added per table, by table name; every data table is present.
	Rows map[string]int64
	// UnknownFields is the number of leaves without a home in schemas, summed over transactions
	// (each transaction's unknown paths counted once each).
	UnknownFields int
	// Invalid is the number of transactions whose raw_transactions row has a decode_error: the model
	// could not fully decode them, their JSON could not be walked, or one of their values could not
	// be stored (an amount that does not fit NUMERIC(38, 9) exactly is stored as null, invalid
	// UTF-8 is replaced).
	Invalid int
	// Quarantined is the number of quarantine rows added (items without a readable id).
	Quarantined int
	// Unchanged is the number of records read that had not changed since their current version,
	// so that no version was appended (sources that append changes only: Crowdtilt).
	Unchanged int
}

// quarantineRows fills the quarantine table. It is not a Flattener's: its rows are not made from
// a record's JSON leaves but from what the run knows of an item it could not keep (its window,
// page, position and reason), so each column is filled by its derivation.
type quarantineRows struct {
	*table
	cols   []schemas.Derivation // each column's derivation
	raw    col
	base64 col
	issues []string // invalid UTF-8 noted in a reason; the row keeps the repaired text
}

func newQuarantineRows(mem memory.Allocator) (*quarantineRows, error) {
	def, _ := schemas.ByName(schemas.QuarantineTable)
	q := &quarantineRows{raw: noCol, base64: noCol}
	q.table = newTable(mem, def, &q.issues)
	for i, c := range def.Columns {
		switch c.Derived {
		case schemas.RawJSON:
			q.raw = col(i)
		case schemas.RawJSONBase64:
			q.base64 = col(i)
		case schemas.QuarantineStream, schemas.QuarantineAccount, schemas.QuarantineWindowStart, schemas.QuarantineWindowEnd,
			schemas.QuarantinePage, schemas.QuarantinePosition, schemas.QuarantineReason,
			schemas.RunID, schemas.BatchID, schemas.ExtractedAt:
		default:
			q.rb.Release()
			return nil, fmt.Errorf("transform: %s.%s: nothing fills a %q column of the quarantine", def.Name, c.Name, c.Derived)
		}
		q.cols = append(q.cols, c.Derived)
	}
	return q, nil
}

func (q *quarantineRows) add(item extract.Quarantined, w extract.Window, m Meta) {
	q.issues = q.issues[:0]
	q.begin()
	for i, d := range q.cols {
		c := col(i)
		switch d {
		case schemas.QuarantineStream:
			q.strv(c, string(w.Stream))
		case schemas.QuarantineAccount:
			if w.Account != "" {
				q.strv(c, w.Account)
			}
		case schemas.QuarantineWindowStart:
			q.timestamp(c, w.Start)
		case schemas.QuarantineWindowEnd:
			q.timestamp(c, w.End)
		case schemas.QuarantinePage:
			q.intv(c, int64(item.Page))
		case schemas.QuarantinePosition:
			q.intv(c, int64(item.Position))
		case schemas.QuarantineReason:
			q.strv(c, item.Reason)
		case schemas.RawJSON:
			q.rawJSON(c, q.base64, item.Raw) // sets the base64 column too, when needed
		case schemas.RunID:
			q.strv(c, m.RunID)
		case schemas.BatchID:
			q.strv(c, m.BatchID)
		case schemas.ExtractedAt:
			q.timestampv(c, arrow.Timestamp(m.ExtractedAt.UnixMicro()))
		}
	}
	q.end()
}

// Quarantine is the quarantine table's rows for a source other than CrowdChange (whose Builder
// has its own): items of a window that could not be kept as record versions. Release it when done.
type Quarantine struct{ rows *quarantineRows }

// NewQuarantine returns an empty Quarantine.
func NewQuarantine(mem memory.Allocator) (*Quarantine, error) {
	q, err := newQuarantineRows(mem)
	if err != nil {
		return nil, err
	}
	return &Quarantine{rows: q}, nil
}

// Add appends a quarantine row for an item of window w, stamped like the window's versions.
func (q *Quarantine) Add(item extract.Quarantined, w extract.Window, m Meta) { q.rows.add(item, w, m) }

// Total is the number of rows added since the Quarantine was made.
func (q *Quarantine) Total() int64 { return q.rows.total }

// NewRecord returns the rows added since the last call; the caller releases it.
func (q *Quarantine) NewRecord() arrow.Record { return q.rows.record() }

// Release frees the rows not yet returned.
func (q *Quarantine) Release() { q.rows.rb.Release() }
