// Package schemas is the single source of truth of ccsync's warehouse: the table list, every
// column with its type, description and PII tag, partitioning and clustering, the JSON-path →
// column map of the API's transaction, and the `*_current` views. The Arrow schemas (for
// transform), the DuckDB DDL and the BigQuery schemas (for load) are all derived from it.
package schemas

import (
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// Type is a column's logical type.
type Type int

// The logical types. Money is Numeric: exact, NUMERIC(38, 9) in every warehouse.
const (
	Int64     Type = iota + 1 // INT64 / BIGINT
	String                    // STRING / VARCHAR
	Bool                      // BOOL / BOOLEAN
	Numeric                   // NUMERIC / DECIMAL(38, 9), Arrow decimal128(38, 9)
	Timestamp                 // TIMESTAMP (UTC, microseconds)
	Date                      // DATE
)

// NumericPrecision and NumericScale are the precision and scale of every Numeric column: those of
// BigQuery's NUMERIC.
const (
	NumericPrecision = 38
	NumericScale     = 9
)

func (t Type) String() string {
	switch t {
	case Int64:
		return "INT64"
	case String:
		return "STRING"
	case Bool:
		return "BOOL"
	case Numeric:
		return "NUMERIC"
	case Timestamp:
		return "TIMESTAMP"
	case Date:
		return "DATE"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Column is one column of a table.
type Column struct {
	Name        string
	Type        Type
	Repeated    bool // a list of Type (BigQuery REPEATED, DuckDB T[]); never null, maybe empty
	Required    bool // never null
	PII         bool // personal data: names, emails, phones, addresses, free text written by people
	Description string
}

// Kind says what a table holds.
type Kind int

// Kinds of tables.
const (
	// Data tables hold transaction versions: every row carries _run_id, _batch_id and
	// _extracted_at, and the table has a `<name>_current` view.
	Data Kind = iota + 1
	// Bookkeeping tables are ccsync's own: checkpoints and the run log. Append-only.
	Bookkeeping
	// Quarantine tables hold what an API sent that cannot be kept as a version (an item without
	// a readable id), whole. They are loaded in the batches, with the windows they came in, and
	// carry _run_id, _batch_id and _extracted_at, but have no current view.
	Quarantine
)

// Table is one warehouse table.
type Table struct {
	Name        string
	Description string
	Kind        Kind
	Columns     []Column
	// Partition is the DATE column a BigQuery table is partitioned by by day ("" for none).
	Partition string
	// Cluster lists BigQuery clustering columns, at most four.
	Cluster []string
}

// Column returns the column called name.
func (t Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// ColumnIndex returns the position of the column called name, or -1.
func (t Table) ColumnIndex(name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// CurrentView is the name of a data table's view of current versions.
func (t Table) CurrentView() string { return t.Name + "_current" }

// Version columns, carried by every row of every data table.
const (
	ColRunID       = "_run_id"
	ColBatchID     = "_batch_id"
	ColExtractedAt = "_extracted_at"
)

// Table names.
const (
	Transactions    = "transactions"
	TransactionItem = "transaction_items"
	Registrations   = "registrations"
	Ecards          = "ecards"
	TributeCards    = "tribute_cards"
	SelfDonations   = "self_donations"
	CustomData      = "custom_data"
	RawTransactions = "raw_transactions"
	QuarantineTable = "quarantine"
	Checkpoints     = "ccsync_checkpoints"
	Runs            = "ccsync_runs"
)

// DataTables returns the data tables, parent first.
func DataTables() []Table { return append([]Table(nil), dataTables...) }

// BatchTables returns the tables whose rows are loaded in batches, in the order a batch loads
// them: the data tables (parent first), then the quarantine.
func BatchTables() []Table { return append(DataTables(), quarantineTables...) }

// BookkeepingTables returns ccsync's own tables: checkpoints and the run log.
func BookkeepingTables() []Table { return append([]Table(nil), bookkeepingTables...) }

// AllTables returns every table: data tables, the quarantine, then bookkeeping.
func AllTables() []Table { return append(BatchTables(), bookkeepingTables...) }

// ByName returns the table called name.
func ByName(name string) (Table, bool) {
	for _, t := range AllTables() {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}

// ArrowType is the Arrow type of one value of a column of type t.
func (t Type) ArrowType() arrow.DataType {
	switch t {
	case Int64:
		return arrow.PrimitiveTypes.Int64
	case String:
		return arrow.BinaryTypes.String
	case Bool:
		return arrow.FixedWidthTypes.Boolean
	case Numeric:
		return &arrow.Decimal128Type{Precision: NumericPrecision, Scale: NumericScale}
	case Timestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case Date:
		return arrow.FixedWidthTypes.Date32
	}
	panic(fmt.Sprintf("schemas: unknown type %d", int(t)))
}

// ArrowField is the column as an Arrow field. A repeated column is a list of non-null elements and
// is itself never null (an empty list stands for none).
func (c Column) ArrowField() arrow.Field {
	md := arrow.NewMetadata([]string{"description"}, []string{c.Description})
	if c.Repeated {
		return arrow.Field{Name: c.Name, Type: arrow.ListOfNonNullable(c.Type.ArrowType()), Nullable: false, Metadata: md}
	}
	return arrow.Field{Name: c.Name, Type: c.Type.ArrowType(), Nullable: !c.Required, Metadata: md}
}

// ArrowSchema is the table's Arrow schema, columns in order.
func (t Table) ArrowSchema() *arrow.Schema {
	fields := make([]arrow.Field, len(t.Columns))
	for i, c := range t.Columns {
		fields[i] = c.ArrowField()
	}
	return arrow.NewSchema(fields, nil)
}

// DuckDBType is the column's DuckDB type.
func (c Column) DuckDBType() string {
	var s string
	switch c.Type {
	case Int64:
		s = "BIGINT"
	case String:
		s = "VARCHAR"
	case Bool:
		s = "BOOLEAN"
	case Numeric:
		s = fmt.Sprintf("DECIMAL(%d, %d)", NumericPrecision, NumericScale)
	case Timestamp:
		s = "TIMESTAMPTZ"
	case Date:
		s = "DATE"
	}
	if c.Repeated {
		s += "[]"
	}
	return s
}

// DuckDBCreate is the DuckDB statement that creates the table when it does not exist.
func (t Table) DuckDBCreate() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n", QuoteIdent(t.Name))
	for i, c := range t.Columns {
		fmt.Fprintf(&b, "  %s %s", QuoteIdent(c.Name), c.DuckDBType())
		if c.Required || c.Repeated {
			b.WriteString(" NOT NULL")
		}
		if i < len(t.Columns)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString(")")
	return b.String()
}

// QuoteIdent quotes an identifier for DuckDB.
func QuoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
