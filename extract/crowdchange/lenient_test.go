package crowdchange

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/schemas"
)

// One field that does not decode leaves that field zero and named in the error; every other
// field, before and after it, child lists included, is decoded; obvious variants are accepted
// without an error.
func TestDecodeTransactionFieldByField(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		wantErr []string // paths named in the error; none: no error
		noValue string   // must not appear in the error
		check   func(t *testing.T, tx *Transaction)
	}{
		{
			name:    "money that is a word",
			raw:     `{"id":1,"amount":{"donation":"fifty","total_paid":"50.00","currency":"CAD"},"date":"2024-03-01 10:00:00","fundraiser":{"id":7,"name":"Walk"},"donated_by":{"first_name":"Ada"},"custom_data":[{"field_id":1,"content":"yes"}]}`,
			wantErr: []string{"amount.donation"},
			noValue: "fifty",
			check: func(t *testing.T, tx *Transaction) {
				if tx.Amount == nil || tx.Amount.Donation != "" || tx.Amount.TotalPaid != "50.00" || *tx.Amount.Currency != "CAD" {
					t.Errorf("amount %+v", tx.Amount)
				}
				if tx.Date.IsZero() || tx.Fundraiser == nil || *tx.Fundraiser.ID != 7 || tx.DonatedBy == nil || *tx.DonatedBy.FirstName != "Ada" || len(tx.CustomData) != 1 {
					t.Errorf("fields after the bad one were not decoded: %+v", tx)
				}
			},
		},
		{
			name: "ISO 8601 dates with T and Z or an offset",
			raw:  `{"id":2,"date":"2024-03-01T10:00:00Z","tax_receipt":{"issued_on":"2024-03-02T01:30:00+02:00"},"payout":{"date":"2024-03-05T00:00:00Z"},"fundraiser":{"dt_start":"2024-01-01T00:00:00.5Z"}}`,
			check: func(t *testing.T, tx *Transaction) {
				if !tx.Date.Equal(time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)) || tx.Date.Location() != time.UTC {
					t.Errorf("date %v", tx.Date)
				}
				if !tx.TaxReceipt.IssuedOn.Equal(time.Date(2024, 3, 1, 23, 30, 0, 0, time.UTC)) {
					t.Errorf("issued_on %v", tx.TaxReceipt.IssuedOn)
				}
				if tx.Payout.Date.Format(extract.DateLayout) != "2024-03-05" {
					t.Errorf("payout date %v", tx.Payout.Date)
				}
			},
		},
		{
			name: "numbers and booleans as strings",
			raw:  `{"id":3,"parent_id":"12","is_refunded":"true","fundraiser":{"id":"7","goal":"1000.50"},"amount":{"total_paid":"50.00"}}`,
			check: func(t *testing.T, tx *Transaction) {
				if tx.ParentID == nil || *tx.ParentID != 12 || tx.IsRefunded == nil || !*tx.IsRefunded || *tx.Fundraiser.ID != 7 || tx.Fundraiser.Goal != "1000.50" {
					t.Errorf("decoded %+v %+v", tx, tx.Fundraiser)
				}
			},
		},
		{
			name:    "several bad fields, in nested lists",
			raw:     `{"id":4,"date":"31/12/2024","purchased_items":{"tickets":{"count":2,"items":[{"id":1,"price":"free"},{"id":2,"price":10}]}},"billing":"Ada Lovelace","status":"completed"}`,
			wantErr: []string{"billing", "date", "purchased_items.tickets.items[0].price"}, // in the model's order
			noValue: "Ada",
			check: func(t *testing.T, tx *Transaction) {
				items := tx.PurchasedItems.Tickets.Items
				if len(items) != 2 || *items[0].ID != 1 || items[0].Price != "" || items[1].Price != "10" || tx.Billing != nil || *tx.Status != "completed" {
					t.Errorf("decoded %+v", tx)
				}
			},
		},
		{
			name:    "empty string and zero stay values, not null",
			raw:     `{"id":5,"promo_code":"","partner_id":0,"is_disputed":false,"amount":{"total_paid":"oops","currency":""}}`,
			wantErr: []string{"amount.total_paid"},
			check: func(t *testing.T, tx *Transaction) {
				if tx.PromoCode == nil || *tx.PromoCode != "" || tx.PartnerID == nil || *tx.PartnerID != 0 || tx.IsDisputed == nil || tx.Amount.Currency == nil {
					t.Errorf("decoded %+v", tx)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tx Transaction
			err := decodeTransaction([]byte(tt.raw), &tx)
			switch {
			case len(tt.wantErr) == 0 && err != nil:
				t.Fatalf("unexpected error %v", err)
			case len(tt.wantErr) > 0 && err == nil:
				t.Fatalf("no error, want one naming %v", tt.wantErr)
			}
			if err != nil {
				de, ok := err.(*extract.DecodeError)
				if !ok || len(de.Fields) != len(tt.wantErr) {
					t.Fatalf("error %v, want exactly %v", err, tt.wantErr)
				}
				for i, p := range tt.wantErr {
					if !strings.HasPrefix(de.Fields[i], p+": ") {
						t.Errorf("field %d: %q, want %q", i, de.Fields[i], p)
					}
				}
				if tt.noValue != "" && strings.Contains(err.Error(), tt.noValue) {
					t.Errorf("the error quotes the value: %v", err)
				}
			}
			tt.check(t, &tx)
		})
	}
}

