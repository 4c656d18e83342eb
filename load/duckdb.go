package load

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/schemas"
)

// DuckDB is the embedded warehouse: one DuckDB file holding every table of package schemas, the
// `*_current` views, the checkpoints and the run log.
//
// It holds the file only while it uses it: an operation (the migration at open, Commit,
// Checkpoints, RecordRun, Runs, every use of DB) opens the file, does its work, and the file is
// closed (which, for a writer, checkpoints DuckDB's write-ahead log) once no operation followed
// for idleHold, or after maxHold of holding it. DuckDB lets one process write a file and excludes every other process meanwhile, so
// a long backfill leaves the file free between its commits for readers (OpenDuckDBReadOnly:
// `ccsync status`, `query`, `verify`); a process that finds the file held by another waits for it
// (config.DuckDB.LockWait).
// It uses a single connection, so its methods run one at a time; a caller of DB must close its
// rows before calling another method.
type DuckDB struct {
	db       *sql.DB
	path     string
	log      *logrus.Entry
	readOnly bool
	// tables are schemas' tables under the PII policy (WithDuckDBPII): what migrate creates.
	tables []schemas.Table

	// afterLoad, when set (by tests), is called inside Commit's transaction after each table's
	// rows are inserted, before the checkpoints.
	afterLoad func(table string)
}

// ErrNoWarehouse marks a DuckDB file that does not exist, for a caller that does not create it
// (OpenDuckDBReadOnly, or OpenDuckDB with MustExist). It comes with ErrWarehouseUnavailable.
var ErrNoWarehouse = errors.New("no DuckDB warehouse")

// ErrReadOnly marks a change refused because the warehouse was opened read-only
// (OpenDuckDBReadOnly): by DuckDB itself (DuckDB.Query), or by the sink's writing methods.
var ErrReadOnly = errors.New("the warehouse is opened read-only")

// DuckDBOption configures OpenDuckDB and OpenDuckDBReadOnly.
type DuckDBOption func(*duckDBOptions)

type duckDBOptions struct {
	mustExist bool
	// idleHold and maxHold: how long the sink keeps the file between operations (see newDuckDB).
	idleHold, maxHold time.Duration
	now               func() time.Time
	sleep             func(context.Context, time.Duration) error
	open              func(dsn string) (*duckdb.Connector, error)
	pii               schemas.Policy
}

// WithDuckDBPII creates the tables under a PII policy: the columns it drops are absent from new
// tables (an existing table keeps them; new rows leave them null).
func WithDuckDBPII(p schemas.Policy) DuckDBOption { return func(o *duckDBOptions) { o.pii = p } }

// MustExist makes OpenDuckDB refuse to create the file: a missing one is an error wrapping
// ErrNoWarehouse (`ccsync query --write`).
func MustExist() DuckDBOption { return func(o *duckDBOptions) { o.mustExist = true } }

// withLockClock sets the clock and the sleeper of the wait for a file another process holds
// (tests).
func withLockClock(now func() time.Time, sleep func(context.Context, time.Duration) error) DuckDBOption {
	return func(o *duckDBOptions) { o.now, o.sleep = now, sleep }
}

// withHold sets how long a sink keeps the file between operations: until idle for idle, and at
// most max (tests; 0 closes the file after every operation).
func withHold(idle, max time.Duration) DuckDBOption {
	return func(o *duckDBOptions) { o.idleHold, o.maxHold = idle, max }
}

// withOpener sets how the file is opened (tests).
func withOpener(open func(dsn string) (*duckdb.Connector, error)) DuckDBOption {
	return func(o *duckDBOptions) { o.open = open }
}

