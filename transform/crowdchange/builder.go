package crowdchange

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/ccsync/ccsync/extract"
	crowdchangeapi "github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/schemas"
	crowdchangeschema "github.com/ccsync/ccsync/schemas/crowdchange"
	"github.com/ccsync/ccsync/transform"
)

// Builder accumulates the rows of every table of crowdchangeschema.BatchTables() for the transactions (and
// quarantined items) added to it, as Arrow records. It is not safe for concurrent use. Release it
// when done.
//
// The data tables are filled by a Flattener of crowdchangeapi.Transaction, as
// crowdchangeschema.Flattening declares them; the Builder adds what is CrowdChange's own: the
// transaction's id as the client read it, and the quarantine.
type Builder struct {
	transactions *transform.Flattener[crowdchangeapi.Transaction]
	quarantine   *transform.Quarantine
	tx           crowdchangeapi.Transaction // the transaction being added (kept here: Add's own copy would escape)
}

// NewBuilder returns an empty Builder whose records are allocated from mem.
//
// It panics if schemas' declarations do not fit the model of package extract/crowdchange (a JSON path with no
// field, a Go type that cannot fill its column): that is a bug that any test making a Builder
// catches.
func NewBuilder(mem memory.Allocator) *Builder { return NewBuilderUnder(mem, schemas.Policy{}) }

// NewBuilderUnder is NewBuilder of the tables under a PII policy: its dropped columns absent, its
// hashed values and raw JSON redacted.
func NewBuilderUnder(mem memory.Allocator, policy schemas.Policy) *Builder {
	f := policy.Flattening(crowdchangeschema.Flattening())
	txs, err := transform.NewFlattener[crowdchangeapi.Transaction](mem, f)
	if err != nil {
		panic(err)
	}
	q, err := transform.NewQuarantine(mem)
	if err != nil {
		txs.Release()
		panic(err)
	}
	q.RedactAs(f)
	b := &Builder{transactions: txs, quarantine: q}
	batch := crowdchangeschema.BatchTables()
	if len(batch) != len(f.Tables)+1 || batch[len(batch)-1].Name != schemas.QuarantineTable {
		b.Release()
		panic("transform/crowdchange: schemas' batch tables are not CrowdChange's data tables and the quarantine")
	}
	for i, t := range f.Tables {
		if batch[i].Name != t.Name {
			b.Release()
			panic(fmt.Sprintf("transform/crowdchange: batch table %d is %s, not %s", i, batch[i].Name, t.Name))
		}
	}
	return b
}

// Release frees the rows not yet returned by NewRecords.
func (b *Builder) Release() {
	b.transactions.Release()
	b.quarantine.Release()
}

// Len is the number of transactions added since the last NewRecords.
func (b *Builder) Len() int { return b.transactions.Len() }

// Stats returns the counters since the Builder was made.
func (b *Builder) Stats() transform.Stats {
	s := b.transactions.Stats()
	s.Rows[schemas.QuarantineTable] = b.quarantine.Total()
	s.Quarantined = int(b.quarantine.Total())
	return s
}

// NewRecords returns the rows added since the last call: one record per table of
// crowdchangeschema.BatchTables(), in that order, each with the table's Arrow schema (a table without rows
// gives an empty record). The Builder starts afresh; the caller releases the records.
func (b *Builder) NewRecords() []arrow.Record {
	return append(b.transactions.NewRecords(), b.quarantine.NewRecord())
}

// Add appends the rows of one transaction version to every table: its transactions row, a
// transaction_items row per line item, a detail row per registration, e-card, tribute card and
// self-donation, a custom_data row per answer, and its raw_transactions row. It never fails: what
// the model could not decode, leaves without a home and values that cannot be stored are recorded in
// the raw_transactions row (unknown_fields, decode_error) and in Stats.
func (b *Builder) Add(f crowdchangeapi.Fetched, m transform.Meta) {
	b.tx = f.Tx
	// The id the client read, leniently, even from a transaction the model could not decode: the
	// key of every row.
	if f.ID != 0 {
		b.tx.ID = f.ID
	}
	b.transactions.AddDecoded(&b.tx, f.Raw, f.Err, f.Unknown, m)
	b.tx = crowdchangeapi.Transaction{} // holds on to nothing
}

// AddQuarantined appends a quarantine row for an item of window w that could not be kept as a
// transaction version, stamped like the versions of the same window.
func (b *Builder) AddQuarantined(q extract.Quarantined, w extract.Window, m transform.Meta) {
	b.quarantine.Add(q, w, m)
}

// knownPaths classifies the paths of CrowdChange's transaction (crowdchangeschema.PathMap).
var knownPaths = transform.Classify(crowdchangeschema.PathMap())

// KnownLeaves are the JSON paths of the transaction's leaves that have a home
// (crowdchangeschema.PathMap). The client given them (extract.WithKnownLeaves) finds each
// transaction's unknown fields while it decodes it (crowdchangeapi.Fetched.Unknown), and Add does
// not walk the transaction again.
func KnownLeaves() []string { return transform.Leaves(crowdchangeschema.Flattening()) }

// UnknownPaths returns the JSON paths of the leaves of a transaction that have no home in
// crowdchangeschema.HomeOf (transform.PathClassifier.UnknownPaths).
func UnknownPaths(raw []byte) ([]string, error) { return knownPaths.UnknownPaths(raw) }
