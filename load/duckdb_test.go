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

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
)

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

// TestCommitIsAtomic corrupts one table's file of a batch: the first table loaded, one loaded
// after another table's rows are inserted, the last one. The contract's atomicity as DuckDB gives
// it: nothing of the batch is in any table afterwards.
func TestCommitIsAtomic(t *testing.T) {
	t.Parallel()
	tables := []string{crowdchange.Transactions, crowdchange.TransactionItem, crowdchange.RawTransactions}
	for _, corrupt := range tables {
		for how, damage := range corruptions {
			t.Run(corrupt+"/"+how, func(t *testing.T) {
				t.Parallel()
				mem := newMem(t)
				d := openTestDB(t, "")
				ctx := context.Background()
				b := newBatch(t, mem, "run-1", "batch-1")
				for i := int64(0); i < 3; i++ { // three row groups per file
					smallBatch(t, mem, b, day1, tables, 10*i+1, 10*i+2)
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
				smallBatch(t, mem, b2, day1, tables, 1, 2)
				if err := d.Commit(ctx, b2); err != nil {
					t.Fatalf("Commit after a failed commit: %v", err)
				}
				if n := countRows(t, d.DB(), crowdchange.Transactions+"_current"); n != 2 {
					t.Errorf("transactions_current has %d rows, want 2", n)
				}
			})
		}
	}
}

func TestOpenSettings(t *testing.T) {
	t.Parallel()
	d, err := OpenDuckDB(context.Background(), config.DuckDB{Path: filepath.Join(t.TempDir(), "w.duckdb"), Threads: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for q, want := range map[string]string{
		"SELECT current_setting('TimeZone')":                           "UTC",
		"SELECT CAST(current_setting('threads') AS VARCHAR)":           "3",
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

// duckDBUnderContract is the DuckDB sink as TestSinkContract runs it: a file in the test's
// temporary directory, kept open between operations for the whole test (withHold), as a fast
// backfill keeps it.
var duckDBUnderContract = sinkUnderTest{
	name: "duckdb",
	open: openDuckDBWarehouse,
	also: map[string]func(t *testing.T, w *warehouse){
		caseOlderColumns: checkDuckDBAddedColumns,
	},
}

// openDuckDBWarehouse creates a DuckDB warehouse (as older describes it, when set) and opens the
// sink on it.
func openDuckDBWarehouse(t *testing.T, older *olderWarehouse) *warehouse {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	if older != nil {
		createOlderDuckDB(t, path, older)
	}
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	w := &warehouse{sinkName: "duckdb", mem: newMem(t), logs: hook, ref: schemas.QuoteIdent}

	var d *DuckDB
	open := func() error {
		var err error
		d, err = OpenDuckDB(ctx, config.DuckDB{Path: path, Threads: 1, MemoryLimit: "512MB"}, logrus.NewEntry(logger), withHold(time.Minute, time.Minute))
		if err != nil {
			d = nil
			return err
		}
		w.sink = d
		return nil
	}
	t.Cleanup(func() {
		if d != nil {
			closeTestDB(t, d)
		}
	})
	w.openErr = open()
	// db is the sink's handle; when the sink refused to open, a plain one on the file.
	var plain *sql.DB
	db := func(t *testing.T) *sql.DB {
		t.Helper()
		if d != nil {
			return d.DB()
		}
		if plain == nil {
			var err error
			if plain, err = sql.Open("duckdb", path); err != nil {
				t.Fatal(err)
			}
			plain.SetMaxOpenConns(1)
			t.Cleanup(func() {
				_, _ = plain.Exec("PRAGMA disable_checkpoint_on_shutdown") // see closeTestDB
				plain.Close()
			})
		}
		return plain
	}

	w.texts = func(t *testing.T, query string) []string { t.Helper(); return queryTexts(t, db(t), query) }
	w.checkRow = func(t *testing.T, table schemas.Table, from string, txID int64, want []cell) {
		t.Helper()
		checkRow(t, db(t), table, from, keyOf(table, txID), want)
	}
	w.insert = func(t *testing.T, table string, values map[string]any) {
		t.Helper()
		tbl, _ := schemas.ByName(table)
		insertRow(t, db(t), schemas.QuoteIdent(table), tbl, values)
	}
	w.columns = func(t *testing.T, name string) []string {
		t.Helper()
		return queryTexts(t, db(t), "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", name)
	}
	w.snapshot = func(t *testing.T) []string {
		t.Helper()
		s := columnsOf(t, db(t), `SELECT table_name || '.' || column_name, data_type || ' ' || CAST(is_nullable AS VARCHAR) FROM duckdb_columns() ORDER BY table_name, column_index`)
		s = append(s, columnsOf(t, db(t), `SELECT view_name, sql FROM duckdb_views() WHERE NOT internal ORDER BY view_name`)...)
		return append(s, columnsOf(t, db(t), `SELECT _batch_id, CAST(count(*) AS VARCHAR) FROM transactions GROUP BY _batch_id ORDER BY 1`)...)
	}
	w.written = func(t *testing.T) []string {
		t.Helper()
		var out []string
		for _, tbl := range schemas.AllTables() {
			if n := countRows(t, db(t), tbl.Name); n > 0 {
				out = append(out, fmt.Sprintf("%s: %d rows", tbl.Name, n))
			}
		}
		return out
	}
	w.reopen = func(t *testing.T) {
		t.Helper()
		if err := d.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		d = nil
		if err := open(); err != nil {
			t.Fatalf("reopening: %v", err)
		}
	}
	return w
}

// createOlderDuckDB creates the tables of an older ccsync's DuckDB warehouse by hand and inserts its
// rows.
func createOlderDuckDB(t *testing.T, path string, older *olderWarehouse) {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	defer func() {
		// The sink replays the write-ahead log when it opens the file, as after a crash.
		if _, err := db.Exec("PRAGMA disable_checkpoint_on_shutdown"); err != nil {
			t.Error(err)
		}
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	}()
	for _, tbl := range older.tableList() {
		var cols []string
		for _, c := range tbl.Columns {
			typ := c.DuckDBType()
			if r := older.retype; r != nil && r.table == tbl.Name && r.column == c.Name {
				typ = r.duckDB
			}
			col := schemas.QuoteIdent(c.Name) + " " + typ
			if c.Required || c.Repeated {
				col += " NOT NULL"
			}
			cols = append(cols, col)
		}
		ddl := fmt.Sprintf("CREATE TABLE %s (\n  %s\n)", schemas.QuoteIdent(tbl.Name), strings.Join(cols, ",\n  "))
		if _, err := db.Exec(ddl); err != nil {
			t.Fatalf("%s: %v", ddl, err)
		}
	}
	for _, r := range older.rows {
		tbl, _ := schemas.ByName(r.table)
		insertRow(t, db, schemas.QuoteIdent(r.table), older.table(tbl), r.values)
	}
}

// checkDuckDBAddedColumns: the columns DuckDB added to an older warehouse have the schema's types
// and are nullable, NULL on the older rows (lists too).
func checkDuckDBAddedColumns(t *testing.T, w *warehouse) {
	db := w.sink.(*DuckDB).DB()
	if n := count(t, db, "SELECT count(*) FROM transactions_current WHERE id = 1 AND promo_code IS NULL AND refund_children_ids IS NULL"); n != 1 {
		t.Errorf("the older row with its new columns NULL: found %d, want 1", n)
	}
	for _, c := range []struct{ table, column, typ string }{
		{"transactions", "promo_code", "VARCHAR"},
		{"transactions", "refund_children_ids", "BIGINT[]"},
		{"ccsync_runs", "throttled", "BIGINT"},
	} {
		var typ string
		var nullable bool
		err := db.QueryRow("SELECT data_type, is_nullable FROM duckdb_columns() WHERE table_name = ? AND column_name = ?", c.table, c.column).Scan(&typ, &nullable)
		if err != nil {
			t.Fatalf("%s.%s: %v", c.table, c.column, err)
		}
		if typ != c.typ || !nullable {
			t.Errorf("%s.%s is %s (nullable %t), want %s nullable", c.table, c.column, typ, nullable, c.typ)
		}
	}
}

// TestRawJSONCompressed: a file the writer creates has the storage format whose compressions
// include zstd for strings, and the raw JSON columns are stored with it (issue 9: the warehouse
// file no bigger than the JSON it holds).
func TestRawJSONCompressed(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	d := openTestDB(t, "")
	ctx := context.Background()
	b := newBatch(t, mem, "run-1", "batch-1")
	smallBatch(t, mem, b, day1, []string{crowdchange.Transactions, crowdchange.RawTransactions}, 1, 2, 3)
	if err := d.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DB().Exec("CHECKPOINT"); err != nil {
		t.Fatal(err)
	}
	var version string
	if err := d.DB().QueryRow("SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(version, storageVersion) {
		t.Errorf("storage version %q, want %s", version, storageVersion)
	}
	for _, tbl := range schemas.AllTables() {
		for _, c := range tbl.Columns {
			if c.Derived != schemas.RawJSON || tbl.Name != crowdchange.RawTransactions {
				continue
			}
			var compression string
			if err := d.DB().QueryRow("SELECT string_agg(DISTINCT compression) FROM pragma_storage_info(?) WHERE column_name = ? AND segment_type = 'VARCHAR'",
				tbl.Name, c.Name).Scan(&compression); err != nil {
				t.Fatal(err)
			}
			if compression != "ZSTD" {
				t.Errorf("%s.%s is stored with %q, want ZSTD", tbl.Name, c.Name, compression)
			}
		}
	}
}

// A file of an earlier ccsync, whose run log has no pii_policy column yet, is read by the reading
// verbs, which open it read-only and migrate nothing: the missing column reads as NULL.
func TestRunsOfAnEarlierFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "earlier.duckdb")
	d, err := OpenDuckDB(context.Background(), config.DuckDB{Path: path, Threads: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	run := Run{Source: "crowdchange", RunID: "run-1", Verb: "sync", Outcome: "done", StartedAt: day1, PIIPolicy: "default hash; key set"}
	if err := d.RecordRun(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DB().Exec(`ALTER TABLE ` + schemas.QuoteIdent(schemas.Runs) + ` DROP COLUMN pii_policy`); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := OpenDuckDBReadOnly(context.Background(), config.DuckDB{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	runs, err := r.Runs(context.Background(), 10)
	if err != nil {
		t.Fatalf("Runs of an earlier file: %v", err)
	}
	if len(runs) != 1 || runs[0].RunID != "run-1" || runs[0].PIIPolicy != "" {
		t.Errorf("runs %+v, want run-1 with no policy recorded", runs)
	}
}