// OpenDuckDB opens the DuckDB file at cfg.Path for writing (the run verbs), creating it if needed.
// Every connection runs in the UTC time zone with cfg's threads and memory limit. It creates the
// tables of schemas.AllTables that do not exist, adds the columns a table lacks (nullable),
// refuses a column whose type differs from the schema's (naming table and column), and
// (re)creates the `*_current` views, all in one transaction: opening an existing file again
// changes nothing. A file that cannot be opened (bad path or settings, held by another process
// for longer than cfg.LockWait) is reported with an error wrapping ErrWarehouseUnavailable.
func OpenDuckDB(ctx context.Context, cfg config.DuckDB, log *logrus.Entry, opts ...DuckDBOption) (*DuckDB, error) {
	d, err := newDuckDB(cfg, log, false, opts)
	if err != nil {
		return nil, err
	}
	// One connection, so that the file is created and migrated under one lock: a reader never
	// sees it without its tables.
	conn, err := d.db.Conn(ctx)
	if err != nil {
		d.db.Close()
		return nil, err // it names the file
	}
	err = d.migrate(ctx, conn)
	if cerr := conn.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing: %w", cerr)
	}
	if err != nil {
		d.db.Close()
		return nil, fmt.Errorf("opening DuckDB %s: %w", cfg.Path, err)
	}
	return d, nil
}

// OpenDuckDBReadOnly opens an existing DuckDB file for reading (status, query, verify): DuckDB
// opens it with access_mode READ_ONLY, so it refuses every change, and several readers can use
// it at once. It never creates the file: a missing one is an error wrapping ErrNoWarehouse and
// ErrWarehouseUnavailable. It changes nothing in the file (no migration). It opens the file once
// to check it, waiting up to cfg.LockWait while a writer holds it.
func OpenDuckDBReadOnly(ctx context.Context, cfg config.DuckDB, log *logrus.Entry, opts ...DuckDBOption) (*DuckDB, error) {
	d, err := newDuckDB(cfg, log, true, opts)
	if err != nil {
		return nil, err
	}
	if err := d.db.PingContext(ctx); err != nil {
		d.db.Close()
		return nil, err // it names the file
	}
	return d, nil
}

// newDuckDB checks the configuration and builds the sink; it does not open the file, except to
// see whether it exists when it must.
func newDuckDB(cfg config.DuckDB, log *logrus.Entry, readOnly bool, opts []DuckDBOption) (*DuckDB, error) {
	o := duckDBOptions{now: time.Now, sleep: sleepCtx, open: newDuckDBConnector, idleHold: idleHold, maxHold: maxHold}
	for _, opt := range opts {
		opt(&o)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("opening DuckDB: %w: %w", ErrWarehouseUnavailable, err)
	}
	if strings.Contains(cfg.Path, "?") {
		return nil, fmt.Errorf("opening DuckDB %s: %w: the path must not contain '?'", cfg.Path, ErrWarehouseUnavailable)
	}
	if readOnly || o.mustExist {
		if _, err := os.Stat(cfg.Path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("opening DuckDB %s: %w: %w", cfg.Path, ErrWarehouseUnavailable, ErrNoWarehouse)
		} else if err != nil {
			return nil, fmt.Errorf("opening DuckDB %s: %w: %w", cfg.Path, ErrWarehouseUnavailable, err)
		}
	}
	if log == nil {
		l := logrus.New()
		l.Out = io.Discard
		log = logrus.NewEntry(l)
	}
	log = log.WithField("duckdb", cfg.Path)

	settings := []string{"SET TimeZone = 'UTC'"}
	if cfg.Threads > 0 {
		settings = append(settings, fmt.Sprintf("SET threads = %d", cfg.Threads))
	}
	if cfg.MemoryLimit != "" {
		settings = append(settings, "SET memory_limit = "+quoteLiteral(cfg.MemoryLimit))
	}
	dsn := cfg.Path
	if readOnly {
		dsn += "?access_mode=READ_ONLY"
	} else {
		dsn += "?storage_compatibility_version=" + storageVersion
	}
	db := sql.OpenDB(&fileConnector{
		path: cfg.Path, dsn: dsn, settings: settings, lockWait: cfg.LockWait,
		now: o.now, sleep: o.sleep, open: o.open, log: log,
	})
	db.SetMaxOpenConns(1)
	if o.idleHold <= 0 {
		db.SetMaxIdleConns(0) // no idle connection: the file is closed as soon as an operation ends
	} else {
		// The file is kept between operations that follow each other closely (a fast backfill
		// commits every few hundred milliseconds; status runs a few queries), because opening it
		// replays the write-ahead log and closing a writer's checkpoints it: each can cost up to
		// a second. It is closed once idle for idleHold, and when an operation ends after
		// maxHold at the latest, so that other processes, which wait up to cfg.LockWait, always
		// get their turn.
		db.SetMaxIdleConns(1)
		db.SetConnMaxIdleTime(o.idleHold)
		db.SetConnMaxLifetime(o.maxHold)
	}
	return &DuckDB{db: db, path: cfg.Path, log: log, readOnly: readOnly, tables: o.pii.Tables(schemas.AllTables())}, nil
}

