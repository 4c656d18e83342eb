package crowdchange_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/schemas"
	crowdchangeschema "github.com/ccsync/ccsync/schemas/crowdchange"
	transformcrowdchange "github.com/ccsync/ccsync/transform/crowdchange"
	"github.com/ccsync/ccsync/transform/transformtest"
)

// The example response's records, rendered as JSON lines, are the golden file.
func TestExampleGolden(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := transformcrowdchange.NewBuilder(mem)
	defer b.Release()
	for _, f := range exampleFetched(t) {
		b.Add(f, testMeta)
	}
	recs := b.NewRecords()
	got := renderRecords(recs)
	for _, r := range recs {
		r.Release()
	}

	transformtest.Golden(t, "example.golden.jsonl", got, *update)
}

// withChanges returns a copy of the raw JSON with values replaced (path → value; a path's
// segments are keys or, for arrays, indexes); a nil value sets JSON null, drop removes the key.
func withChanges(t testing.TB, raw []byte, changes map[string]any) []byte {
	t.Helper()
	doc := decodeAny(t, raw)
	for path, v := range changes {
		segs := strings.Split(path, ".")
		cur := doc
		for _, s := range segs[:len(segs)-1] {
			switch c := cur.(type) {
			case map[string]any:
				cur = c[s]
			case []any:
				i, _ := strconv.Atoi(s)
				cur = c[i]
			}
		}
		last := segs[len(segs)-1]
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s: not under an object", path)
		}
		if v == drop {
			delete(m, last)
		} else {
			m[last] = v
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// drop is a withChanges value that removes the key.
var drop = &struct{ drop bool }{true}

// A transaction whose every optional object and value is null, or absent, gives one transactions
// row of nulls (but for its id and the version stamps), no child rows, and its raw row.
func TestNullsGiveNullColumnsAndNoChildRows(t *testing.T) {
	example := pageTransactions(t, crowdchangetest.ExamplePage())[0]
	allNull := map[string]any{}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(example, &top); err != nil {
		t.Fatal(err)
	}
	for k := range top {
		if k != "id" {
			allNull[k] = nil
		}
	}
	cases := []struct {
		name string
		raw  []byte
	}{
		{"every field of the example but id null", withChanges(t, example, allNull)},
		{"only an id", []byte(`{"id": 7}`)},
		{"empty objects and lists", []byte(`{"id": 8, "purchased_items": {}, "refunded_items": {}, "custom_data": [], "refund_children_ids": [],
			"fundraiser": {"custom_data": [], "tags_list": []}, "sponsorship": {"items": []}, "payee": {"billing": null, "user": null}}`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := decodeFetched(tc.raw)
			if f.Err != nil {
				t.Fatalf("decoding: %v", f.Err)
			}
			tables, stats := build(t, f)
			for _, tb := range crowdchangeschema.DataTables() {
				n := len(tables[tb.Name].cells)
				switch tb.Name {
				case crowdchangeschema.Transactions, crowdchangeschema.RawTransactions:
					if n != 1 {
						t.Errorf("%s: %d rows, want 1", tb.Name, n)
					}
				default:
					if n != 0 {
						t.Errorf("%s: %d rows, want none", tb.Name, n)
					}
				}
			}
			tx := tables[crowdchangeschema.Transactions]
			for i, c := range tx.table.Columns {
				got := tx.cells[0][i]
				switch {
				case c.Name == "id":
					if got != f.ID {
						t.Errorf("id = %v, want %d", got, f.ID)
					}
				case strings.HasPrefix(c.Name, "_"):
					if got == nil {
						t.Errorf("%s is null", c.Name)
					}
				case c.Repeated:
					if l, ok := got.([]any); !ok || len(l) != 0 {
						t.Errorf("%s = %v, want an empty list", c.Name, got)
					}
				default:
					if got != nil {
						t.Errorf("%s = %v, want null", c.Name, got)
					}
				}
			}
			raw := tables[crowdchangeschema.RawTransactions]
			if got := raw.get(0, "raw"); got != string(tc.raw) {
				t.Errorf("raw is not the input's bytes")
			}
			if got := raw.get(0, "unknown_fields"); len(got.([]any)) != 0 {
				t.Errorf("unknown_fields = %v, want none", got)
			}
			if got := raw.get(0, "decode_error"); got != nil {
				t.Errorf("decode_error = %v, want null", got)
			}
			if stats.Invalid != 0 || stats.UnknownFields != 0 || stats.Transactions != 1 {
				t.Errorf("stats = %+v", stats)
			}
		})
	}
}

// What cannot be decoded or stored is never a failure: it is recorded in the raw row (paths, not
// values) and counted, and everything else is still written.
func TestProblemsAreRecordedNotFatal(t *testing.T) {
	example := pageTransactions(t, crowdchangetest.ExamplePage())[0]
	const secret = "9999999999999999999999999999999999999999.5" // a value that must not leak
	cases := []struct {
		name        string
		fetched     crowdchange.Fetched
		null        func(map[string]*rows) any // a cell that must be null, if any
		wantUnknown []string
		wantErr     []string // substrings of decode_error; none: null
		invalid     int
	}{
		{
			name:    "amount too large for NUMERIC(38, 9)",
			fetched: decodeFetched(withChanges(t, example, map[string]any{"amount.total_paid": json.Number(secret)})),
			null:    cell(crowdchangeschema.Transactions, "amount_total_paid"),
			wantErr: []string{"amount.total_paid: "},
			invalid: 1,
		},
		{
			name:    "price with a tenth fractional digit",
			fetched: decodeFetched(withChanges(t, example, map[string]any{"purchased_items.apparel.items.0.price": json.Number("29.9500000001")})),
			null:    itemCell(crowdchangeschema.Purchased, "apparel", "price"),
			wantErr: []string{"purchased_items.apparel.items[0].price: more fractional digits"},
			invalid: 1,
		},
		{
			name:    "e-card price with an exponent too small",
			fetched: decodeFetched(withChanges(t, example, map[string]any{"refunded_items.ecards.items.0.card.price": json.Number("1e-10")})),
			null:    itemCell(crowdchangeschema.Refunded, "ecards", "price"),
			wantErr: []string{"refunded_items.ecards.items[0].card.price: "},
			invalid: 1,
		},
		{
			name:        "the model cannot decode a field",
			fetched:     decodeFetched(withChanges(t, example, map[string]any{"amount": "not an object"})),
			null:        cell(crowdchangeschema.Transactions, "amount_total_paid"),
			wantUnknown: []string{"amount"},
			wantErr:     []string{"cannot unmarshal"},
			invalid:     1,
		},
		{
			name: "invalid JSON",
			fetched: crowdchange.Fetched{ID: 9, Raw: json.RawMessage(`{"id": 9, "amount": {"total_paid": ` + secret),
				Err: errors.New("unexpected end of JSON input")},
			null:    cell(crowdchangeschema.Transactions, "amount_total_paid"),
			wantErr: []string{"unexpected end of JSON input", "unknown fields: invalid JSON"},
			invalid: 1,
		},
		{
			name:        "an unknown field",
			fetched:     decodeFetched(withChanges(t, example, map[string]any{"loyalty_points": json.Number("12")})),
			wantUnknown: []string{"loyalty_points"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tables, stats := build(t, tc.fetched)
			if tc.null != nil {
				if got := tc.null(tables); got != nil {
					t.Errorf("the cell of the value that cannot be stored = %v, want null", got)
				}
			}
			raw := tables[crowdchangeschema.RawTransactions]
			var unknown []string
			for _, u := range raw.get(0, "unknown_fields").([]any) {
				unknown = append(unknown, u.(string))
			}
			if !slices.Equal(unknown, tc.wantUnknown) {
				t.Errorf("unknown_fields = %q, want %q", unknown, tc.wantUnknown)
			}
			de, _ := raw.get(0, "decode_error").(string)
			if len(tc.wantErr) == 0 && raw.get(0, "decode_error") != nil {
				t.Errorf("decode_error = %q, want null", de)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(de, w) {
					t.Errorf("decode_error = %q, want it to contain %q", de, w)
				}
			}
			if strings.Contains(de, secret) || strings.Contains(de, "29.95") {
				t.Errorf("decode_error holds a value: %q", de)
			}
			if stats.Invalid != tc.invalid || stats.UnknownFields != len(tc.wantUnknown) {
				t.Errorf("stats: invalid %d, unknown %d; want %d, %d", stats.Invalid, stats.UnknownFields, tc.invalid, len(tc.wantUnknown))
			}
			if got := tables[crowdchangeschema.Transactions].get(0, "id"); got != tc.fetched.ID {
				t.Errorf("id = %v, want %d", got, tc.fetched.ID)
			}
		})
	}
}

// cell selects a column of the first row of a table.
func cell(table, column string) func(map[string]*rows) any {
	return func(tables map[string]*rows) any { return tables[table].get(0, column) }
}

// itemCell selects a column of the first transaction_items row of a category.
func itemCell(direction, category, column string) func(map[string]*rows) any {
	return func(tables map[string]*rows) any {
		rs := tables[crowdchangeschema.TransactionItem]
		found := rs.find("direction", direction, "category", category, "position", int64(0))
		if len(found) != 1 {
			return "no such item"
		}
		return rs.get(found[0], column)
	}
}

// NewRecords hands over what was added since the last call and starts afresh; Stats keep counting.
func TestNewRecordsResetsAndStatsAccumulate(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := transformcrowdchange.NewBuilder(mem)
	defer b.Release()
	fs := exampleFetched(t)

	sums := map[string]int64{}
	for round, adds := range []int{2, 0, 1} {
		for i := 0; i < adds; i++ {
			for _, f := range fs {
				b.Add(f, testMeta)
			}
		}
		if b.Len() != adds*len(fs) {
			t.Errorf("round %d: Len = %d, want %d", round, b.Len(), adds*len(fs))
		}
		recs := b.NewRecords()
		checkRecords(t, recs)
		for i, tb := range crowdchangeschema.BatchTables() {
			sums[tb.Name] += recs[i].NumRows()
			if adds == 0 && recs[i].NumRows() != 0 {
				t.Errorf("round %d: %s has %d rows after nothing was added", round, tb.Name, recs[i].NumRows())
			}
			recs[i].Release()
		}
		if b.Len() != 0 {
			t.Errorf("round %d: Len = %d after NewRecords", round, b.Len())
		}
	}
	s := b.Stats()
	if s.Transactions != 3*len(fs) {
		t.Errorf("Stats.Transactions = %d, want %d", s.Transactions, 3*len(fs))
	}
	if len(s.Rows) != len(crowdchangeschema.BatchTables()) {
		t.Errorf("Stats.Rows has %d tables, want %d", len(s.Rows), len(crowdchangeschema.BatchTables()))
	}
	for name, n := range sums {
		if s.Rows[name] != n {
			t.Errorf("Stats.Rows[%s] = %d, want %d", name, s.Rows[name], n)
		}
		if n == 0 && name != schemas.QuarantineTable { // the example has an id: see TestQuarantineRows
			t.Errorf("%s: the example gives no rows", name)
		}
	}
}
