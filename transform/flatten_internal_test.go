package transform

import (
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/schemas"
	crowdchangeschema "github.com/ccsync/ccsync/schemas/crowdchange"
)

// Every column of every table of CrowdChange's flattening is filled by something the Flattener's
// plan holds: a leaf of a row source, a derivation or the record's own columns, and every column of
// the quarantine by the Quarantine. NewFlattener refuses a column nothing fills
// (schemas.Flattening.Check); this test looks at what was planned.
func TestEveryColumnIsFilled(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	fl, err := NewFlattener[crowdchange.Transaction](mem, crowdchangeschema.Flattening())
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Release()
	q, err := NewQuarantine(mem)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Release()

	for _, ft := range fl.e.tables {
		filled := make([]bool, len(ft.cols))
		var leaves func(o *objectPlan)
		leaves = func(o *objectPlan) {
			for _, en := range o.entries {
				if en.leaf != nil {
					filled[en.leaf.col] = true
				} else {
					leaves(en.child)
				}
			}
		}
		for _, r := range ft.rows {
			leaves(r.leaves)
			for _, d := range r.derived {
				filled[d.col] = true
			}
		}
		for _, c := range []col{ft.rawJSON, ft.rawBase64, ft.unknownFields, ft.decodeError} {
			if c != noCol {
				filled[c] = true
			}
		}
		for i, ok := range filled {
			if !ok {
				t.Errorf("%s.%s is filled by nothing", ft.def.Name, ft.cols[i].Name)
			}
		}
	}
	if got, want := len(q.rows.cols), len(q.rows.def.Columns); got != want {
		t.Errorf("the quarantine fills %d columns of %d", got, want)
	}
}

func TestSettingAColumnTwicePanics(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	def, _ := schemas.ByName(crowdchangeschema.Transactions)
	var issues []string
	tb := newTable(mem, def, &issues)
	defer tb.rb.Release()
	defer func() {
		if recover() == nil {
			t.Error("setting a column twice did not panic")
		}
	}()
	tb.begin()
	c := col(def.ColumnIndex("promo_code"))
	tb.strv(c, "a")
	tb.strv(c, "b")
}

// Messages locate a value by its concrete path: the list indexes of the row's objects.
func TestWherePath(t *testing.T) {
	cases := []struct {
		base string
		pos  []int
		rel  string
		want string
	}{
		{"", nil, "amount.total_paid", "amount.total_paid"},
		{"purchased_items.apparel.items[]", []int{3}, "price", "purchased_items.apparel.items[3].price"},
		{"refunded_items.ecards.items[]", []int{0}, "card.price", "refunded_items.ecards.items[0].card.price"},
		{"purchased_items.registration.items[].custom_data[]", []int{1, 2}, "content", "purchased_items.registration.items[1].custom_data[2].content"},
		{"purchased_items.registration.items[]", []int{4}, "id", "purchased_items.registration.items[4].id"},
	}
	for _, tc := range cases {
		w := where{base: tc.base, pos: tc.pos}
		if got := w.path(tc.rel); got != tc.want {
			t.Errorf("path(%q) under %q %v = %q, want %q", tc.rel, tc.base, tc.pos, got, tc.want)
		}
	}
}
