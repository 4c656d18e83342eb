package load

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/schemas"
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
	for _, tbl := range schemas.DataTables() {
		var rows [][]cell
		for r, id := range ids {
			rows = append(rows, genRow(tbl, r, with(txKey(tbl, id), stamp(b.RunID(), b.ID(), extractedAt))))
		}
		writeRows(t, b, mem, tbl.Name, rows...)
		written[tbl.Name] = rows
	}
	b.AddCheckpoint(Checkpoint{Stream: StreamDate, WindowStart: day1, WindowEnd: day2, Transactions: int64(len(ids)), Pages: 1})
	return written
}

func TestCommitRoundTrip(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	d := openTestDB(t, "")
	b := newBatch(t, mem, "run-1", "batch-1")
	ext := time.Date(2024, 3, 1, 2, 3, 4, 567891000, time.UTC)
	ids := []int64{101, 102}
	written := fullBatch(t, mem, b, ext, ids...)

	ctx := context.Background()
	if err := d.Commit(ctx, b); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	var total int64
	for tbl, p := range b.Files() {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
		if got := b.Rows()[tbl]; got != int64(len(ids)) {
			t.Errorf("Rows()[%s] = %d, want %d", tbl, got, len(ids))
		}
	}
	if len(b.Files()) != len(schemas.DataTables()) {
		t.Errorf("Files() has %d tables, want %d", len(b.Files()), len(schemas.DataTables()))
	}
	if b.Bytes() != total || total == 0 {
		t.Errorf("Bytes() = %d, files total %d", b.Bytes(), total)
	}

	for _, tbl := range schemas.DataTables() {
		for _, from := range []string{tbl.Name, tbl.CurrentView()} {
			if got := countRows(t, d.DB(), from); got != int64(len(ids)) {
				t.Errorf("%s has %d rows, want %d", from, got, len(ids))
			}
			for r, id := range ids {
				checkRow(t, d.DB(), tbl, from, keyOf(tbl, id), written[tbl.Name][r])
			}
		}
	}

	cps, err := d.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 1 {
		t.Fatalf("Checkpoints() = %+v, want one", cps)
	}
	c := cps[0]
	if c.CommittedAt.IsZero() || c.CommittedAt.Location() != time.UTC {
		t.Errorf("CommittedAt = %v, want set, in UTC", c.CommittedAt)
	}
	c.CommittedAt = time.Time{}
	want := Checkpoint{Stream: StreamDate, WindowStart: day1, WindowEnd: day2, RunID: "run-1", BatchID: "batch-1", Transactions: 2, Pages: 1}
	if c != want {
		t.Errorf("checkpoint = %+v, want %+v", c, want)
	}
}

// TestParquetTypesInDuckDB checks that read_parquet yields exactly the warehouse's column types
// (DECIMAL(38,9), TIMESTAMP WITH TIME ZONE, BIGINT[], ...): no column is cast on insert.
func TestParquetTypesInDuckDB(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	d := openTestDB(t, "")
	b := newBatch(t, mem, "run-1", "batch-1")
	fullBatch(t, mem, b, day1, 1)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for tbl, path := range b.Files() {
		got := columnsOf(t, d.DB(), "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet("+quoteLiteral(path)+"))")
		want := columnsOf(t, d.DB(), "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", tbl)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Parquet columns\n%v\nwant\n%v", tbl, got, want)
		}
	}
	// The types the brief names, spelled out.
	tr := columnsOf(t, d.DB(), "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'transactions' AND column_name IN ('amount_total_paid', 'date', 'transaction_date', 'refund_children_ids', 'fundraiser_tags_list') ORDER BY column_name")
	wantTr := []string{"amount_total_paid DECIMAL(38,9)", "date TIMESTAMP WITH TIME ZONE", "fundraiser_tags_list VARCHAR[]", "refund_children_ids BIGINT[]", "transaction_date DATE"}
	if !reflect.DeepEqual(tr, wantTr) {
		t.Errorf("transactions types = %v, want %v", tr, wantTr)
	}
}