// exampleTransaction is the API's documented example transaction.
func exampleTransaction(tb testing.TB) []byte {
	tb.Helper()
	body, err := os.ReadFile("crowdchangetest/testdata/transactions_page_example.json")
	if err != nil {
		tb.Fatal(err)
	}
	p, err := decodePage(body)
	if err != nil || len(p.Data) != 1 {
		tb.Fatalf("fixture: %v", err)
	}
	return p.Data[0]
}

// FuzzDecodeOneBadField replaces one value of the whole example transaction (any leaf, object or
// list, chosen by the fuzzer) with a value of another kind: the decode never fails the
// transaction, names the replaced path when it cannot read it, and every value outside that path
// decodes exactly as in the untouched transaction.
func FuzzDecodeOneBadField(f *testing.F) {
	raw := exampleTransaction(f)
	doc := decodeTree(f, raw)
	paths := treePaths(doc, "")
	clean, err := decodeItem(raw)
	if err != nil || clean.Err != nil {
		f.Fatalf("the example does not decode: %v %v", err, clean.Err)
	}
	want := modelLeaves(f, &clean.Tx)
	replacements := []any{"fifty", map[string]any{"x": json.Number("1")}, []any{json.Number("1")}, true, json.Number("12.5"), "2024-01-01T00:00:00Z", nil, "Jo\xff\xfen\xc3"}
	for i := range 40 {
		f.Add(uint(i*7), uint8(i))
	}
	f.Fuzz(func(t *testing.T, which uint, kind uint8) {
		path := paths[which%uint(len(paths))]
		if path == "id" {
			return // the id is the key: see TestDecodeItem
		}
		repl := replacements[int(kind)%len(replacements)]
		mutated, err := json.Marshal(replaceAt(decodeTree(t, raw), path, repl))
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeItem(mutated)
		if err != nil {
			t.Fatalf("replacing %s: %v", path, err)
		}
		if got.ID != clean.ID {
			t.Fatalf("id %d", got.ID)
		}
		if got.Err != nil && !strings.Contains(got.Err.Error(), path) {
			t.Errorf("replacing %s with %T: the error does not name it: %v", path, repl, got.Err)
		}
		have := modelLeaves(t, &got.Tx)
		for p, v := range want {
			if under(p, path) {
				continue
			}
			if have[p] != v {
				t.Errorf("replacing %s with %T changed %s: %s, want %s", path, repl, p, have[p], v)
			}
		}
	})
}

func decodeTree(tb testing.TB, raw []byte) any {
	tb.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		tb.Fatal(err)
	}
	return v
}

// treePaths lists the paths of every value under v (lenientDecoder's spelling), sorted.
func treePaths(v any, path string) []string {
	var out []string
	if path != "" {
		out = append(out, path)
	}
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			out = append(out, treePaths(c, schemas.JoinPath(path, k))...)
		}
	case []any:
		for i, c := range x {
			out = append(out, treePaths(c, fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	sort.Strings(out)
	return out
}

// replaceAt sets the value at path (a path of treePaths) to repl.
func replaceAt(v any, path string, repl any) any {
	if path == "" {
		return repl
	}
	head, rest := path, ""
	if i := strings.IndexAny(path[1:], ".["); i >= 0 {
		head, rest = path[:i+1], strings.TrimPrefix(path[i+1:], ".")
	}
	switch x := v.(type) {
	case map[string]any:
		x[head] = replaceAt(x[head], rest, repl)
	case []any:
		var i int
		fmt.Sscanf(head, "[%d]", &i)
		x[i] = replaceAt(x[i], rest, repl)
	}
	return v
}

// modelLeaves flattens the model as it marshals: path → JSON text of each leaf.
func modelLeaves(tb testing.TB, tx *Transaction) map[string]string {
	tb.Helper()
	b, err := json.Marshal(tx)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				walk(c, schemas.JoinPath(path, k))
			}
		case []any:
			for i, c := range x {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		default:
			j, _ := json.Marshal(x)
			out[path] = string(j)
		}
	}
	walk(decodeTree(tb, b), "")
	return out
}

// under reports whether p is path or inside it.
func under(p, path string) bool {
	return p == path || strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[")
}
