package crowdchange_test

import (
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/schemas"
	crowdchangeschema "github.com/ccsync/ccsync/schemas/crowdchange"
	"github.com/ccsync/ccsync/transform"
	transformcrowdchange "github.com/ccsync/ccsync/transform/crowdchange"
)

func ExampleBuilder() {
	var page crowdchange.Page
	if err := json.Unmarshal(crowdchangetest.ExamplePage(), &page); err != nil {
		panic(err)
	}

	b := transformcrowdchange.NewBuilder(memory.NewGoAllocator())
	defer b.Release()
	meta := transform.Meta{RunID: "run-1", BatchID: "batch-1", ExtractedAt: time.Now()}
	for _, raw := range page.Data {
		var tx crowdchange.Transaction
		err := json.Unmarshal(raw, &tx) // a partial decode is still added, and its error recorded
		b.Add(crowdchange.Fetched{ID: tx.ID, Raw: raw, Tx: tx, Err: err}, meta)
	}

	recs := b.NewRecords() // one per batch table, in the order of crowdchangeschema.BatchTables()
	for i, t := range crowdchangeschema.BatchTables() {
		fmt.Printf("%-18s %2d rows\n", t.Name, recs[i].NumRows())
	}
	txs := recs[0]
	paid := txs.Column(txs.Schema().FieldIndices("amount_total_paid")[0]).(*array.Decimal128).Value(0)
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(schemas.NumericScale), nil)
	fmt.Println("total paid:", new(big.Rat).SetFrac(paid.BigInt(), scale).FloatString(2)) // exact
	for _, r := range recs {
		r.Release()
	}
	// Output:
	// transactions        1 rows
	// transaction_items  16 rows
	// registrations       2 rows
	// ecards              2 rows
	// tribute_cards       1 rows
	// self_donations      1 rows
	// custom_data         7 rows
	// raw_transactions    1 rows
	// quarantine          0 rows
	// total paid: 105.15
}
