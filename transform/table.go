package transform

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/schemas"
)

// col is the index of a column in its table, resolved by name once per Builder.
type col int

// noCol stands for a column a table does not have: setting it does nothing. Only ever chosen
// explicitly, never the result of a failed lookup (which panics).
const noCol col = -1

// table accumulates the rows of one data table, one row at a time: begin, set the columns the
// transaction has, end (which appends null, or an empty list, to every column left unset).
type table struct {
	def     schemas.Table
	schema  *arrow.Schema
	rb      *array.RecordBuilder
	cols    []schemas.Column
	set     []bool // columns set in the current row
	claimed []bool // columns resolved by name: every column must be, see Builder.unclaimed
	pending int    // rows since the last record
	total   int64  // rows ever

	// Stamps of every row.
	txID, txDate, runID, batchID, extractedAt col
	issues                                    *[]string // where money that cannot be stored is noted
}

func newTable(mem memory.Allocator, def schemas.Table, issues *[]string) *table {
	t := &table{
		def:     def,
		schema:  def.ArrowSchema(),
		cols:    def.Columns,
		set:     make([]bool, len(def.Columns)),
		claimed: make([]bool, len(def.Columns)),
		issues:  issues,
	}
	t.rb = array.NewRecordBuilder(mem, t.schema)
	t.txID, t.txDate = noCol, noCol
	if def.Kind == schemas.Data {
		if def.Name != schemas.Transactions {
			t.txID = t.col("transaction_id")
		}
		t.txDate = t.col("transaction_date")
	}
	t.runID = t.col(schemas.ColRunID)
	t.batchID = t.col(schemas.ColBatchID)
	t.extractedAt = t.col(schemas.ColExtractedAt)
	return t
}

// col resolves a column by name. An unknown name is a bug in this package: it panics when the
// Builder is made, so that every test catches it.
func (t *table) col(name string) col {
	i := t.def.ColumnIndex(name)
	if i < 0 {
		panic(fmt.Sprintf("transform: table %s has no column %q", t.def.Name, name))
	}
	t.claimed[i] = true
	return col(i)
}

// version is what stamps every row of one transaction version.
type version struct {
	id        int64
	date      time.Time // zero when the transaction has no date
	runID     string
	batchID   string
	extracted arrow.Timestamp
}

// begin starts a row, stamped with the transaction version.
func (t *table) begin(v *version) {
	clear(t.set)
	if t.txID != noCol {
		t.intv(t.txID, v.id)
	}
	t.date(t.txDate, v.date)
	t.strv(t.runID, v.runID)
	t.strv(t.batchID, v.batchID)
	t.mark(t.extractedAt)
	t.rb.Field(int(t.extractedAt)).(*array.TimestampBuilder).Append(v.extracted)
}

// end finishes the row: unset columns get null, or an empty list when repeated.
func (t *table) end() {
	for i, done := range t.set {
		if done {
			continue
		}
		c := t.cols[i]
		switch {
		case c.Repeated:
			t.rb.Field(i).(*array.ListBuilder).Append(true)
		case c.Required:
			panic(fmt.Sprintf("transform: %s.%s is required and was not set", t.def.Name, c.Name))
		default:
			t.rb.Field(i).AppendNull()
		}
	}
	t.pending++
	t.total++
}

// mark records that column c is set in the current row; it reports false for noCol.
func (t *table) mark(c col) bool {
	if c == noCol {
		return false
	}
	if t.set[c] {
		panic(fmt.Sprintf("transform: %s.%s set twice in one row", t.def.Name, t.cols[c].Name))
	}
	t.set[c] = true
	return true
}

func (t *table) intv(c col, v int64) {
	if t.mark(c) {
		t.rb.Field(int(c)).(*array.Int64Builder).Append(v)
	}
}

func (t *table) intp(c col, v *int64) {
	if v != nil {
		t.intv(c, *v)
	}
}

// strv sets a String column. Every string column holds valid UTF-8 (Parquet, DuckDB and
// BigQuery all require it): invalid byte sequences are replaced by U+FFFD and the column is noted
// in the transaction's issues (the original bytes stay in raw_bytes_base64).
func (t *table) strv(c col, v string) {
	if t.mark(c) {
		t.rb.Field(int(c)).(*array.StringBuilder).Append(t.validText(c, v))
	}
}

