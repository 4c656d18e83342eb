package transform

import (
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/ccsync/ccsync/schemas"
)

// Every column of every data table is resolved by name when a Builder is made, so every column is
// written by this package (a column added to schemas and forgotten here fails this test), and a
// misspelt name panics.
func TestEveryColumnIsWritten(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := NewBuilder(mem)
	defer b.Release()
	for _, tb := range b.tables {
		for i, claimed := range tb.claimed {
			if !claimed {
				t.Errorf("%s.%s is never written", tb.def.Name, tb.cols[i].Name)
			}
		}
	}
}

func TestUnknownColumnPanics(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	def, _ := schemas.ByName(schemas.Transactions)
	var issues []string
	tb := newTable(mem, def, &issues)
	defer tb.rb.Release()
	defer func() {
		if recover() == nil {
			t.Error("resolving a misspelt column did not panic")
		}
	}()
	tb.col("amount_totl_paid")
}

func TestSettingAColumnTwicePanics(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	def, _ := schemas.ByName(schemas.Transactions)
	var issues []string
	tb := newTable(mem, def, &issues)
	defer tb.rb.Release()
	defer func() {
		if recover() == nil {
			t.Error("setting a column twice did not panic")
		}
	}()
	tb.begin(&version{id: 1})
	c := tb.col("promo_code")
	tb.strv(c, "a")
	tb.strv(c, "b")
}
