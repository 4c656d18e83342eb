package crowdchange_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/schemas"
	crowdchangeschema "github.com/ccsync/ccsync/schemas/crowdchange"
	"github.com/ccsync/ccsync/transform"
	transformcrowdchange "github.com/ccsync/ccsync/transform/crowdchange"
	"github.com/ccsync/ccsync/transform/transformtest"
)

// testMeta stamps the rows of every test.
var testMeta = transform.Meta{
	RunID:       "run-1",
	BatchID:     "batch-1",
	ExtractedAt: time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC),
}

// decodeFetched decodes one transaction object as the client does: the model, and why it could not
// be fully decoded.
func decodeFetched(raw json.RawMessage) crowdchange.Fetched {
	var tx crowdchange.Transaction
	err := json.Unmarshal(raw, &tx)
	return crowdchange.Fetched{ID: tx.ID, Raw: raw, Tx: tx, Err: err}
}

// pageTransactions returns the raw transaction objects of a page, byte for byte.
func pageTransactions(t testing.TB, page []byte) []json.RawMessage {
	t.Helper()
	var p crowdchange.Page
	if err := json.Unmarshal(page, &p); err != nil {
		t.Fatalf("decoding the page: %v", err)
	}
	if len(p.Data) == 0 {
		t.Fatal("the page has no transactions")
	}
	return p.Data
}

// exampleFetched decodes the API's example response.
func exampleFetched(t testing.TB) []crowdchange.Fetched {
	t.Helper()
	var out []crowdchange.Fetched
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
func build(t *testing.T, fs ...crowdchange.Fetched) (map[string]*rows, transform.Stats) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := transformcrowdchange.NewBuilder(mem)
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
	tables := crowdchangeschema.BatchTables()
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
			row[j] = transformtest.Cell(c, i)
		}
		out.cells = append(out.cells, row)
	}
	return out
}

// tableOf finds the table of a record by its schema.
func tableOf(rec arrow.Record) schemas.Table {
	for _, tb := range crowdchangeschema.BatchTables() {
		if rec.Schema().Equal(tb.ArrowSchema()) {
			return tb
		}
	}
	panic("no data table has the record's schema")
}

// renderRecords renders records as JSON lines, one per row, columns in schema order; decimals as
// exact strings, timestamps in RFC 3339 (UTC), dates as YYYY-MM-DD.
func renderRecords(recs []arrow.Record) []byte {
	tables := make([]schemas.Table, len(recs))
	for i, rec := range recs {
		tables[i] = tableOf(rec)
	}
	return transformtest.RenderRecords(tables, recs)
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

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")
