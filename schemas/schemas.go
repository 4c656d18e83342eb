// Package schemas is the single source of truth of ccsync's warehouse: the table list, every
// column with its type, description and PII tag, partitioning and clustering, how each column is
// filled, and the `*_current` views. The Arrow schemas and the way transform fills them, the
// DuckDB DDL and the BigQuery schemas (for load) are all derived from it.
//
// Each column is declared once. A column of a data table is filled either from a leaf of the
// source's JSON (its path relative to the row object) or by a named derivation (Derivation: the
// record's key and date, a position, a constant of the row source, a version stamp, the raw
// JSON, ...). A data table's rows come from row sources (RowSource): the record itself, or every
// element of a list ("purchased_items.apparel.items[]", with direction and category as the row
// source's constants). A source's tables, its record's key and date make a Flattening, which
// Check validates; its PathMap, the JSON-path → column map, follows from the row sources (every
// leaf has exactly one home). CrowdChangeFlattening is CrowdChange's transaction; a new source
// declares its own tables and Flattening the same way, and transform fills them from its Go model
// without code of its own.
package schemas

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
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
	// Derived says how transform fills a column of a data or quarantine table that is the home of
	// no JSON leaf: a key, a position, a version stamp (see Derivation). It is empty for a column
	// filled from the leaves its table's row sources name (Table.Rows), and for bookkeeping
	// columns, which transform does not fill.
	Derived Derivation
	// Treatment is what the run's PII policy does with the column's values (Policy.Table sets
	// it; "" is Keep): Hash stores their keyed hash.
	Treatment Treatment
	// PolicyTag is the BigQuery policy tag (a Data Catalog taxonomy path) the PII policy attaches
	// to the column (Policy.BigQueryTag, on every PII column kept or hashed).
	PolicyTag string
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
	// Rows are where a data table's rows come from, in the order they are added: one row per
	// object each row source names (see RowSource). Nil for the other kinds of tables.
	Rows []RowSource
	// Parent and ParentKey, for a data table whose rows belong to the versions of another (a
	// child: transaction_items of transactions): the parent's name and the child's column that
	// holds the parent's id. A child's current view keeps the rows of its parent's current
	// versions. Empty for a parent, whose versions are of its id column.
	Parent, ParentKey string
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

// The names of the tables every source shares.
const (
	QuarantineTable = "quarantine"
	Checkpoints     = "ccsync_checkpoints"
	Runs            = "ccsync_runs"
)

var (
	quarantineTables  = []Table{quarantineTable()}
	bookkeepingTables = []Table{checkpointsTable(), runsTable()}
	// tablesByName indexes every table, the registered sources' included (RegisterSource adds
	// theirs): ByName is called for every record a batch writes.
	tablesByName = indexTables(append(append([]Table(nil), quarantineTables...), bookkeepingTables...))
)

// indexTables maps each table's name to it.
func indexTables(ts []Table) map[string]Table {
	m := make(map[string]Table, len(ts))
	for _, t := range ts {
		m[t.Name] = t
	}
	return m
}

// QuarantineTables returns the quarantine, which a batch of any source loads after its data
// tables.
func QuarantineTables() []Table { return append([]Table(nil), quarantineTables...) }

// BatchTables are the tables a source's batch loads, in the order its builder returns their
// records: the tables of each of its flattenings, in order, then the quarantine.
func BatchTables(fs ...Flattening) []Table {
	var out []Table
	for _, f := range fs {
		out = append(out, f.Tables...)
	}
	return append(out, quarantineTables...)
}

// SourceDataTables returns every registered source's data tables (RegisterSource), by source name
// and, within a source, in its flattenings' order, parents first.
func SourceDataTables() []Table {
	var out []Table
	for _, name := range SourceNames() {
		for _, f := range sourceRegistry[name].Flattenings {
			out = append(out, f.Tables...)
		}
	}
	return out
}

// LoadTables returns every table a batch of any source may load: every source's data tables,
// then the quarantine.
func LoadTables() []Table { return append(SourceDataTables(), quarantineTables...) }

// BookkeepingTables returns ccsync's own tables: checkpoints and the run log.
func BookkeepingTables() []Table { return append([]Table(nil), bookkeepingTables...) }

// AllTables returns every table: every source's data tables, the quarantine, then bookkeeping.
func AllTables() []Table { return append(LoadTables(), bookkeepingTables...) }

