package transform_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchangetest"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/transform"
)

// testMeta stamps the rows of every test.
var testMeta = transform.Meta{
	RunID:       "run-1",
	BatchID:     "batch-1",
	ExtractedAt: time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC),
}

// decodeFetched decodes one transaction object as the client does: the model, and why it could not
// be fully decoded.
func decodeFetched(raw json.RawMessage) extract.Fetched {
	var tx extract.Transaction
	err := json.Unmarshal(raw, &tx)
	return extract.Fetched{ID: tx.ID, Raw: raw, Tx: tx, Err: err}
}

// pageTransactions returns the raw transaction objects of a page, byte for byte.
func pageTransactions(t testing.TB, page []byte) []json.RawMessage {
	t.Helper()
	var p extract.Page
	if err := json.Unmarshal(page, &p); err != nil {
		t.Fatalf("decoding the page: %v", err)
	}
	if len(p.Data) == 0 {
		t.Fatal("the page has no transactions")
	}
	return p.Data
}

// exampleFetched decodes the API's example response.
func exampleFetched(t testing.TB) []extract.Fetched {
	t.Helper()
	var out []extract.Fetched
	for _, raw := range pageTransactions(t, crowdchangetest.ExamplePage()) {
		f := decodeFetched(raw)
		if f.Err != nil {
			t.Fatalf("decoding the example transaction: %v", f.Err)
		}
		out = append(out, f)
	}
	return out
}

// sandboxPage returns page n (100 transactions) of a deterministic sandbox, served in process.
func sandboxPage(t testing.TB, n int) []byte {
	t.Helper()
	end := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := crowdchangetest.New(crowdchangetest.Options{
		Seed: 7, Transactions: 1000, From: end.AddDate(-1, 0, 0), To: end,
		Now: func() time.Time { return end },
	})
	req := httptest.NewRequest(http.MethodGet, "/v2/private/transactions?sort=id&limit=100&page="+strconv.Itoa(n), nil)
	req.Header.Set("Authorization", "Bearer "+crowdchangetest.DefaultAPIKey)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("sandbox page %d: status %d", n, rec.Code)
	}
	return rec.Body.Bytes()
}

// build runs transactions through a Builder and returns the records' contents as Go values. The
// allocator is checked: every Arrow buffer is released before it returns.
func build(t *testing.T, fs ...extract.Fetched) (map[string]*rows, transform.Stats) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := transform.NewBuilder(mem)
	defer b.Release()
	for _, f := range fs {
		b.Add(f, testMeta)
	}
	if b.Len() != len(fs) {
		t.Errorf("Len = %d, want %d", b.Len(), len(fs))
	}
	recs := b.NewRecords()
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	checkRecords(t, recs)
	out := map[string]*rows{}
	for _, r := range recs {
		rs := rowsOf(r)
		out[rs.table.Name] = rs
	}
	return out, b.Stats()
}

// checkRecords checks the records' shape: one per data table, in order, with the table's schema.
func checkRecords(t *testing.T, recs []arrow.Record) {
	t.Helper()
	tables := schemas.BatchTables()
	if len(recs) != len(tables) {
		t.Fatalf("got %d records, want one per data table (%d)", len(recs), len(tables))
	}
	for i, tb := range tables {
		if !recs[i].Schema().Equal(tb.ArrowSchema()) {
			t.Errorf("record %d: schema differs from %s's:\n%s", i, tb.Name, recs[i].Schema())
		}
		for j, c := range recs[i].Columns() {
			if c.Len() != int(recs[i].NumRows()) {
				t.Errorf("%s.%s has %d values for %d rows", tb.Name, tb.Columns[j].Name, c.Len(), recs[i].NumRows())
			}
			if (tb.Columns[j].Required || tb.Columns[j].Repeated) && c.NullN() != 0 {
				t.Errorf("%s.%s is never null but has %d nulls", tb.Name, tb.Columns[j].Name, c.NullN())
			}
		}
	}
}

// rows are a record's contents: cells are nil (null), int64, string, bool, *big.Rat (Numeric),
// time.Time (Timestamp, Date: UTC) or []any (repeated).
type rows struct {
	table schemas.Table
	cells [][]any
}

func (r *rows) get(row int, column string) any {
	i := r.table.ColumnIndex(column)
	if i < 0 {
		panic("no column " + column + " in " + r.table.Name)
	}
	return r.cells[row][i]
}

// find returns the rows whose columns equal the given values (pairs of column name and value).
func (r *rows) find(kv ...any) []int {
	var out []int
next:
	for i := range r.cells {
		for k := 0; k < len(kv); k += 2 {
			if !sameCell(r.get(i, kv[k].(string)), kv[k+1]) {
				continue next
			}
		}
		out = append(out, i)
	}
	return out
}