// validText returns v with invalid UTF-8 replaced by U+FFFD, noting column c when it had any.
func (t *table) validText(c col, v string) string {
	if utf8.ValidString(v) {
		return v
	}
	t.note(c, "invalid UTF-8 replaced by U+FFFD")
	return strings.ToValidUTF8(v, string(utf8.RuneError))
}

// rawJSON sets a raw JSON column (String, at c) from the API's bytes, without an intermediate
// string when they are valid UTF-8. When they are not, c holds them with invalid sequences
// replaced by U+FFFD and the column at original holds the bytes base64-encoded; it reports
// whether that was needed.
func (t *table) rawJSON(c, original col, v []byte) (replaced bool) {
	if utf8.Valid(v) {
		if t.mark(c) {
			t.rb.Field(int(c)).(*array.StringBuilder).BinaryBuilder.Append(v)
		}
		return false
	}
	if t.mark(c) {
		t.rb.Field(int(c)).(*array.StringBuilder).BinaryBuilder.Append(bytes.ToValidUTF8(v, []byte(string(utf8.RuneError))))
	}
	if t.mark(original) {
		t.rb.Field(int(original)).(*array.StringBuilder).Append(base64.StdEncoding.EncodeToString(v))
	}
	return true
}

// note records an issue with the value of column c of the current row (its table and column,
// never the value).
func (t *table) note(c col, what string) {
	*t.issues = append(*t.issues, t.def.Name+"."+t.cols[c].Name+": "+what)
}

func (t *table) strp(c col, v *string) {
	if v != nil {
		t.strv(c, *v)
	}
}

func (t *table) boolp(c col, v *bool) {
	if v != nil && t.mark(c) {
		t.rb.Field(int(c)).(*array.BooleanBuilder).Append(*v)
	}
}

// timestamp sets a Timestamp column; the zero time is null.
func (t *table) timestamp(c col, v time.Time) {
	if !v.IsZero() && t.mark(c) {
		t.rb.Field(int(c)).(*array.TimestampBuilder).Append(arrow.Timestamp(v.UnixMicro()))
	}
}

// date sets a Date column to the UTC calendar date of v; the zero time is null.
func (t *table) date(c col, v time.Time) {
	if !v.IsZero() && t.mark(c) {
		t.rb.Field(int(c)).(*array.Date32Builder).Append(date32(v))
	}
}

// money sets a Numeric column from the amount's literal; null when the amount is. A literal that
// cannot be stored exactly leaves the column null and is noted (its path, never its value).
func (t *table) money(c col, m extract.Money, at loc, key string) {
	if m.IsNull() {
		return
	}
	n, err := ParseDecimal(string(m), schemas.NumericPrecision, schemas.NumericScale)
	if err != nil {
		*t.issues = append(*t.issues, at.path(key)+": "+err.Error())
		return
	}
	if t.mark(c) {
		t.rb.Field(int(c)).(*array.Decimal128Builder).Append(n)
	}
}

func (t *table) ints(c col, v []int64) {
	if t.mark(c) {
		lb := t.rb.Field(int(c)).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.Int64Builder).AppendValues(v, nil)
	}
}

func (t *table) strs(c col, v []string) {
	if t.mark(c) {
		lb := t.rb.Field(int(c)).(*array.ListBuilder)
		lb.Append(true)
		sb := lb.ValueBuilder().(*array.StringBuilder)
		for _, s := range v {
			sb.Append(t.validText(c, s))
		}
	}
}

// record returns the rows since the last record and starts afresh.
func (t *table) record() arrow.Record {
	t.pending = 0
	return t.rb.NewRecord()
}

// loc locates an object of a transaction for messages: the JSON path of the list it is an element
// of and its index, or the transaction itself (list "").
type loc struct {
	list string
	pos  int
}

func (l loc) path(key string) string {
	if l.list == "" {
		return key
	}
	return fmt.Sprintf("%s[%d].%s", l.list, l.pos, key)
}

// date32 is the number of days from 1970-01-01 to the UTC calendar date of v.
func date32(v time.Time) arrow.Date32 {
	s := v.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return arrow.Date32(d)
}