// storageVersion is the storage format of a file the writer creates: the first whose
// compressions include zstd for strings (the raw JSON columns, see schemas.Table.DuckDBCreate),
// which makes a file several times smaller. DuckDB before v1.4 cannot open such a file. A file
// created in an older format keeps it (and its raw JSON uncompressed).
const storageVersion = "v1.4.0"

// How long a sink keeps the file open between operations (see newDuckDB): closed once idle for
// idleHold, and when an operation ends after maxHold of holding it. Both are far below
// config.DefaultDuckDBLockWait, how long another process waits for the file.
const (
	idleHold = 500 * time.Millisecond
	maxHold  = 5 * time.Second
)

// writable refuses a change to a read-only sink; what names the operation.
func (d *DuckDB) writable(what string) error {
	if d.readOnly {
		return fmt.Errorf("%s: %w", what, ErrReadOnly)
	}
	return nil
}

// migrate creates the tables, evolves them additively and replaces the views, in one transaction
// on conn.
func (d *DuckDB) migrate(ctx context.Context, conn *sql.Conn) (err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("creating tables: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	for _, t := range d.tables {
		if _, err := tx.ExecContext(ctx, t.DuckDBCreate()); err != nil {
			return fmt.Errorf("creating table %s: %w", t.Name, err)
		}
	}
	existing, err := columnTypes(ctx, tx)
	if err != nil {
		return err
	}
	canon := map[string]string{} // schemas DuckDB type → DuckDB's spelling of it
	var alters []string
	var mismatches []error
	for _, t := range d.tables {
		have := existing[t.Name]
		for _, c := range t.Columns {
			want, err := canonicalType(ctx, tx, canon, c.DuckDBType())
			if err != nil {
				return err
			}
			got, ok := have[c.Name]
			switch {
			case !ok:
				alters = append(alters, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s",
					schemas.QuoteIdent(t.Name), schemas.QuoteIdent(c.Name), c.DuckDBType()))
				d.log.WithFields(logrus.Fields{"table": t.Name, "column": c.Name, "type": want}).Info("adding column")
			case got != want:
				mismatches = append(mismatches, fmt.Errorf("table %s, column %s: type is %s in the warehouse, %s in the schema", t.Name, c.Name, got, want))
			}
			delete(have, c.Name)
		}
		for col := range have {
			d.log.WithFields(logrus.Fields{"table": t.Name, "column": col}).Warn("column in the warehouse is not in the schema; left alone")
		}
	}
	if len(mismatches) > 0 {
		return fmt.Errorf("schema evolution refused (only new nullable columns are added): %w", errors.Join(mismatches...))
	}
	for _, a := range alters {
		if _, err := tx.ExecContext(ctx, a); err != nil {
			return fmt.Errorf("evolving schema: %s: %w", a, err)
		}
	}
	for _, t := range schemas.SourceDataTables() { // parents first: a child view reads its parent's current view
		q := fmt.Sprintf("CREATE OR REPLACE VIEW %s AS %s", schemas.QuoteIdent(t.CurrentView()), schemas.CurrentViewSQL(t, schemas.QuoteIdent))
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("creating view %s: %w", t.CurrentView(), err)
		}
	}
	for _, v := range schemas.ModelViews(schemas.QuoteIdent, schemas.DuckDB) { // after the current views they read
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE VIEW %s AS\n%s", schemas.QuoteIdent(v.Name), v.SQL)); err != nil {
			return fmt.Errorf("creating view %s: %w", v.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("creating tables: committing: %w", err)
	}
	return nil
}

