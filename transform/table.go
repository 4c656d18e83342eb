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
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/ccsync/ccsync/schemas"
)

// col is the index of a column in its table, resolved once per Builder.
type col int

// noCol stands for a column a table does not have: setting it does nothing.
const noCol col = -1

// table accumulates the rows of one table, one row at a time: begin, set the columns the row has,
// end (which appends null, or an empty list, to every column left unset).
type table struct {
	def     schemas.Table
	schema  *arrow.Schema
	rb      *array.RecordBuilder
	cols    []schemas.Column
	set     []bool    // columns set in the current row
	pending int       // rows since the last record
	total   int64     // rows ever
	issues  *[]string // where values that cannot be stored as they are are noted
}

func newTable(mem memory.Allocator, def schemas.Table, issues *[]string) *table {
	t := &table{
		def:    def,
		schema: def.ArrowSchema(),
		cols:   def.Columns,
		set:    make([]bool, len(def.Columns)),
		issues: issues,
	}
	t.rb = array.NewRecordBuilder(mem, t.schema)
	return t
}

// begin starts a row.
func (t *table) begin() { clear(t.set) }

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

// strv sets a String column. Every string column holds valid UTF-8 (Parquet, DuckDB and
// BigQuery all require it): invalid byte sequences are replaced by U+FFFD and the column is noted
// in the record's issues (the original bytes stay in the raw JSON's base64 column).
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

// jsonText sets a String column to a JSON text kept as is (json.RawMessage); empty or null is
// null. Invalid UTF-8 is replaced, as strv does.
func (t *table) jsonText(c col, v []byte) {
	if trimmed := bytes.TrimSpace(v); len(trimmed) == 0 || string(trimmed) == "null" {
		return
	}
	if !utf8.Valid(v) {
		t.strv(c, string(v))
		return
	}
	if t.mark(c) {
		t.rb.Field(int(c)).(*array.StringBuilder).BinaryBuilder.Append(v)
	}
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

func (t *table) boolv(c col, v bool) {
	if t.mark(c) {
		t.rb.Field(int(c)).(*array.BooleanBuilder).Append(v)
	}
}

// timestamp sets a Timestamp column; the zero time is null.
func (t *table) timestamp(c col, v time.Time) {
	if !v.IsZero() {
		t.timestampv(c, arrow.Timestamp(v.UnixMicro()))
	}
}

func (t *table) timestampv(c col, v arrow.Timestamp) {
	if t.mark(c) {
		t.rb.Field(int(c)).(*array.TimestampBuilder).Append(v)
	}
}

// date sets a Date column to the UTC calendar date of v; the zero time is null.
func (t *table) date(c col, v time.Time) {
	if !v.IsZero() && t.mark(c) {
		t.rb.Field(int(c)).(*array.Date32Builder).Append(date32(v))
	}
}

func (t *table) decimalv(c col, v decimal128.Num) {
	if t.mark(c) {
		t.rb.Field(int(c)).(*array.Decimal128Builder).Append(v)
	}
}

// list starts the list of a repeated column in the current row, or returns nil for noCol.
func (t *table) list(c col) *array.ListBuilder {
	if !t.mark(c) {
		return nil
	}
	lb := t.rb.Field(int(c)).(*array.ListBuilder)
	lb.Append(true)
	return lb
}

func (t *table) strs(c col, v []string) {
	if lb := t.list(c); lb != nil {
		sb := lb.ValueBuilder().(*array.StringBuilder)
		for _, s := range v {
			sb.Append(t.validText(c, s))
		}
	}
}

// record returns the rows since the last record and starts afresh, with room in every column for
// as many rows and bytes as the record took (and a quarter more): the next record is about as
// large (the run loop drains the rows every so many records), and growing the buffers as the rows
// come would copy every column again and again.
func (t *table) record() arrow.Record {
	t.pending = 0
	rec := t.rb.NewRecord()
	for i, c := range rec.Columns() {
		reserveLike(t.rb.Field(i), c)
	}
	return rec
}

// reserveLike makes room in b for as many values as a holds, and their bytes and list elements,
// and a quarter more.
func reserveLike(b array.Builder, a arrow.Array) {
	n := a.Len()
	if n == 0 {
		return
	}
	b.Reserve(n + n/4)
	switch a := a.(type) {
	case *array.String:
		if d := len(a.ValueBytes()); d > 0 {
			b.(*array.StringBuilder).ReserveData(d + d/4)
		}
	case *array.List:
		reserveLike(b.(*array.ListBuilder).ValueBuilder(), a.ListValues())
	}
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
