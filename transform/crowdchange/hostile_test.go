package crowdchange_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/schemas"
	crowdchangeschema "github.com/ccsync/ccsync/schemas/crowdchange"
	transformcrowdchange "github.com/ccsync/ccsync/transform/crowdchange"
)

// A transaction with invalid UTF-8 (in a typed field, in a custom answer kept as JSON text, in an
// unknown key) lands: every string column holds valid UTF-8, the transaction is flagged in
// decode_error, and the original bytes are recoverable from raw_bytes_base64.
func TestInvalidUTF8IsRepairedAndKept(t *testing.T) {
	raw := json.RawMessage("{\"id\":5,\"date\":\"2024-03-01 10:00:00\",\"donated_by\":{\"first_name\":\"Jo\xff\xfen\xc3\"}," +
		"\"custom_data\":[{\"field_id\":1,\"content\":{\"a\":\"x\xffy\"}}],\"new_\xfe\":1}")
	clean := json.RawMessage(`{"id":6,"date":"2024-03-01 11:00:00","donated_by":{"first_name":"Ann"}}`)
	tables, stats := build(t, decodeFetched(raw), decodeFetched(clean))

	if stats.Invalid != 1 {
		t.Errorf("Stats.Invalid = %d, want 1", stats.Invalid)
	}
	for name, rs := range tables {
		for i, row := range rs.cells {
			for j, cell := range row {
				if s, ok := cell.(string); ok && !utf8.ValidString(s) {
					t.Errorf("%s row %d, %s: invalid UTF-8", name, i, rs.table.Columns[j].Name)
				}
			}
		}
	}
	rawRows := tables[crowdchangeschema.RawTransactions]
	col := func(name string) int { return rawRows.table.ColumnIndex(name) }
	if got := rawRows.cells[0][col("raw_bytes_base64")]; got == nil {
		t.Fatal("raw_bytes_base64 is NULL for the invalid transaction")
	} else if b, err := base64.StdEncoding.DecodeString(got.(string)); err != nil || !bytes.Equal(b, raw) {
		t.Errorf("raw_bytes_base64 does not give back the original bytes (%v)", err)
	}
	if !json.Valid([]byte(rawRows.cells[0][col("raw")].(string))) {
		t.Error("the repaired raw is not valid JSON")
	}
	if de, _ := rawRows.cells[0][col("decode_error")].(string); !strings.Contains(de, "invalid UTF-8") {
		t.Errorf("decode_error = %q", de)
	}
	if rawRows.cells[1][col("raw_bytes_base64")] != nil || rawRows.cells[1][col("decode_error")] != nil || rawRows.cells[1][col("raw")] != string(clean) {
		t.Errorf("the clean transaction's raw row: %v", rawRows.cells[1])
	}
	txRows := tables[crowdchangeschema.Transactions]
	if got := txRows.cells[0][txRows.table.ColumnIndex("donated_by_first_name")]; got != "Jo\uFFFD\uFFFDn\uFFFD" {
		t.Errorf("donated_by_first_name = %q", got)
	}
}

// AddQuarantined keeps an item without a readable id whole, with its window, page, position and
// reason, stamped with the batch; invalid UTF-8 is repaired and the original bytes kept.
func TestQuarantineRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := transformcrowdchange.NewBuilder(mem)
	defer b.Release()
	w := extract.Window{Stream: crowdchange.StreamPayout, Account: crowdchange.AccountUser,
		Start: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC)}
	items := []extract.Quarantined{
		{Raw: json.RawMessage(`{"type":"charge"}`), Page: 2, Position: 7, Reason: `no readable numeric id: the item has no "id"`},
		{Raw: json.RawMessage("{\"id\":\"x\xff\"}"), Page: 3, Position: 0, Reason: "no readable numeric id"},
	}
	for _, q := range items {
		b.AddQuarantined(q, w, testMeta)
	}
	if s := b.Stats(); s.Quarantined != 2 || s.Transactions != 0 {
		t.Errorf("stats %+v", s)
	}
	recs := b.NewRecords()
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	checkRecords(t, recs)
	var q *rows
	for _, r := range recs {
		rs := rowsOf(r)
		switch {
		case rs.table.Name == schemas.QuarantineTable:
			q = rs
		case len(rs.cells) != 0:
			t.Errorf("%s has %d rows", rs.table.Name, len(rs.cells))
		}
	}
	if q == nil || len(q.cells) != 2 {
		t.Fatalf("quarantine rows: %v", q)
	}
	get := func(row int, col string) any { return q.cells[row][q.table.ColumnIndex(col)] }
	want := map[string]any{
		"stream": "payout", "payout_account": "user", "window_start": w.Start, "window_end": w.End,
		"page": int64(2), "position": int64(7), "reason": items[0].Reason, "raw": `{"type":"charge"}`, "raw_bytes_base64": nil,
		schemas.ColRunID: testMeta.RunID, schemas.ColBatchID: testMeta.BatchID, schemas.ColExtractedAt: testMeta.ExtractedAt.Truncate(time.Microsecond),
	}
	for col, v := range want {
		if got := get(0, col); got != v {
			t.Errorf("row 0 %s = %v, want %v", col, got, v)
		}
	}
	if raw := get(1, "raw").(string); !utf8.ValidString(raw) {
		t.Error("row 1 raw is not valid UTF-8")
	}
	if b64, _ := get(1, "raw_bytes_base64").(string); b64 != base64.StdEncoding.EncodeToString(items[1].Raw) {
		t.Errorf("row 1 raw_bytes_base64 = %q", b64)
	}
}
