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
	// Reread is the number of records read again in the same run (a Crowdtilt user embedded in
	// several campaigns' payments): neither changed nor unchanged.
	Reread int
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
	// redact is what the PII policy does to an item's raw JSON (RedactAs); nil: nothing.
	redact func([]byte) []byte
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
			raw := item.Raw
			if q.redact != nil {
				raw = q.redact(raw)
			}
			q.rawJSON(c, q.base64, raw) // sets the base64 column too, when needed
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

// RedactAs redacts the items' raw JSON under the PII policy of the flattenings fs (each under a
// policy, schemas.Policy.Flattening): an item without a usable id may be a record of any of them,
// so every one of their redactions applies.
func (q *Quarantine) RedactAs(fs ...schemas.Flattening) {
	var all schemas.Flattening
	for _, f := range fs {
		all.Redact = append(all.Redact, f.Redact...)
		if f.Hash != nil {
			all.Hash = f.Hash
		}
	}
	if len(all.Redact) > 0 {
		q.rows.redact = Redactor(all)
	}
}

// Total is the number of rows added since the Quarantine was made.
func (q *Quarantine) Total() int64 { return q.rows.total }

// NewRecord returns the rows added since the last call; the caller releases it.
func (q *Quarantine) NewRecord() arrow.Record { return q.rows.record() }

// Release frees the rows not yet returned.
func (q *Quarantine) Release() { q.rows.rb.Release() }

// RecordTables is what Group needs of a Flattener: the tables of one record kind.
type RecordTables interface {
	Len() int
	Stats() Stats
	NewRecords() []arrow.Record
	Release()
}

var _ RecordTables = (*Flattener[struct{}])(nil)

// Group holds a source's Flatteners, one per record kind, and its Quarantine, in the order of
// the source's tables (Donately's donations, campaigns and people; Crowdtilt's payments,
// campaigns and users): it adds up their counters, returns their records in that order and
// releases them together. Release it when done.
type Group struct {
	kinds      []RecordTables
	quarantine *Quarantine
}

// NewGroup returns a Group of kinds' tables, then the quarantine's (made here from mem). It owns
// kinds: when it fails, it releases them.
func NewGroup(mem memory.Allocator, kinds ...RecordTables) (*Group, error) {
	q, err := NewQuarantine(mem)
	if err != nil {
		for _, k := range kinds {
			k.Release()
		}
		return nil, err
	}
	return &Group{kinds: kinds, quarantine: q}, nil
}

// Quarantine is the group's quarantine table.
func (g *Group) Quarantine() *Quarantine { return g.quarantine }

// Len is the number of records added since the last NewRecords, of every kind.
func (g *Group) Len() int {
	n := 0
	for _, k := range g.kinds {
		n += k.Len()
	}
	return n
}

// Stats adds up the kinds' counters and the quarantine's.
func (g *Group) Stats() Stats {
	out := Stats{Rows: map[string]int64{}}
	for _, k := range g.kinds {
		s := k.Stats()
		out.Transactions += s.Transactions
		out.UnknownFields += s.UnknownFields
		out.Invalid += s.Invalid
		out.Unchanged += s.Unchanged
		for t, n := range s.Rows {
			out.Rows[t] += n
		}
	}
	out.Quarantined = int(g.quarantine.Total())
	out.Rows[schemas.QuarantineTable] = g.quarantine.Total()
	return out
}

// NewRecords returns a record per table: the kinds' in order, then the quarantine's.
func (g *Group) NewRecords() []arrow.Record {
	var recs []arrow.Record
	for _, k := range g.kinds {
		recs = append(recs, k.NewRecords()...)
	}
	return append(recs, g.quarantine.NewRecord())
}

// Release frees what was not returned.
func (g *Group) Release() {
	for _, k := range g.kinds {
		k.Release()
	}
	g.quarantine.Release()
}
