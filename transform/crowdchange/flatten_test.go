package crowdchange_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/ccsync/ccsync/extract/crowdchange"
	crowdchangeschema "github.com/ccsync/ccsync/schemas/crowdchange"
	"github.com/ccsync/ccsync/transform"
	transformcrowdchange "github.com/ccsync/ccsync/transform/crowdchange"
	"github.com/ccsync/ccsync/transform/transformtest"
)

// The Builder's Flattener is the same engine: CrowdChange's declarations build with it directly.
func TestCrowdChangeFlattenerMatchesBuilder(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f := crowdchangeschema.Flattening()
	fl, err := transform.NewFlattener[crowdchange.Transaction](mem, f)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Release()
	b := transformcrowdchange.NewBuilder(mem)
	defer b.Release()
	for _, x := range exampleFetched(t) {
		fl.Add(&x.Tx, x.Raw, x.Err, testMeta)
		b.Add(x, testMeta)
	}
	got, want := fl.NewRecords(), b.NewRecords()
	defer func() {
		for _, r := range slices.Concat(got, want) {
			r.Release()
		}
	}()
	if !bytes.Equal(transformtest.RenderRecords(f.Tables, got), renderRecords(want[:len(f.Tables)])) {
		t.Error("the Flattener of CrowdChange's declarations and the Builder make different rows")
	}
}
