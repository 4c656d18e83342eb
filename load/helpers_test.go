package load

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
	_ "github.com/ccsync/ccsync/schemas/crowdtilt"
	_ "github.com/ccsync/ccsync/schemas/donately" // every source's tables, as the binary has them
)

var (
	day1 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	day2 = day1.AddDate(0, 0, 1)
	day3 = day1.AddDate(0, 0, 2)
)

// newBatch starts a batch in a temporary directory and removes it when the test ends.
func newBatch(t *testing.T, mem memory.Allocator, runID, batchID string) *Batch {
	t.Helper()
	b, err := NewBatch(t.TempDir(), runID, batchID, mem)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Remove(); err != nil {
			t.Errorf("Remove: %v", err)
		}
	})
	return b
}

// fullBatch writes, for every data table, one row per transaction ID, stamped with the batch's run,
// batch and extractedAt, and adds a checkpoint for [day1, day2). It returns the rows written.
func fullBatch(t *testing.T, mem memory.Allocator, b *Batch, extractedAt time.Time, ids ...int64) map[string][][]cell {
	t.Helper()
	written := map[string][][]cell{}
	for _, tbl := range crowdchange.DataTables() {
		var rows [][]cell
		for r, id := range ids {
			rows = append(rows, genRow(tbl, r, with(txKey(tbl, id), stamp(b.RunID(), b.ID(), extractedAt))))
		}
		writeRows(t, b, mem, tbl.Name, rows...)
		written[tbl.Name] = rows
	}
	b.AddCheckpoint(Checkpoint{Source: "crowdchange", Stream: StreamDate, WindowStart: day1, WindowEnd: day2, Transactions: int64(len(ids)), Pages: 1})
	return written
}

// smallBatch writes one row per transaction ID in each of tables (data tables; others and
// repeats are skipped) and adds a checkpoint for [day1, day2): a batch with the few tables a test
// needs (and, in BigQuery, few load jobs).
func smallBatch(t *testing.T, mem memory.Allocator, b *Batch, extractedAt time.Time, tables []string, ids ...int64) {
	t.Helper()
	done := map[string]bool{}
	for _, name := range tables {
		tbl, ok := schemas.ByName(name)
		if !ok || tbl.Kind != schemas.Data || done[name] {
			continue
		}
		done[name] = true
		var rows [][]cell
		for r, id := range ids {
			rows = append(rows, genRow(tbl, r, with(txKey(tbl, id), stamp(b.RunID(), b.ID(), extractedAt))))
		}
		writeRows(t, b, mem, tbl.Name, rows...)
	}
	b.AddCheckpoint(Checkpoint{Source: "crowdchange", Stream: StreamDate, WindowStart: day1, WindowEnd: day2, Transactions: int64(len(ids)), Pages: 1})
}

// newMem returns a checked allocator that must be empty when the test (and its cleanups
// registered later) ends.
func newMem(t *testing.T) *memory.CheckedAllocator {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// openTestDB opens a DuckDB file (in a temporary directory when path is "") and closes it when
// the test ends. The sink keeps the file open between operations for the whole test: closing and
// opening it again costs time and is what the locking tests are about.
func openTestDB(t *testing.T, path string) *DuckDB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "warehouse.duckdb")
	}
	d, err := OpenDuckDB(context.Background(), config.DuckDB{Path: path, Threads: 1, MemoryLimit: "512MB"}, nil, withHold(time.Minute, time.Minute))
	if err != nil {
		t.Fatalf("OpenDuckDB: %v", err)
	}
	t.Cleanup(func() { closeTestDB(t, d) })
	return d
}