func columnsOf(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n, typ string
		if err := rows.Scan(&n, &typ); err != nil {
			t.Fatal(err)
		}
		out = append(out, n+" "+typ)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// corruptions damage a finished Parquet file.
var corruptions = map[string]func(path string) error{
	// Cut in half: the footer is gone, DuckDB fails before reading a row.
	"truncated": func(path string) error {
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		return os.Truncate(path, fi.Size()/2)
	},
	// The footer intact, the last row group's last column chunk garbled: DuckDB fails after
	// reading the earlier row groups, with some rows already inserted in the transaction.
	"last row group garbled": func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		footer := int(binary.LittleEndian.Uint32(b[len(b)-8:]))
		end := len(b) - 8 - footer
		for i := end - 48; i < end; i++ {
			b[i] = 0xFF
		}
		return os.WriteFile(path, b, 0o600)
	},
}

func TestCommitIsAtomic(t *testing.T) {
	t.Parallel()
	for _, corrupt := range []string{schemas.Transactions, schemas.TransactionItem, schemas.RawTransactions} {
		for how, damage := range corruptions {
			t.Run(corrupt+"/"+how, func(t *testing.T) {
				mem := newMem(t)
				d := openTestDB(t, "")
				ctx := context.Background()
				b := newBatch(t, mem, "run-1", "batch-1")
				for i := int64(0); i < 3; i++ { // three row groups per file
					fullBatch(t, mem, b, day1, 10*i+1, 10*i+2)
				}
				if err := b.Close(); err != nil {
					t.Fatal(err)
				}
				if err := damage(b.Files()[corrupt]); err != nil {
					t.Fatal(err)
				}

				err := d.Commit(ctx, b)
				if err == nil {
					t.Fatal("Commit of a corrupt batch succeeded")
				}
				t.Logf("error: %v", err)
				if want := "loading " + corrupt + ":"; !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
				for _, tbl := range schemas.AllTables() {
					if n := countRows(t, d.DB(), tbl.Name); n != 0 {
						t.Errorf("%s has %d rows after a failed commit", tbl.Name, n)
					}
				}

				// The warehouse is usable: the next run's batch commits.
				b2 := newBatch(t, mem, "run-2", "batch-2")
				fullBatch(t, mem, b2, day1, 1, 2)
				if err := d.Commit(ctx, b2); err != nil {
					t.Fatalf("Commit after a failed commit: %v", err)
				}
				if n := countRows(t, d.DB(), schemas.Transactions+"_current"); n != 2 {
					t.Errorf("transactions_current has %d rows, want 2", n)
				}
			})
		}
	}
}

func TestCommitTwiceLoadsOnce(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	d := openTestDB(t, "")
	ctx := context.Background()
	b := newBatch(t, mem, "run-1", "batch-1")
	fullBatch(t, mem, b, day1, 1, 2, 3)
	for i := 0; i < 2; i++ {
		if err := d.Commit(ctx, b); err != nil {
			t.Fatalf("Commit #%d: %v", i+1, err)
		}
	}
	if n := countRows(t, d.DB(), schemas.Transactions); n != 3 {
		t.Errorf("transactions has %d rows, want 3", n)
	}
	if n := countRows(t, d.DB(), schemas.Checkpoints); n != 1 {
		t.Errorf("ccsync_checkpoints has %d rows, want 1", n)
	}
}