// columnTypes returns the column types of the main schema's tables, as DuckDB spells them.
func columnTypes(ctx context.Context, tx *sql.Tx) (map[string]map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT table_name, column_name, data_type FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name = current_schema()`)
	if err != nil {
		return nil, fmt.Errorf("reading the warehouse's columns: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var table, col, typ string
		if err := rows.Scan(&table, &col, &typ); err != nil {
			return nil, fmt.Errorf("reading the warehouse's columns: %w", err)
		}
		if out[table] == nil {
			out[table] = map[string]string{}
		}
		out[table][col] = typ
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the warehouse's columns: %w", err)
	}
	return out, nil
}

// canonicalType returns DuckDB's own spelling of a type ("DECIMAL(38, 9)" → "DECIMAL(38,9)",
// "TIMESTAMPTZ" → "TIMESTAMP WITH TIME ZONE"), as duckdb_columns() reports it.
func canonicalType(ctx context.Context, tx *sql.Tx, cache map[string]string, typ string) (string, error) {
	if c, ok := cache[typ]; ok {
		return c, nil
	}
	var c string
	if err := tx.QueryRowContext(ctx, "SELECT typeof(CAST(NULL AS "+typ+"))").Scan(&c); err != nil {
		return "", fmt.Errorf("resolving type %s: %w", typ, err)
	}
	cache[typ] = c
	return c, nil
}

// Commit loads a batch in one transaction: every table's Parquet file (INSERT BY NAME from
// read_parquet), then the batch's checkpoints (CommittedAt set to now when zero). Either all of it
// is in the warehouse afterwards, crash included, or none of it. Commit closes the batch first; it
// does not remove its files. A batch with rows must have at least one checkpoint. Committing a
// batch whose checkpoints are already in the warehouse does nothing, so a retried Commit never
// loads twice.
func (d *DuckDB) Commit(ctx context.Context, b *Batch) (err error) {
	if err := d.writable("committing batch " + b.ID()); err != nil {
		return err
	}
	start := time.Now()
	files, rows, cps, err := b.committable(start)
	if err != nil {
		return err
	}
	if len(cps) == 0 {
		return nil
	}
	for t, p := range files {
		if strings.ContainsAny(p, "*?[") {
			return fmt.Errorf("committing batch %s: loading %s: the file path has glob characters DuckDB would expand: %s", b.ID(), t, p)
		}
	}

	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("committing batch %s: beginning: %w", b.ID(), err)
	}
	defer func() {
		if err != nil {
			if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
				d.log.WithError(rerr).WithField("batch", b.ID()).Error("rolling back")
			}
		}
	}()

	var already int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+schemas.QuoteIdent(schemas.Checkpoints)+" WHERE batch_id = ?", b.ID()).Scan(&already); err != nil {
		return fmt.Errorf("committing batch %s: looking for its checkpoints: %w", b.ID(), err)
	}
	if already > 0 {
		d.log.WithField("batch", b.ID()).Warn("batch already committed; not loading it again")
		return tx.Rollback()
	}

	for _, t := range schemas.LoadTables() {
		path, ok := files[t.Name]
		if !ok {
			continue
		}
		res, err := tx.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s BY NAME SELECT * FROM read_parquet(%s)",
			schemas.QuoteIdent(t.Name), quoteLiteral(path)))
		if err != nil {
			return fmt.Errorf("committing batch %s: loading %s: %w", b.ID(), t.Name, valueFree(err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("committing batch %s: loading %s: %w", b.ID(), t.Name, err)
		} else if n != rows[t.Name] {
			return fmt.Errorf("committing batch %s: loading %s: %d rows inserted, the batch wrote %d", b.ID(), t.Name, n, rows[t.Name])
		}
		if d.afterLoad != nil {
			d.afterLoad(t.Name)
		}
	}

	stmt, err := tx.PrepareContext(ctx, "INSERT INTO "+schemas.QuoteIdent(schemas.Checkpoints)+
		" (source, stream, payout_account, window_start, window_end, run_id, batch_id, committed_at, transactions, pages) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	if err != nil {
		return fmt.Errorf("committing batch %s: recording checkpoints: %w", b.ID(), err)
	}
	defer stmt.Close()
	for _, c := range cps {
		if _, err := stmt.ExecContext(ctx, c.Source, c.Stream, nullString(c.PayoutAccount), c.WindowStart.UTC(), c.WindowEnd.UTC(),
			c.RunID, c.BatchID, c.CommittedAt.UTC(), c.Transactions, c.Pages); err != nil {
			return fmt.Errorf("committing batch %s: recording checkpoints: %w", b.ID(), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing batch %s: %w", b.ID(), valueFree(err))
	}

	fields := logrus.Fields{"batch": b.ID(), "run": b.RunID(), "windows": len(cps), "bytes": b.Bytes(), "duration": time.Since(start).Round(time.Millisecond)}
	for t, n := range rows {
		fields["rows_"+t] = n
	}
	d.log.WithFields(fields).Debug("batch committed")
	return nil
}

// Checkpoints returns every committed window of every source, ordered by source, stream, payout
// account, window start, window end and commit time; a caller keeps its source's (OfSource).
func (d *DuckDB) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+schemas.SourceSQL("source")+`, stream, payout_account, window_start, window_end, run_id, batch_id, committed_at, transactions, pages
FROM `+schemas.QuoteIdent(schemas.Checkpoints)+`
ORDER BY 1, stream, payout_account NULLS FIRST, window_start, window_end, committed_at`)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		var account sql.NullString
		if err := rows.Scan(&c.Source, &c.Stream, &account, &c.WindowStart, &c.WindowEnd, &c.RunID, &c.BatchID, &c.CommittedAt, &c.Transactions, &c.Pages); err != nil {
			return nil, fmt.Errorf("reading checkpoints: %w", err)
		}
		c.PayoutAccount = account.String
		c.WindowStart, c.WindowEnd, c.CommittedAt = c.WindowStart.UTC(), c.WindowEnd.UTC(), c.CommittedAt.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	return out, nil
}

// runColumns are the columns of ccsync_runs in the order RecordRun and Runs use them.
const runColumns = `run_id, verb, args, range_start, range_end, started_at, ended_at, outcome, error, windows, windows_skipped,
pages, requests, retries, throttled, transactions, rows_per_table, bytes_loaded, unknown_fields, invalid_transactions, quarantined, pii_policy, source`

// runSelectColumns are runColumns as Runs reads them from a ccsync_runs whose columns are have: a
// row written before ccsync had sources is the legacy source's, and a column the file does not
// have yet (a file of an earlier ccsync opened read-only, which no migration has evolved) reads
// NULL.
func runSelectColumns(have map[string]bool) string {
	cols := strings.Fields(strings.ReplaceAll(runColumns, ",", " "))
	for i, c := range cols {
		switch {
		case !have[c]:
			cols[i] = "NULL"
		case c == "source":
			cols[i] = schemas.SourceSQL("source")
		}
	}
	return strings.Join(cols, ", ")
}

// RecordRun appends a row to the run log. RunID, Verb, Outcome and StartedAt are required.
func (d *DuckDB) RecordRun(ctx context.Context, r Run) error {
	if err := d.writable("recording run " + r.RunID); err != nil {
		return err
	}
	perTable, err := r.rowsPerTableJSON()
	if err != nil {
		return err
	}
	_, err = d.db.ExecContext(ctx, "INSERT INTO "+schemas.QuoteIdent(schemas.Runs)+" ("+runColumns+") VALUES (?"+strings.Repeat(", ?", len(runColumnNames)-1)+")",
		r.RunID, r.Verb, nullString(r.Args), nullTime(r.RangeStart), nullTime(r.RangeEnd), r.StartedAt.UTC(), nullTime(r.EndedAt),
		r.Outcome, nullString(r.Error), r.Windows, r.WindowsSkipped, r.Pages, r.Requests, r.Retries, r.Throttled,
		r.Transactions, perTable, r.BytesLoaded, r.UnknownFields, r.InvalidTransactions, r.Quarantined, nullString(r.PIIPolicy), r.Source)
	if err != nil {
		return fmt.Errorf("recording run %s: %w", r.RunID, err)
	}
	return nil
}

// Runs returns the latest row (the last appended) of each run, newest run first (by start time);
// limit <= 0 returns every run.
func (d *DuckDB) Runs(ctx context.Context, limit int) ([]Run, error) {
	// One transaction, which changes nothing: the columns and the rows are read from the same state.
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading runs: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	existing, err := columnTypes(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("reading runs: %w", err)
	}
	have := map[string]bool{}
	for c := range existing[schemas.Runs] {
		have[c] = true
	}
	q := "SELECT " + runSelectColumns(have) + " FROM " + schemas.QuoteIdent(schemas.Runs) + `
QUALIFY row_number() OVER (PARTITION BY run_id ORDER BY rowid DESC) = 1
ORDER BY started_at DESC, run_id DESC`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var (
			r                                        Run
			args, errText, perTable, piiPolicy       sql.NullString
			rangeStart, rangeEnd, endedAt            sql.NullTime
			windows, skipped, pages, requests        sql.NullInt64
			retries, throttled, txns, bytes, unknown sql.NullInt64
			invalid, quarantined                     sql.NullInt64
		)
		if err := rows.Scan(&r.RunID, &r.Verb, &args, &rangeStart, &rangeEnd, &r.StartedAt, &endedAt, &r.Outcome, &errText,
			&windows, &skipped, &pages, &requests, &retries, &throttled, &txns, &perTable, &bytes, &unknown, &invalid, &quarantined, &piiPolicy, &r.Source); err != nil {
			return nil, fmt.Errorf("reading runs: %w", err)
		}
		r.Args, r.Error, r.PIIPolicy = args.String, errText.String, piiPolicy.String
		r.RangeStart, r.RangeEnd, r.EndedAt = utcOrZero(rangeStart), utcOrZero(rangeEnd), utcOrZero(endedAt)
		r.StartedAt = r.StartedAt.UTC()
		r.Windows, r.WindowsSkipped, r.Pages, r.Requests = windows.Int64, skipped.Int64, pages.Int64, requests.Int64
		r.Retries, r.Throttled, r.Transactions, r.BytesLoaded = retries.Int64, throttled.Int64, txns.Int64, bytes.Int64
		r.UnknownFields, r.InvalidTransactions, r.Quarantined = unknown.Int64, invalid.Int64, quarantined.Int64
		if perTable.Valid {
			if err := json.Unmarshal([]byte(perTable.String), &r.RowsPerTable); err != nil {
				return nil, fmt.Errorf("reading run %s: decoding rows per table: %w", r.RunID, err)
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading runs: %w", err)
	}
	return out, nil
}

// DB returns the database handle, for tests and SQL over the warehouse (verify). It has a single
// connection, which opens the file when a statement needs it and closes it when the statement,
// its rows or its transaction are done: close rows before calling another method, and do not
// expect session state (SET, temporary tables) to outlive a statement. A read-only sink's handle
// opens the file read-only.
func (d *DuckDB) DB() *sql.DB { return d.db }

// Query runs SQL for `ccsync query`. On a read-only sink DuckDB refuses a statement that would
// change the warehouse; the error then wraps ErrReadOnly.
func (d *DuckDB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		if d.readOnly && strings.Contains(err.Error(), readOnlyRefusal) {
			return nil, fmt.Errorf("%w (DuckDB: %w)", ErrReadOnly, err)
		}
		return nil, err
	}
	return rows, nil
}

// Close closes the handle. The file is already closed, its write-ahead log checkpointed, unless
// a caller of DB still has rows or a transaction open: close those first.
func (d *DuckDB) Close() error {
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("closing DuckDB %s: %w", d.path, err)
	}
	return nil
}

// quoteLiteral quotes s as a SQL string literal (single quotes doubled).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func utcOrZero(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}