// closeTestDB closes a test's warehouse without DuckDB's checkpoint at shutdown: the file goes
// with the test's temporary directory, and writing it costs more than the rest of a small test.
// It needs a sink that still holds the file (withHold); one that does not checkpoints as usual.
func closeTestDB(t *testing.T, d *DuckDB) {
	t.Helper()
	if _, err := d.DB().Exec("PRAGMA disable_checkpoint_on_shutdown"); err != nil {
		t.Errorf("disabling the checkpoint at shutdown: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// cell is one value of a test row and how DuckDB renders it: CAST(col AS VARCHAR), or for a
// repeated column CAST(to_json(col) AS VARCHAR) compared as JSON.
type cell struct {
	v    any    // nil for NULL; int64, string, bool, decimal string, time.Time, date (civil), []int64, []string
	want string // the expected rendering ("" and null for NULL)
	null bool
}

// date is a calendar date value for a Date column.
type date string

// Money values and their DuckDB DECIMAL(38, 9) renderings.
var moneyCases = []struct{ in, want string }{
	{"105.15", "105.150000000"},
	{"0.000000001", "0.000000001"},
	{"-99999999999999999999999999999.999999999", "-99999999999999999999999999999.999999999"},
	{"0", "0.000000000"},
	{"12345678901234567890.123456789", "12345678901234567890.123456789"},
}

// Timestamps and their TIMESTAMPTZ renderings in the UTC time zone.
var timestampCases = []struct {
	in   time.Time
	want string
}{
	{time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.UTC), "2024-02-29 23:59:59.999999+00"},
	{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), "1970-01-01 00:00:00+00"},
	{time.Date(2024, 6, 1, 12, 0, 0, 0, time.FixedZone("EDT", -4*3600)), "2024-06-01 16:00:00+00"},
}

var stringCases = []string{"O'Brien", "Zoë 🎉 — ünïcödé 日本", "plain", "", `back\slash "quoted"` + "\nnew line"}

var dateCases = []string{"2024-02-29", "1999-12-31", "2038-01-19"}

var intListCases = [][]int64{{1, 2, 3}, {}, {math.MaxInt64, -1}}

var stringListCases = [][]string{{"O'Brien", "Zoë 🎉"}, {}, {"a,b", "[x]"}}

// genRow makes a row of table with a value in every column, varied by row and column, a NULL in
// some nullable columns, and the overrides (raw Go values) where given.
func genRow(table schemas.Table, row int, overrides map[string]any) []cell {
	cells := make([]cell, len(table.Columns))
	for i, c := range table.Columns {
		if v, ok := overrides[c.Name]; ok {
			cells[i] = cellOf(v)
			continue
		}
		k := i + row
		if !c.Required && !c.Repeated && k%7 == 3 {
			cells[i] = cell{null: true}
			continue
		}
		switch {
		case c.Repeated && c.Type == schemas.Int64:
			l := intListCases[k%len(intListCases)]
			j, _ := json.Marshal(l)
			cells[i] = cell{v: l, want: string(j)}
		case c.Repeated && c.Type == schemas.String:
			l := stringListCases[k%len(stringListCases)]
			j, _ := json.Marshal(l)
			cells[i] = cell{v: l, want: string(j)}
		case c.Repeated:
			panic("genRow: no test values for repeated " + c.Type.String())
		case c.Type == schemas.Int64:
			v := int64(k*1000 + i)
			switch k % 5 {
			case 1:
				v = -v
			case 2:
				v = math.MaxInt64 - int64(i)
			}
			cells[i] = cellOf(v)
		case c.Type == schemas.String:
			cells[i] = cellOf(stringCases[k%len(stringCases)])
		case c.Type == schemas.Bool:
			cells[i] = cellOf(k%2 == 0)
		case c.Type == schemas.Numeric:
			m := moneyCases[k%len(moneyCases)]
			cells[i] = cell{v: m.in, want: m.want}
		case c.Type == schemas.Timestamp:
			ts := timestampCases[k%len(timestampCases)]
			cells[i] = cell{v: ts.in, want: ts.want}
		case c.Type == schemas.Date:
			cells[i] = cellOf(date(dateCases[k%len(dateCases)]))
		default:
			panic("genRow: no test values for " + c.Type.String())
		}
	}
	return cells
}

// cellOf is the cell of a raw Go value with its obvious rendering.
func cellOf(v any) cell {
	switch v := v.(type) {
	case nil:
		return cell{null: true}
	case int64:
		return cell{v: v, want: strconv.FormatInt(v, 10)}
	case int:
		return cell{v: int64(v), want: strconv.Itoa(v)}
	case string:
		return cell{v: v, want: v}
	case bool:
		return cell{v: v, want: strconv.FormatBool(v)}
	case date:
		return cell{v: v, want: string(v)}
	case []int64, []string:
		j, _ := json.Marshal(v)
		return cell{v: v, want: string(j)}
	case time.Time:
		u := v.UTC()
		s := u.Format("2006-01-02 15:04:05")
		if u.Nanosecond() != 0 {
			s += strings.TrimRight(fmt.Sprintf(".%06d", u.Nanosecond()/1000), "0")
		}
		return cell{v: v, want: s + "+00"}
	}
	panic(fmt.Sprintf("cellOf: unsupported %T", v))
}

// buildRecord builds a record of table from rows of cells with the table's schemas ArrowSchema.
func buildRecord(mem memory.Allocator, table schemas.Table, rows [][]cell) (arrow.Record, error) {
	b := array.NewRecordBuilder(mem, table.ArrowSchema())
	defer b.Release()
	for _, row := range rows {
		for i, c := range table.Columns {
			if err := appendCell(b.Field(i), row[i]); err != nil {
				return nil, fmt.Errorf("%s.%s: %w", table.Name, c.Name, err)
			}
		}
	}
	return b.NewRecord(), nil
}

func appendCell(fb array.Builder, c cell) error {
	if c.null {
		fb.AppendNull()
		return nil
	}
	switch b := fb.(type) {
	case *array.Int64Builder:
		b.Append(c.v.(int64))
	case *array.StringBuilder:
		b.Append(c.v.(string))
	case *array.BooleanBuilder:
		b.Append(c.v.(bool))
	case *array.Decimal128Builder:
		n, err := decimal128.FromString(c.v.(string), schemas.NumericPrecision, schemas.NumericScale)
		if err != nil {
			return err
		}
		b.Append(n)
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(c.v.(time.Time).UnixMicro()))
	case *array.Date32Builder:
		d, err := time.Parse("2006-01-02", string(c.v.(date)))
		if err != nil {
			return err
		}
		b.Append(arrow.Date32FromTime(d))
	case *array.ListBuilder:
		b.Append(true)
		switch vb := b.ValueBuilder().(type) {
		case *array.Int64Builder:
			vb.AppendValues(c.v.([]int64), nil)
		case *array.StringBuilder:
			vb.AppendValues(c.v.([]string), nil)
		default:
			return fmt.Errorf("unsupported list value builder %T", vb)
		}
	default:
		return fmt.Errorf("unsupported builder %T", fb)
	}
	return nil
}

