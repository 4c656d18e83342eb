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
}

// Builder accumulates the rows of every table of schemas.BatchTables() for the transactions (and
// quarantined items) added to it, as Arrow records. It is not safe for concurrent use. Release it
// when done.
//
// The data tables are filled by a Flattener of extract.Transaction, as
// schemas.CrowdChangeFlattening declares them; the Builder adds what is CrowdChange's own: the
// transaction's id as the client read it, and the quarantine.
type Builder struct {
	transactions *Flattener[extract.Transaction]
	quarantine   *quarantineRows
	tx           extract.Transaction // the transaction being added (kept here: Add's own copy would escape)
}

// NewBuilder returns an empty Builder whose records are allocated from mem.
//
// It panics if schemas' declarations do not fit the model of package extract (a JSON path with no
// field, a Go type that cannot fill its column): that is a bug that any test making a Builder
// catches.
func NewBuilder(mem memory.Allocator) *Builder {
	f := schemas.CrowdChangeFlattening()
	txs, err := NewFlattener[extract.Transaction](mem, f)
	if err != nil {
		panic(err)
	}
	q, err := newQuarantineRows(mem)
	if err != nil {
		txs.Release()
		panic(err)
	}
	b := &Builder{transactions: txs, quarantine: q}
	batch := schemas.BatchTables()
	if len(batch) != len(f.Tables)+1 || batch[len(batch)-1].Name != schemas.QuarantineTable {
		b.Release()
		panic("transform: schemas' batch tables are not CrowdChange's data tables and the quarantine")
	}
	for i, t := range f.Tables {
		if batch[i].Name != t.Name {
			b.Release()
			panic(fmt.Sprintf("transform: batch table %d is %s, not %s", i, batch[i].Name, t.Name))
		}
	}
	return b
}

// Release frees the rows not yet returned by NewRecords.
func (b *Builder) Release() {
	b.transactions.Release()
	b.quarantine.rb.Release()
}

// Len is the number of transactions added since the last NewRecords.
func (b *Builder) Len() int { return b.transactions.Len() }

// Stats returns the counters since the Builder was made.
func (b *Builder) Stats() Stats {
	s := b.transactions.Stats()
	s.Rows[b.quarantine.def.Name] = b.quarantine.total
	s.Quarantined = int(b.quarantine.total)
	return s
}

// NewRecords returns the rows added since the last call: one record per table of
// schemas.BatchTables(), in that order, each with the table's Arrow schema (a table without rows
// gives an empty record). The Builder starts afresh; the caller releases the records.
func (b *Builder) NewRecords() []arrow.Record {
	return append(b.transactions.e.newRecords(1), b.quarantine.record())
}

// Add appends the rows of one transaction version to every table: its transactions row, a
// transaction_items row per line item, a detail row per registration, e-card, tribute card and
// self-donation, a custom_data row per answer, and its raw_transactions row. It never fails: what
// the model could not decode, leaves without a home and values that cannot be stored are recorded in
// the raw_transactions row (unknown_fields, decode_error) and in Stats.
func (b *Builder) Add(f extract.Fetched, m Meta) {
	b.tx = f.Tx
	// The id the client read, leniently, even from a transaction the model could not decode: the
	// key of every row.
	if f.ID != 0 {
		b.tx.ID = f.ID
	}
	b.transactions.Add(&b.tx, f.Raw, f.Err, m)
	b.tx = extract.Transaction{} // holds on to nothing
}

// AddQuarantined appends a quarantine row for an item of window w that could not be kept as a
// transaction version, stamped like the versions of the same window.
func (b *Builder) AddQuarantined(q extract.Quarantined, w extract.Window, m Meta) {
	b.quarantine.add(q, w, m)
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