// ByName returns the table called name.
func ByName(name string) (Table, bool) {
	t, ok := tablesByName[name]
	return t, ok
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
		if c.Derived == RawJSON || c.Derived == RawJSONBase64 {
			// The raw JSON is most of a record's bytes and compresses well as a whole; DuckDB's
			// default string compressions leave strings this long uncompressed. (A file of a
			// storage version before v1.2 ignores this: see load.OpenDuckDB.)
			b.WriteString(" USING COMPRESSION zstd")
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

// Derivation names how transform fills a column that is the home of no JSON leaf.
type Derivation string

// The derivations. Those of a data table are filled for every row of every row source (a
// derivation a row source does not provide leaves the column NULL); those of the quarantine
// table come from the item and the window it was quarantined in.
const (
	// RecordKey is the record's key: the leaf at Flattening.Key (transaction_id).
	RecordKey Derivation = "record key"
	// RecordDate is the UTC calendar date of the leaf at Flattening.Date (transaction_date).
	RecordDate Derivation = "record date"
	// RunID, BatchID and ExtractedAt are the version stamps (transform.Meta).
	RunID       Derivation = "run id"
	BatchID     Derivation = "batch id"
	ExtractedAt Derivation = "extracted at"
	// Position is the row object's index in its list, from 0; NULL for the record itself.
	Position Derivation = "position"
	// OuterPosition is, for a row object in a list inside an element of another list, that
	// element's index in its list (a registration's position for its custom data answers); NULL
	// for a row object in a list of the record itself.
	OuterPosition Derivation = "outer position"
	// RowConstant is the value the row source gives the column (RowSource.Constants): direction,
	// category, level. A String column.
	RowConstant Derivation = "row constant"
	// RowCopy is a copy of a leaf whose home is another column (RowSource.Copies): the item's id
	// in a detail table, the owner of a custom data list.
	RowCopy Derivation = "row copy"
	// DonorKey is the donor key of the e-mail a RowSource.Copies entry names: the keyed hash
	// (Policy.Hash) of the e-mail trimmed and lower-cased when a PII key is configured, else that
	// normalised e-mail where the policy keeps the e-mail, else null. The same e-mail gives the same
	// key in every source, so that the donations model joins a donor across platforms.
	DonorKey Derivation = "donor key"
	// RawJSON is the record (or quarantined item) exactly as the API sent it; invalid UTF-8 is
	// replaced by U+FFFD, and the original bytes kept in the RawJSONBase64 column.
	RawJSON Derivation = "raw json"
	// RawJSONBase64 is the original bytes of RawJSON, base64-encoded, when they were not valid
	// UTF-8; NULL otherwise.
	RawJSONBase64 Derivation = "raw json base64"
	// UnknownFields are the JSON paths of the record's leaves without a home (a repeated String).
	UnknownFields Derivation = "unknown fields"
	// DecodeError says why the record could not be fully decoded or stored; NULL when it could.
	DecodeError Derivation = "decode error"

	// The quarantine's: the stream and payout account of the window the item came in, the
	// window's bounds, the page (from 1) and position (from 0) of the item, and why it was
	// quarantined.
	QuarantineStream      Derivation = "quarantine stream"
	QuarantineAccount     Derivation = "quarantine account"
	QuarantineWindowStart Derivation = "quarantine window start"
	QuarantineWindowEnd   Derivation = "quarantine window end"
	QuarantinePage        Derivation = "quarantine page"
	QuarantinePosition    Derivation = "quarantine position"
	QuarantineReason      Derivation = "quarantine reason"
)

// dataDerivations are the derivations a data table's column may have.
var dataDerivations = map[Derivation]bool{
	RecordKey: true, RecordDate: true, RunID: true, BatchID: true, ExtractedAt: true,
	Position: true, OuterPosition: true, RowConstant: true, RowCopy: true, DonorKey: true,
	RawJSON: true, RawJSONBase64: true, UnknownFields: true, DecodeError: true,
}

// RowSource is where some of a data table's rows come from: one row per object at Each. The
// row's columns are filled from the object's leaves (Leaves), from constants (Constants), from
// leaves that live elsewhere (Copies) and by the columns' derivations (Column.Derived).
type RowSource struct {
	// Each is the JSON path, from the record, of the row objects: "" for the record itself, else
	// a list whose every element is a row, "[]" standing for every element of a list:
	// "purchased_items.apparel.items[]", "purchased_items.registration.items[].custom_data[]".
	Each string
	// Leaves are the row object's leaves and their home columns, paths relative to the row
	// object ("price", "card.price"); a list of scalars ends in "[]" and lives in a repeated
	// column.
	Leaves []Leaf
	// Constants are the values of the row source's RowConstant columns.
	Constants []Constant
	// Copies fill RowCopy columns with leaves whose home is another column. Their paths are from
	// the record, each "[]" standing for the current element of that list on the way to the row
	// object ("purchased_items.registration.items[].id" for the answers of a registration).
	Copies []Leaf
}

// Leaf is a JSON path and the column that holds its value.
type Leaf struct {
	Path   string
	Column string
}

// Constant is a column's value in every row of a row source.
type Constant struct {
	Column string
	Value  string
}

// Flattening is how one source's records (the API objects it keeps versions of: a CrowdChange
// transaction, a Donately donation) become rows of its data tables. Together with the tables'
// columns and row sources it is everything transform needs to fill the tables from the source's
// Go model; nothing about a column is written again elsewhere.
type Flattening struct {
	// Record names one record in messages: "transaction".
	Record string
	// Key is the JSON path of the record's key (RecordKey columns): "id".
	Key string
	// Date is the JSON path of the record's date (RecordDate columns): "date".
	Date string
	// Tables are the source's data tables, in the order their rows are added. Rows are added
	// table by table; a table with a DecodeError column comes last, as it reports what could not
	// be stored in the others.
	Tables []Table
	// Embedded are the objects of a record that are other records, versioned in their own tables
	// (a Crowdtilt payment's campaign and user): their leaves are not the record's unknown fields,
	// though only the columns the tables declare (their ids) are kept of them in the record's rows.
	// The record's raw JSON keeps them whole, under their own records' PII policy.
	Embedded []Embedded

	// Set by Policy.Flattening, for transform.
	//
	// Hash is the PII policy's keyed hash (nil: no key), for the columns it hashes and the donor
	// keys.
	Hash func(string) string
	// Dropped are the paths of the leaves whose columns the policy drops: still known leaves.
	Dropped []string
	// Redact are the paths whose values the raw JSON does not keep as they are.
	Redact []Redaction
}

// Embedded is an object of a record that is another record: its path from the record and, when
// the record is declared, its flattening (whose PII policy applies to the object in the raw JSON).
type Embedded struct {
	Path   string
	Record func() Flattening
}

// KnownLeaves are the JSON paths of f that are not unknown fields, sorted: every leaf of PathMap,
// the Embedded objects (whose whole subtree is known) and the leaves the PII policy dropped.
func (f Flattening) KnownLeaves() []string {
	m := f.PathMap()
	out := make([]string, 0, len(m)+len(f.Embedded)+len(f.Dropped))
	for _, mp := range m {
		out = append(out, mp.JSONPath)
	}
	for _, e := range f.Embedded {
		out = append(out, e.Path)
	}
	out = append(out, f.Dropped...)
	sort.Strings(out)
	return out
}

// PathMap returns the JSON-path → column map of f: every leaf its tables' row sources name and its
// home column, sorted by path. A path is from the record, array elements written "[]".
func (f Flattening) PathMap() []Mapping {
	var out []Mapping
	for _, t := range f.Tables {
		for _, rs := range t.Rows {
			for _, l := range rs.Leaves {
				out = append(out, Mapping{JSONPath: JoinPath(rs.Each, l.Path), Table: t.Name, Column: l.Column})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].JSONPath < out[j].JSONPath })
	return out
}

// JoinPath is the path rel relative to the object at base ("" for the record).
func JoinPath(base, rel string) string {
	if base == "" {
		return rel
	}
	return base + "." + rel
}

// Check reports the first mistake in f's declarations that can be seen without the source's Go
// model (transform sees the others: a path that names no field, a Go type that does not fit its
// column). It checks that every column of every table is filled by something (the leaves of a
// row source, or its derivation), that every leaf, constant and copy names a column of the right
// kind, that every leaf has exactly one home, and that the paths are well formed.
func (f Flattening) Check() error {
	if f.Record == "" {
		return errors.New("schemas: a flattening without a record name")
	}
	if len(f.Tables) == 0 {
		return fmt.Errorf("schemas: the %s flattening has no tables", f.Record)
	}
	for _, p := range []string{f.Key, f.Date} {
		if p != "" && !validPath(p, false) {
			return fmt.Errorf("schemas: the %s flattening: bad record path %q", f.Record, p)
		}
	}
	for _, e := range f.Embedded {
		if !validPath(e.Path, false) {
			return fmt.Errorf("schemas: the %s flattening: bad embedded record path %q", f.Record, e.Path)
		}
	}
	homes := map[string]Mapping{}
	for ti, t := range f.Tables {
		if err := f.checkTable(t, ti == len(f.Tables)-1, homes); err != nil {
			return err
		}
	}
	return nil
}

func (f Flattening) checkTable(t Table, last bool, homes map[string]Mapping) error {
	if t.Kind != Data {
		return fmt.Errorf("schemas: %s is not a data table", t.Name)
	}
	if len(t.Rows) == 0 {
		return fmt.Errorf("schemas: %s has no row source", t.Name)
	}
	isLeafHome := map[string]bool{}
	for _, rs := range t.Rows {
		for _, l := range rs.Leaves {
			isLeafHome[l.Column] = true
		}
	}
	for _, c := range t.Columns {
		switch {
		case c.Derived == "" && !isLeafHome[c.Name]:
			return fmt.Errorf("schemas: %s.%s is filled by nothing: no leaf lives in it and it has no derivation", t.Name, c.Name)
		case c.Derived != "" && isLeafHome[c.Name]:
			return fmt.Errorf("schemas: %s.%s is both derived (%s) and the home of leaves", t.Name, c.Name, c.Derived)
		case c.Derived != "" && !dataDerivations[c.Derived]:
			return fmt.Errorf("schemas: %s.%s: %q is not a derivation of a data table", t.Name, c.Name, c.Derived)
		case c.Derived == RecordKey && f.Key == "", c.Derived == RecordDate && f.Date == "":
			return fmt.Errorf("schemas: %s.%s is the record's %s, which the %s flattening does not name", t.Name, c.Name, c.Derived, f.Record)
		case c.Derived == DecodeError && !last:
			return fmt.Errorf("schemas: %s.%s: the table with the decode error must be the flattening's last", t.Name, c.Name)
		case c.Derived == RowConstant && (c.Type != String || c.Repeated):
			return fmt.Errorf("schemas: %s.%s: a row constant is a STRING column", t.Name, c.Name)
		}
	}
	for _, rs := range t.Rows {
		if err := checkRowSource(t, rs, homes); err != nil {
			return err
		}
	}
	return nil
}

func checkRowSource(t Table, rs RowSource, homes map[string]Mapping) error {
	where := fmt.Sprintf("%s (rows at %q)", t.Name, rs.Each)
	if rs.Each != "" && (!strings.HasSuffix(rs.Each, "[]") || !validPath(rs.Each, true)) {
		return fmt.Errorf("schemas: %s: the row objects' path must be a list (ending in []), or empty for the record", where)
	}
	filled := map[string]bool{}
	fill := func(col string, want Derivation, what string) (Column, error) {
		c, ok := t.Column(col)
		switch {
		case !ok:
			return c, fmt.Errorf("schemas: %s: %s names column %s, which the table does not have", where, what, col)
		case c.Derived != want:
			return c, fmt.Errorf("schemas: %s: %s fills column %s, whose derivation is %q, not %q", where, what, col, c.Derived, want)
		case filled[col]:
			return c, fmt.Errorf("schemas: %s: column %s is filled twice in one row", where, col)
		}
		filled[col] = true
		return c, nil
	}
	for _, l := range rs.Leaves {
		c, err := fill(l.Column, "", "leaf "+l.Path)
		if err != nil {
			return err
		}
		if !validPath(l.Path, false) && !(c.Repeated && validPath(strings.TrimSuffix(l.Path, "[]"), false)) {
			return fmt.Errorf("schemas: %s: bad leaf path %q (nested lists are row sources of their own)", where, l.Path)
		}
		if list := strings.HasSuffix(l.Path, "[]"); list != c.Repeated {
			return fmt.Errorf("schemas: %s: leaf %s (a list: %t) lives in %s (repeated: %t)", where, l.Path, list, c.Name, c.Repeated)
		}
		m := Mapping{JSONPath: JoinPath(rs.Each, l.Path), Table: t.Name, Column: c.Name}
		if prev, dup := homes[m.JSONPath]; dup {
			return fmt.Errorf("schemas: %s has two homes: %s.%s and %s.%s", m.JSONPath, prev.Table, prev.Column, m.Table, m.Column)
		}
		homes[m.JSONPath] = m
	}
	for _, k := range rs.Constants {
		if _, err := fill(k.Column, RowConstant, "constant "+strconv.Quote(k.Value)); err != nil {
			return err
		}
	}
	for _, cp := range rs.Copies {
		want := RowCopy
		if c, ok := t.Column(cp.Column); ok && c.Derived == DonorKey {
			if c.Type != String || c.Repeated {
				return fmt.Errorf("schemas: %s: the donor key %s must be a STRING", where, c.Name)
			}
			want = DonorKey
		}
		if _, err := fill(cp.Column, want, "copy of "+cp.Path); err != nil {
			return err
		}
		lists := "" // the lists on the way to the copied leaf: they must be on the way to the rows
		if i := strings.LastIndex(cp.Path, "[]"); i >= 0 {
			lists = cp.Path[:i+2]
		}
		if !validPath(cp.Path, true) || strings.HasSuffix(cp.Path, "[]") || !strings.HasPrefix(rs.Each, lists) {
			return fmt.Errorf("schemas: %s: the copy of %s must be a scalar of the record or of an object on the way to the row objects", where, cp.Path)
		}
	}
	return nil
}

// validPath reports whether p is a dot-separated path of non-empty keys; with lists, a key may
// end in "[]" (an element of that list).
func validPath(p string, lists bool) bool {
	if p == "" {
		return false
	}
	for _, seg := range strings.Split(p, ".") {
		if lists {
			seg = strings.TrimSuffix(seg, "[]")
		}
		if seg == "" || strings.ContainsAny(seg, "[]") {
			return false
		}
	}
	return true
}
