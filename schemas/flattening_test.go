package schemas_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
)

// TestFlatteningSnapshot pins how CrowdChange's transaction is flattened: every table's row
// sources (their lists, constants, copies and leaves) and its derived columns. A change to a
// declaration shows up as a reviewed diff of testdata/crowdchange_flattening.txt.
func TestFlatteningSnapshot(t *testing.T) {
	f := crowdchange.Flattening()
	if err := f.Check(); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "record %s, key %s, date %s\n", f.Record, f.Key, f.Date)
	for _, tb := range f.Tables {
		fmt.Fprintf(&b, "\n%s\n", tb.Name)
		for _, c := range tb.Columns {
			if c.Derived != "" {
				fmt.Fprintf(&b, "  derived %s: %s\n", c.Name, c.Derived)
			}
		}
		for _, rs := range tb.Rows {
			fmt.Fprintf(&b, "  rows at %q\n", rs.Each)
			for _, k := range rs.Constants {
				fmt.Fprintf(&b, "    constant %s = %q\n", k.Column, k.Value)
			}
			for _, cp := range rs.Copies {
				fmt.Fprintf(&b, "    copy %s <- %s\n", cp.Column, cp.Path)
			}
			for _, l := range rs.Leaves {
				fmt.Fprintf(&b, "    leaf %s <- %s\n", l.Column, l.Path)
			}
		}
	}
	golden(t, "crowdchange_flattening.txt", []byte(b.String()))
}