func TestCommitRefuses(t *testing.T) {
	t.Parallel()
	tr, _ := schemas.ByName(schemas.Transactions)
	tests := []struct {
		name    string
		rows    bool
		cp      *Checkpoint
		wantErr string
	}{
		{"rows without checkpoint", true, nil, "no checkpoint"},
		{"unknown stream", true, &Checkpoint{Stream: "dates", WindowStart: day1, WindowEnd: day2}, "unknown stream"},
		{"date stream with account", true, &Checkpoint{Stream: StreamDate, PayoutAccount: "user", WindowStart: day1, WindowEnd: day2}, "has a payout account"},
		{"payout stream without account", false, &Checkpoint{Stream: StreamPayout, WindowStart: day1, WindowEnd: day2}, "no payout account"},
		{"empty window", true, &Checkpoint{Stream: StreamDate, WindowStart: day2, WindowEnd: day2}, "empty window"},
		{"reversed window", true, &Checkpoint{Stream: StreamDate, WindowStart: day2, WindowEnd: day1}, "empty window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := newMem(t)
			d := openTestDB(t, "")
			b := newBatch(t, mem, "run-1", "batch-1")
			if tt.rows {
				writeRows(t, b, mem, tr.Name, genRow(tr, 0, with(txKey(tr, 1), stamp("run-1", "batch-1", day1))))
			}
			if tt.cp != nil {
				b.AddCheckpoint(*tt.cp)
			}
			err := d.Commit(context.Background(), b)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Commit error = %v, want one containing %q", err, tt.wantErr)
			}
			for _, tbl := range []string{schemas.Transactions, schemas.Checkpoints} {
				if n := countRows(t, d.DB(), tbl); n != 0 {
					t.Errorf("%s has %d rows", tbl, n)
				}
			}
		})
	}
}

func TestCommitRemovedBatch(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	d := openTestDB(t, "")
	b := newBatch(t, mem, "run-1", "batch-1")
	fullBatch(t, mem, b, day1, 1)
	if err := b.Remove(); err != nil {
		t.Fatal(err)
	}
	err := d.Commit(context.Background(), b)
	if err == nil || !strings.Contains(err.Error(), "no file") {
		t.Fatalf("Commit of a removed batch: %v, want an error", err)
	}
	if n := countRows(t, d.DB(), schemas.Checkpoints); n != 0 {
		t.Errorf("a removed batch's windows were committed without their rows")
	}
}

// TestCommitWindowWithoutRows commits a checkpoint with no rows (a quiet window): no file, no
// rows, one checkpoint.
func TestCommitWindowWithoutRows(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	d := openTestDB(t, "")
	b := newBatch(t, mem, "run-1", "batch-1")
	b.AddCheckpoint(Checkpoint{Stream: StreamPayout, PayoutAccount: "global", WindowStart: day1, WindowEnd: day2})
	if err := d.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if len(b.Files()) != 0 || b.Bytes() != 0 {
		t.Errorf("Files() = %v, Bytes() = %d; want none", b.Files(), b.Bytes())
	}
	cps, err := d.Checkpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 1 || cps[0].PayoutAccount != "global" || cps[0].Stream != StreamPayout {
		t.Errorf("Checkpoints() = %+v", cps)
	}
}

