package schemas

// The shapes every versioned API record of a source takes (a Donately donation, a Crowdtilt
// payment): a table with one row per extracted version of the record, partitioned by the date of
// its creation, and a table of its raw JSON beside it. A source declares its columns with Field
// and gets the tables from RecordTable and RawTable.

// Field is one column of a record's table and the JSON path (from the record) it is filled from:
// a column is declared once, in its Field.
type Field struct {
	Path   string
	Column Column
}

// FieldAt is the Field of column c, filled from the leaf at path.
func FieldAt(path string, c Column) Field { return Field{Path: path, Column: c} }

// RecordTable declares the table of a versioned record: fields in order (the record's key
// first), the partitioning column date (a RecordDate derivation) right after the key, and the
// version stamps last; one row per version.
func RecordTable(name, desc string, date Column, fields ...Field) Table {
	var cols []Column
	var leaves []Leaf
	for i, f := range fields {
		cols = append(cols, f.Column)
		leaves = append(leaves, Leaf{Path: f.Path, Column: f.Column.Name})
		if i == 0 {
			cols = append(cols, date)
		}
	}
	return Table{
		Name: name, Kind: Data, Description: desc, Partition: date.Name, Cluster: []string{fields[0].Column.Name},
		Columns: Versioned(cols...),
		Rows:    []RowSource{{Each: "", Leaves: leaves}},
	}
}

// RawTable declares the raw JSON table of a versioned record's versions (the table parent,
// whose key column key names): the record's JSON as the API sent it, which rawDesc describes,
// its unknown fields, why it could not be fully decoded, and its original bytes when they were
// not UTF-8. dateCol is the partitioning column's name.
func RawTable(name, parent, key, dateCol, desc, rawDesc string) Table {
	return Table{
		Name: name, Kind: Data, Parent: parent, ParentKey: key, Description: desc,
		Partition: dateCol, Cluster: []string{key},
		Columns: Versioned(
			Column{Name: key, Type: String, Required: true, Derived: RecordKey, Description: "The record (" + parent + ".id)."},
			Column{Name: dateCol, Type: Date, Derived: RecordDate, Description: "The UTC date the record was created; the partitioning column."},
			Column{Name: "raw", Type: String, Required: true, PII: true, Derived: RawJSON, Description: rawDesc},
			Column{Name: "unknown_fields", Type: String, Repeated: true, Derived: UnknownFields, Description: "JSON paths of leaves the model does not know (array indexes written as [])."},
			Column{Name: "decode_error", Type: String, Derived: DecodeError, Description: "Why the typed model could not fully decode the record, if it could not; names paths, never values."},
			RawBytesBase64,
		),
		Rows: []RowSource{{Each: ""}},
	}
}

// ColDonorKey is the donor key column of a table that holds a donor's e-mail (DonorKeyColumn).
const ColDonorKey = "donor_key"

// DonorKeyColumn declares the donor key (column ColDonorKey) of the table's e-mail column
// emailColumn (a DonorKey derivation copying the e-mail's leaf).
func DonorKeyColumn(emailColumn string) Column { return DonorKeyColumnNamed(ColDonorKey, emailColumn) }

// DonorKeyColumnNamed is DonorKeyColumn under another name, for a table with two e-mails.
func DonorKeyColumnNamed(name, emailColumn string) Column {
	return Column{Name: name, Type: String, PII: true, Derived: DonorKey,
		Description: "The donor key: HMAC-SHA256 of " + emailColumn + " trimmed and lower-cased, with the PII key, when one is configured (the same e-mail gives the same key in every source); else that normalised e-mail where the PII policy keeps " + emailColumn + "; else null."}
}

// WithDonorKey adds the donor key of the e-mail at emailPath (from the record; its column is
// emailColumn) to a RecordTable, before the version stamps.
func WithDonorKey(t Table, emailPath, emailColumn string) Table {
	stamps := len(VersionColumns(""))
	n := len(t.Columns) - stamps
	cols := append(append(append([]Column(nil), t.Columns[:n]...), DonorKeyColumn(emailColumn)), t.Columns[n:]...)
	t.Columns = cols
	rows := append([]RowSource(nil), t.Rows...)
	rows[0].Copies = append(append([]Leaf(nil), rows[0].Copies...), Leaf{Path: emailPath, Column: ColDonorKey})
	t.Rows = rows
	return t
}

// Versioned appends the version stamps (VersionColumns) to a versioned record's columns.
func Versioned(cols ...Column) []Column {
	return append(cols, VersionColumns("a record")...)
}