func TestPathMapIsTheFlatteningsHomes(t *testing.T) {
	f := crowdchange.Flattening()
	want := f.PathMap()
	got := crowdchange.PathMap()
	if len(got) != len(want) {
		t.Fatalf("PathMap has %d leaves, the flattening %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("PathMap[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	// A sample of homes, one per kind of row source.
	for path, home := range map[string]string{
		"amount.total_paid":                                      "transactions.amount_total_paid",
		"refund_children_ids[]":                                  "transactions.refund_children_ids",
		"purchased_items.apparel.count":                          "transactions.purchased_apparel_count",
		"refunded_items.ecards.items[].card.price":               "transaction_items.price",
		"sponsorship.items[].option_id":                          "transaction_items.option_id",
		"purchased_items.registration.items[].first_name":        "registrations.first_name",
		"fundraiser_team.custom_data[].content":                  "custom_data.content",
		"refunded_items.registration.items[].custom_data[].name": "custom_data.name",
	} {
		if m, ok := crowdchange.HomeOf(path); !ok || m.Table+"."+m.Column != home {
			t.Errorf("HomeOf(%s) = %+v, %t; want %s", path, m, ok, home)
		}
	}
}

// exampleFlattening is a small, valid flattening that the cases of TestFlatteningCheck break.
func exampleFlattening() schemas.Flattening {
	return schemas.Flattening{Record: "order", Key: "id", Date: "date", Tables: []schemas.Table{
		{
			Name: "orders", Kind: schemas.Data, Description: "Orders.",
			Columns: []schemas.Column{
				{Name: "id", Type: schemas.Int64, Required: true, Description: "ID."},
				{Name: "order_date", Type: schemas.Date, Derived: schemas.RecordDate, Description: "Date."},
				{Name: "tags", Type: schemas.String, Repeated: true, Description: "Tags."},
			},
			Rows: []schemas.RowSource{{Leaves: []schemas.Leaf{{Path: "id", Column: "id"}, {Path: "tags[]", Column: "tags"}}}},
		},
		{
			Name: "order_lines", Kind: schemas.Data, Description: "Lines.",
			Columns: []schemas.Column{
				{Name: "order_id", Type: schemas.Int64, Required: true, Derived: schemas.RecordKey, Description: "Order."},
				{Name: "kind", Type: schemas.String, Required: true, Derived: schemas.RowConstant, Description: "Kind."},
				{Name: "position", Type: schemas.Int64, Required: true, Derived: schemas.Position, Description: "Position."},
				{Name: "customer_id", Type: schemas.Int64, Derived: schemas.RowCopy, Description: "Customer."},
				{Name: "sku", Type: schemas.String, Description: "SKU."},
			},
			Rows: []schemas.RowSource{
				{Each: "lines[]", Constants: []schemas.Constant{{Column: "kind", Value: "line"}}, Copies: []schemas.Leaf{{Path: "customer.id", Column: "customer_id"}}, Leaves: []schemas.Leaf{{Path: "sku", Column: "sku"}}},
				{Each: "gifts[]", Constants: []schemas.Constant{{Column: "kind", Value: "gift"}}, Leaves: []schemas.Leaf{{Path: "product.sku", Column: "sku"}}},
			},
		},
		{
			Name: "raw_orders", Kind: schemas.Data, Description: "Raw.",
			Columns: []schemas.Column{
				{Name: "order_id", Type: schemas.Int64, Required: true, Derived: schemas.RecordKey, Description: "Order."},
				{Name: "raw", Type: schemas.String, Required: true, Derived: schemas.RawJSON, Description: "Raw."},
				{Name: "decode_error", Type: schemas.String, Derived: schemas.DecodeError, Description: "Error."},
			},
			Rows: []schemas.RowSource{{}},
		},
	}}
}

func TestFlatteningCheck(t *testing.T) {
	if err := exampleFlattening().Check(); err != nil {
		t.Fatalf("the example: %v", err)
	}
	if got := exampleFlattening().PathMap(); len(got) != 4 || got[0].JSONPath != "gifts[].product.sku" || got[3].JSONPath != "tags[]" {
		t.Errorf("PathMap = %+v", got)
	}
	cases := []struct {
		name   string
		change func(f *schemas.Flattening)
		want   string
	}{
		{"a column nothing fills", func(f *schemas.Flattening) { f.Tables[0].Rows[0].Leaves = f.Tables[0].Rows[0].Leaves[1:] },
			"orders.id is filled by nothing"},
		{"a leaf in a derived column", func(f *schemas.Flattening) {
			f.Tables[0].Rows[0].Leaves = append(f.Tables[0].Rows[0].Leaves, schemas.Leaf{Path: "day", Column: "order_date"})
		}, "orders.order_date is both derived (record date) and the home of leaves"},
		{"a leaf in a column the table does not have", func(f *schemas.Flattening) {
			f.Tables[1].Rows[0].Leaves = append(f.Tables[1].Rows[0].Leaves, schemas.Leaf{Path: "qty", Column: "quantity"})
		}, "leaf qty names column quantity, which the table does not have"},
		{"a leaf with two homes", func(f *schemas.Flattening) {
			f.Tables[1].Rows[1].Each = "lines[]"
			f.Tables[1].Rows[1].Leaves[0].Path = "sku"
		},
			"lines[].sku has two homes: order_lines.sku and order_lines.sku"},
		{"a scalar leaf in a repeated column", func(f *schemas.Flattening) { f.Tables[0].Rows[0].Leaves[1].Path = "tags" },
			"leaf tags (a list: false) lives in tags (repeated: true)"},
		{"a list leaf in a scalar column", func(f *schemas.Flattening) { f.Tables[1].Rows[0].Leaves[0].Path = "skus[]" },
			`bad leaf path "skus[]"`},
		{"a nested list as a leaf", func(f *schemas.Flattening) { f.Tables[0].Rows[0].Leaves[1].Path = "lines[].tags[]" },
			`bad leaf path "lines[].tags[]"`},
		{"rows at an object, not a list", func(f *schemas.Flattening) { f.Tables[1].Rows[0].Each = "customer" },
			"the row objects' path must be a list"},
		{"a constant in a column that is not one", func(f *schemas.Flattening) {
			f.Tables[1].Rows[0].Constants = append(f.Tables[1].Rows[0].Constants, schemas.Constant{Column: "sku", Value: "x"})
		}, `constant "x" fills column sku, whose derivation is "", not "row constant"`},
		{"a column filled twice", func(f *schemas.Flattening) {
			f.Tables[1].Rows[0].Constants = append(f.Tables[1].Rows[0].Constants, schemas.Constant{Column: "kind", Value: "again"})
		}, "column kind is filled twice in one row"},
		{"a copy from a list the rows are not in", func(f *schemas.Flattening) {
			f.Tables[1].Rows[1].Copies = []schemas.Leaf{{Path: "lines[].id", Column: "customer_id"}}
		},
			"the copy of lines[].id must be a scalar of the record or of an object on the way to the row objects"},
		{"the decode error not last", func(f *schemas.Flattening) { f.Tables[1], f.Tables[2] = f.Tables[2], f.Tables[1] },
			"raw_orders.decode_error: the table with the decode error must be the flattening's last"},
		{"the record's key not named", func(f *schemas.Flattening) { f.Key = "" },
			"order_lines.order_id is the record's record key, which the order flattening does not name"},
		{"a bookkeeping derivation", func(f *schemas.Flattening) { f.Tables[0].Columns[1].Derived = schemas.QuarantineReason },
			`orders.order_date: "quarantine reason" is not a derivation of a data table`},
		{"a row constant that is not a string", func(f *schemas.Flattening) { f.Tables[1].Columns[1].Type = schemas.Int64 },
			"order_lines.kind: a row constant is a STRING column"},
		{"a table without rows", func(f *schemas.Flattening) { f.Tables[2].Rows = nil }, "raw_orders has no row source"},
		{"a table that is not a data table", func(f *schemas.Flattening) { f.Tables[0].Kind = schemas.Bookkeeping }, "orders is not a data table"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := exampleFlattening()
			tc.change(&f)
			err := f.Check()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