// insertVersion inserts a minimal row directly with SQL: only the required columns and the given
// ones.
func insertVersion(t *testing.T, db *sql.DB, table string, vals map[string]any) {
	t.Helper()
	tbl, _ := schemas.ByName(table)
	var cols, ph []string
	var args []any
	for _, c := range tbl.Columns {
		v, ok := vals[c.Name]
		switch {
		case ok:
		case c.Repeated:
			cols, ph = append(cols, schemas.QuoteIdent(c.Name)), append(ph, "[]")
			continue
		case c.Required:
			t.Fatalf("insertVersion: %s.%s is required", table, c.Name)
		default:
			continue
		}
		cols, ph, args = append(cols, schemas.QuoteIdent(c.Name)), append(ph, "?"), append(args, v)
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", schemas.QuoteIdent(table), strings.Join(cols, ", "), strings.Join(ph, ", "))
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestCurrentViews(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	d := openTestDB(t, "")
	ctx := context.Background()
	t1 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	t3 := t2.Add(24 * time.Hour)

	type version struct {
		run, batch string
		ext        time.Time
		txID       int64
		items      int // transaction_items rows (positions 0..items-1); other child tables get one row
	}
	commit := func(vs ...version) {
		t.Helper()
		b := newBatch(t, mem, vs[0].run, vs[0].batch)
		for _, tbl := range schemas.DataTables() {
			var rows [][]cell
			for _, v := range vs {
				n := 1
				if tbl.Name == schemas.TransactionItem {
					n = v.items
				}
				for pos := 0; pos < n; pos++ {
					over := with(txKey(tbl, v.txID), stamp(v.run, v.batch, v.ext))
					if tbl.ColumnIndex("position") >= 0 {
						over["position"] = int64(pos)
					}
					rows = append(rows, genRow(tbl, pos, over))
				}
			}
			writeRows(t, b, mem, tbl.Name, rows...)
		}
		b.AddCheckpoint(Checkpoint{Stream: StreamDate, WindowStart: day1, WindowEnd: day2})
		if err := d.Commit(ctx, b); err != nil {
			t.Fatalf("Commit %s: %v", vs[0].batch, err)
		}
	}
	// Transaction 1: version 1 (two items), then version 2 (one item), then an uncommitted
	// version 3. Transaction 2: one version. Transaction 3: two versions extracted at the same
	// time by two shards; the greater run ID wins.
	commit(version{"run-1", "batch-1", t1, 1, 2}, version{"run-1", "batch-1", t1, 2, 1})
	commit(version{"run-2", "batch-2", t2, 1, 1})
	commit(version{"shard-a", "batch-a", t2, 3, 1})
	commit(version{"shard-b", "batch-b", t2, 3, 2})
	for _, tbl := range schemas.DataTables() {
		key := map[string]any{schemas.ColRunID: "run-3", schemas.ColBatchID: "batch-3", schemas.ColExtractedAt: t3}
		if tbl.Name == schemas.Transactions {
			key["id"] = int64(1)
		} else {
			key["transaction_id"] = int64(1)
			for _, c := range []string{"direction", "level", "category", "raw"} {
				if tbl.ColumnIndex(c) >= 0 {
					key[c] = "purchased"
				}
			}
			if tbl.ColumnIndex("position") >= 0 {
				key["position"] = int64(0)
			}
		}
		insertVersion(t, d.DB(), tbl.Name, key)
	}

	wantCurrent := []string{"1 run-2", "2 run-1", "3 shard-b"}
	wantItems := []string{"1 run-2 0", "2 run-1 0", "3 shard-b 0", "3 shard-b 1"}
	got := columnsOf(t, d.DB(), "SELECT CAST(id AS VARCHAR), _run_id FROM transactions_current ORDER BY id")
	if !reflect.DeepEqual(got, wantCurrent) {
		t.Errorf("transactions_current = %v, want %v", got, wantCurrent)
	}
	if n := count(t, d.DB(), "SELECT count(*) FROM transactions WHERE id = 1"); n != 3 {
		t.Errorf("transactions has %d versions of transaction 1, want 3", n)
	}
	got = columnsOf(t, d.DB(), "SELECT CAST(transaction_id AS VARCHAR), _run_id || ' ' || CAST(position AS VARCHAR) FROM transaction_items_current ORDER BY transaction_id, position")
	if !reflect.DeepEqual(got, wantItems) {
		t.Errorf("transaction_items_current = %v, want %v", got, wantItems)
	}
	for _, tbl := range schemas.DataTables()[2:] {
		got := columnsOf(t, d.DB(), "SELECT CAST(transaction_id AS VARCHAR), _run_id FROM "+schemas.QuoteIdent(tbl.CurrentView())+" ORDER BY transaction_id")
		if !reflect.DeepEqual(got, wantCurrent) {
			t.Errorf("%s = %v, want %v", tbl.CurrentView(), got, wantCurrent)
		}
	}

	// Once batch-3 is committed (its checkpoint lands), version 3 becomes current.
	if _, err := d.DB().Exec(`INSERT INTO ccsync_checkpoints (stream, window_start, window_end, run_id, batch_id, committed_at, transactions, pages)
VALUES ('date', ?, ?, 'run-3', 'batch-3', ?, 1, 1)`, day2, day3, t3); err != nil {
		t.Fatal(err)
	}
	got = columnsOf(t, d.DB(), "SELECT CAST(id AS VARCHAR), _run_id FROM transactions_current ORDER BY id")
	if want := []string{"1 run-3", "2 run-1", "3 shard-b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after batch-3's checkpoint, transactions_current = %v, want %v", got, want)
	}
	got = columnsOf(t, d.DB(), "SELECT CAST(transaction_id AS VARCHAR), _run_id FROM transaction_items_current WHERE transaction_id = 1")
	if want := []string{"1 run-3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after batch-3's checkpoint, items of transaction 1 = %v, want %v", got, want)
	}
}