func sameCell(a, b any) bool {
	switch x := a.(type) {
	case *big.Rat:
		y, ok := b.(*big.Rat)
		return ok && x.Cmp(y) == 0
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return a == b
}

func rowsOf(rec arrow.Record) *rows {
	tb := tableOf(rec)
	out := &rows{table: tb}
	for i := 0; i < int(rec.NumRows()); i++ {
		row := make([]any, rec.NumCols())
		for j, c := range rec.Columns() {
			row[j] = cellOf(c, i)
		}
		out.cells = append(out.cells, row)
	}
	return out
}

// tableOf finds the table of a record by its schema.
func tableOf(rec arrow.Record) schemas.Table {
	for _, tb := range schemas.BatchTables() {
		if rec.Schema().Equal(tb.ArrowSchema()) {
			return tb
		}
	}
	panic("no data table has the record's schema")
}

var tenToScale = new(big.Int).Exp(big.NewInt(10), big.NewInt(schemas.NumericScale), nil)

func cellOf(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Int64:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Decimal128:
		return new(big.Rat).SetFrac(a.Value(i).BigInt(), tenToScale)
	case *array.Timestamp:
		return time.UnixMicro(int64(a.Value(i))).UTC()
	case *array.Date32:
		return a.Value(i).ToTime().UTC()
	case *array.List:
		start, end := a.ValueOffsets(i)
		vals := a.ListValues()
		out := []any{}
		for k := start; k < end; k++ {
			out = append(out, cellOf(vals, int(k)))
		}
		return out
	}
	panic(fmt.Sprintf("unexpected array type %s", a.DataType()))
}

// decimalString renders a decimal exactly, with scale fractional digits ("29.950000000").
func decimalString(n decimal128.Num, scale int) string {
	bi := n.BigInt()
	neg := bi.Sign() < 0
	s := new(big.Int).Abs(bi).String()
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	if scale > 0 {
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// renderRecords renders records as JSON lines, one per row, columns in schema order; decimals as
// exact strings, timestamps in RFC 3339 (UTC), dates as YYYY-MM-DD.
func renderRecords(recs []arrow.Record) []byte {
	var buf bytes.Buffer
	for _, rec := range recs {
		renderRows(&buf, tableOf(rec), rec)
	}
	return buf.Bytes()
}

// renderRecordsOf renders the records of tables (recs[i] is tables[i]'s) as renderRecords does.
func renderRecordsOf(tables []schemas.Table, recs []arrow.Record) []byte {
	var buf bytes.Buffer
	for i, rec := range recs {
		renderRows(&buf, tables[i], rec)
	}
	return buf.Bytes()
}

func renderRows(buf *bytes.Buffer, tb schemas.Table, rec arrow.Record) {
	for i := 0; i < int(rec.NumRows()); i++ {
		fmt.Fprintf(buf, `{"_table":%q`, tb.Name)
		for j, c := range rec.Columns() {
			fmt.Fprintf(buf, ",%q:", tb.Columns[j].Name)
			renderCell(buf, c, i)
		}
		buf.WriteString("}\n")
	}
}

func renderCell(buf *bytes.Buffer, a arrow.Array, i int) {
	if a.IsNull(i) {
		buf.WriteString("null")
		return
	}
	var v any
	switch a := a.(type) {
	case *array.Decimal128:
		v = decimalString(a.Value(i), int(a.DataType().(*arrow.Decimal128Type).Scale))
	case *array.Timestamp:
		v = time.UnixMicro(int64(a.Value(i))).UTC().Format(time.RFC3339Nano)
	case *array.Date32:
		v = a.Value(i).ToTime().UTC().Format(time.DateOnly)
	case *array.List:
		start, end := a.ValueOffsets(i)
		buf.WriteString("[")
		for k := start; k < end; k++ {
			if k > start {
				buf.WriteString(",")
			}
			renderCell(buf, a.ListValues(), int(k))
		}
		buf.WriteString("]")
		return
	default:
		v = cellOf(a, i)
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	buf.Write(b)
}

// decodeAny decodes JSON keeping numbers as their literals.
func decodeAny(t testing.TB, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding JSON: %v", err)
	}
	return v
}

// jsonValue converts a JSON leaf to the cell a column of type typ must hold.
func jsonValue(t testing.TB, typ schemas.Type, v any) any {
	t.Helper()
	if v == nil {
		return nil
	}
	bad := func() any {
		t.Fatalf("JSON value of type %T does not fit a %s column", v, typ)
		return nil
	}
	switch typ {
	case schemas.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return bad()
		}
		return i
	case schemas.String:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		return s
	case schemas.Bool:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		return b
	case schemas.Numeric:
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		r, ok := new(big.Rat).SetString(string(n))
		if !ok {
			return bad()
		}
		return r
	case schemas.Timestamp:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		ts, err := time.Parse(extract.DateTimeLayout, s)
		if err != nil {
			return bad()
		}
		return ts
	case schemas.Date:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		d, err := time.Parse(extract.DateLayout, s)
		if err != nil {
			return bad()
		}
		return d
	}
	return bad()
}