// mustRecord is buildRecord for tests.
func mustRecord(t *testing.T, mem memory.Allocator, table string, rows ...[]cell) arrow.Record {
	t.Helper()
	tbl, ok := schemas.ByName(table)
	if !ok {
		t.Fatalf("no table %s", table)
	}
	rec, err := buildRecord(mem, tbl, rows)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// writeRows builds a record of rows, writes it to the batch and releases it.
func writeRows(t *testing.T, b *Batch, mem memory.Allocator, table string, rows ...[]cell) {
	t.Helper()
	rec := mustRecord(t, mem, table, rows...)
	defer rec.Release()
	if err := b.Write(table, rec); err != nil {
		t.Fatalf("Write(%s): %v", table, err)
	}
}

// stamp returns the version columns of a row.
func stamp(runID, batchID string, extractedAt time.Time) map[string]any {
	return map[string]any{schemas.ColRunID: runID, schemas.ColBatchID: batchID, schemas.ColExtractedAt: extractedAt}
}

// with merges maps (later wins).
func with(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// selectExpr renders a column as text: repeated columns as JSON.
func selectExpr(c schemas.Column) string {
	q := schemas.QuoteIdent(c.Name)
	if c.Repeated {
		return "CAST(to_json(" + q + ") AS VARCHAR)"
	}
	return "CAST(" + q + " AS VARCHAR)"
}

// checkRow queries the row of table (or view) where where holds and compares every column with
// cells.
func checkRow(t *testing.T, db *sql.DB, table schemas.Table, from, where string, cells []cell) {
	t.Helper()
	exprs := make([]string, len(table.Columns))
	for i, c := range table.Columns {
		exprs[i] = selectExpr(c)
	}
	got := make([]sql.NullString, len(table.Columns))
	dest := make([]any, len(got))
	for i := range got {
		dest[i] = &got[i]
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s", strings.Join(exprs, ", "), schemas.QuoteIdent(from), where)
	if err := db.QueryRow(q).Scan(dest...); err != nil {
		t.Fatalf("%s WHERE %s: %v", from, where, err)
	}
	for i, c := range table.Columns {
		w := cells[i]
		switch {
		case w.null && got[i].Valid:
			t.Errorf("%s.%s (%s): got %q, want NULL", from, c.Name, where, got[i].String)
		case w.null:
		case !got[i].Valid:
			t.Errorf("%s.%s (%s): got NULL, want %q", from, c.Name, where, w.want)
		case c.Repeated:
			var g, e any
			if err := json.Unmarshal([]byte(got[i].String), &g); err != nil {
				t.Errorf("%s.%s: bad JSON %q: %v", from, c.Name, got[i].String, err)
			}
			_ = json.Unmarshal([]byte(w.want), &e)
			if !reflect.DeepEqual(g, e) {
				t.Errorf("%s.%s (%s): got %s, want %s", from, c.Name, where, got[i].String, w.want)
			}
		case got[i].String != w.want:
			t.Errorf("%s.%s (%s): got %q, want %q", from, c.Name, where, got[i].String, w.want)
		}
	}
}

// count returns the result of a count query.
func count(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// countRows returns the number of rows of a table or view.
func countRows(t *testing.T, db *sql.DB, name string) int64 {
	t.Helper()
	return count(t, db, "SELECT count(*) FROM "+schemas.QuoteIdent(name))
}

// keyOf is the WHERE clause that finds a test row: every test row of a table has its own
// transaction ID.
func keyOf(table schemas.Table, txID int64) string {
	if table.Name == crowdchange.Transactions {
		return fmt.Sprintf("id = %d", txID)
	}
	return fmt.Sprintf("transaction_id = %d", txID)
}

// txKey is the override of a row's transaction ID.
func txKey(table schemas.Table, txID int64) map[string]any {
	if table.Name == crowdchange.Transactions {
		return map[string]any{"id": txID}
	}
	return map[string]any{"transaction_id": txID}
}

// sampleRuns are run-log rows for the sinks' Runs tests: run-a started and done, run-b still
// running, run-c failed.
func sampleRuns() (a, aDone, b, c Run) {
	start := time.Date(2024, 3, 2, 2, 0, 0, 0, time.UTC)
	a = Run{Source: "crowdchange", RunID: "run-a", Verb: "sync", Args: "--lookback 168h", StartedAt: start, Outcome: "running",
		RangeStart: day1, RangeEnd: day3}
	aDone = a
	aDone.EndedAt, aDone.Outcome = start.Add(90*time.Second+123456*time.Microsecond), "done"
	aDone.Windows, aDone.WindowsSkipped, aDone.Pages, aDone.Requests, aDone.Retries, aDone.Throttled = 2, 1, 30, 33, 3, 2
	aDone.Transactions, aDone.BytesLoaded, aDone.UnknownFields, aDone.InvalidTransactions = 2900, 1<<20, 4, 1
	aDone.RowsPerTable = map[string]int64{"transactions": 2900, "transaction_items": 4100}
	b = Run{Source: "crowdchange", RunID: "run-b", Verb: "backfill", StartedAt: start.Add(time.Hour), Outcome: "running"}
	c = Run{Source: "crowdchange", RunID: "run-c", Verb: "sync", StartedAt: start.Add(-time.Hour), EndedAt: start, Outcome: "failed",
		Error: "fetching page 3: API answered 503", RowsPerTable: map[string]int64{}}
	return a, aDone, b, c
}

// CrowdChange's streams, as the tests of the shared machinery use them (declared in package
// schemas).
const (
	StreamDate   = "date"
	StreamPayout = "payout"
)