func TestSchemaEvolutionAddsColumns(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	d, err := OpenDuckDB(ctx, config.DuckDB{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := newBatch(t, mem, "run-1", "batch-1")
	fullBatch(t, mem, b, day1, 1)
	if err := d.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	// An older ccsync's warehouse: without columns that a newer schema has.
	for _, q := range []string{
		`ALTER TABLE transactions DROP COLUMN promo_code`,
		`ALTER TABLE transactions DROP COLUMN refund_children_ids`,
		`ALTER TABLE ccsync_runs DROP COLUMN throttled`,
	} {
		if _, err := d.DB().Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d = openTestDB(t, path)
	for _, c := range []struct{ table, column, typ string }{
		{"transactions", "promo_code", "VARCHAR"},
		{"transactions", "refund_children_ids", "BIGINT[]"},
		{"ccsync_runs", "throttled", "BIGINT"},
	} {
		var typ string
		var nullable bool
		err := d.DB().QueryRow("SELECT data_type, is_nullable FROM duckdb_columns() WHERE table_name = ? AND column_name = ?", c.table, c.column).Scan(&typ, &nullable)
		if err != nil {
			t.Fatalf("%s.%s: %v", c.table, c.column, err)
		}
		if typ != c.typ || !nullable {
			t.Errorf("%s.%s is %s (nullable %t), want %s nullable", c.table, c.column, typ, nullable, c.typ)
		}
	}
	if n := count(t, d.DB(), "SELECT count(*) FROM transactions_current WHERE id = 1 AND promo_code IS NULL AND refund_children_ids IS NULL"); n != 1 {
		t.Errorf("the existing row with the new columns NULL: found %d, want 1", n)
	}
	// New batches load into the evolved table.
	b2 := newBatch(t, mem, "run-2", "batch-2")
	fullBatch(t, mem, b2, day2, 2)
	if err := d.Commit(ctx, b2); err != nil {
		t.Fatalf("Commit after evolution: %v", err)
	}
	if n := count(t, d.DB(), "SELECT count(*) FROM transactions_current WHERE id = 2 AND refund_children_ids IS NOT NULL"); n != 1 {
		t.Errorf("new row: found %d, want 1", n)
	}
}

func TestSchemaEvolutionRefusesTypeChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, table, column, ddl string
	}{
		{"money as double", "transactions", "amount_total_paid", "DOUBLE"},
		{"timestamp without time zone", "ccsync_checkpoints", "window_start", "TIMESTAMP"},
		{"list of another type", "raw_transactions", "unknown_fields", "BIGINT[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "w.duckdb")
			d, err := OpenDuckDB(ctx, config.DuckDB{Path: path}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{
				fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", tt.table, tt.column),
				fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", tt.table, tt.column, tt.ddl),
				"ALTER TABLE transactions DROP COLUMN promo_code",
			} {
				if _, err := d.DB().Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}

			_, err = OpenDuckDB(ctx, config.DuckDB{Path: path}, nil)
			if err == nil {
				t.Fatal("OpenDuckDB accepted a changed column type")
			}
			t.Logf("error: %v", err)
			for _, want := range []string{"table " + tt.table, "column " + tt.column} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
			// Nothing was changed: the missing column was not added either.
			db, err := sql.Open("duckdb", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if n := count(t, db, "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'transactions' AND column_name = 'promo_code'"); n != 0 {
				t.Errorf("a refused open added a column")
			}
		})
	}
}

func TestReopenIsIdempotent(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	snapshot := func(d *DuckDB) []string {
		t.Helper()
		s := columnsOf(t, d.DB(), `SELECT table_name || '.' || column_name, data_type || ' ' || CAST(is_nullable AS VARCHAR) FROM duckdb_columns() ORDER BY table_name, column_index`)
		s = append(s, columnsOf(t, d.DB(), `SELECT view_name, sql FROM duckdb_views() WHERE NOT internal ORDER BY view_name`)...)
		return append(s, columnsOf(t, d.DB(), `SELECT _batch_id, CAST(count(*) AS VARCHAR) FROM transactions GROUP BY _batch_id ORDER BY 1`)...)
	}
	d, err := OpenDuckDB(ctx, config.DuckDB{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := newBatch(t, mem, "run-1", "batch-1")
	fullBatch(t, mem, b, day1, 1, 2)
	if err := d.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	want := snapshot(d)
	wantCps, err := d.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		d, err := OpenDuckDB(ctx, config.DuckDB{Path: path}, nil)
		if err != nil {
			t.Fatalf("reopen #%d: %v", i+1, err)
		}
		if got := snapshot(d); !reflect.DeepEqual(got, want) {
			t.Errorf("reopen #%d changed the warehouse:\n%v\nwant\n%v", i+1, got, want)
		}
		cps, err := d.Checkpoints(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cps, wantCps) {
			t.Errorf("reopen #%d: checkpoints %+v, want %+v", i+1, cps, wantCps)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenSettings(t *testing.T) {
	t.Parallel()
	d := openTestDB(t, "")
	for q, want := range map[string]string{
		"SELECT current_setting('TimeZone')":                           "UTC",
		"SELECT CAST(current_setting('threads') AS VARCHAR)":           "2",
		"SELECT CAST(TIMESTAMPTZ '2024-01-01 12:00:00+02' AS VARCHAR)": "2024-01-01 10:00:00+00",
	} {
		var got string
		if err := d.DB().QueryRow(q).Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	for _, cfg := range []config.DuckDB{
		{Path: ""},
		{Path: filepath.Join(t.TempDir(), "a?b.duckdb")},
		{Path: filepath.Join(t.TempDir(), "w.duckdb"), Threads: -1},
		{Path: filepath.Join(t.TempDir(), "w.duckdb"), MemoryLimit: "a lot'"},
	} {
		d, err := OpenDuckDB(context.Background(), cfg, nil)
		if err == nil {
			d.Close()
			t.Errorf("OpenDuckDB(%+v) succeeded", cfg)
			continue
		}
		if !errors.Is(err, ErrWarehouseUnavailable) {
			t.Errorf("OpenDuckDB(%+v): %v does not wrap ErrWarehouseUnavailable", cfg, err)
		}
	}
}

func TestRuns(t *testing.T) {
	t.Parallel()
	d := openTestDB(t, "")
	ctx := context.Background()
	a, aDone, b, c := sampleRuns()
	for _, r := range []Run{c, a, b, aDone} {
		if err := d.RecordRun(ctx, r); err != nil {
			t.Fatalf("RecordRun(%s): %v", r.RunID, err)
		}
	}
	tests := []struct {
		limit int
		want  []Run
	}{
		{0, []Run{b, aDone, c}},
		{10, []Run{b, aDone, c}},
		{2, []Run{b, aDone}},
		{1, []Run{b}},
	}
	for _, tt := range tests {
		got, err := d.Runs(ctx, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Runs(%d) =\n%+v\nwant\n%+v", tt.limit, got, tt.want)
		}
	}
	if n := countRows(t, d.DB(), schemas.Runs); n != 4 {
		t.Errorf("ccsync_runs has %d rows, want 4 (append-only)", n)
	}
	var perTable string
	if err := d.DB().QueryRow("SELECT rows_per_table FROM ccsync_runs WHERE run_id = 'run-a' AND outcome = 'done'").Scan(&perTable); err != nil {
		t.Fatal(err)
	}
	if want := `{"transaction_items":4100,"transactions":2900}`; perTable != want {
		t.Errorf("rows_per_table = %s, want %s", perTable, want)
	}
	if err := d.RecordRun(ctx, Run{RunID: "x", Verb: "sync"}); err == nil {
		t.Error("RecordRun accepted a run without outcome and start")
	}
}
