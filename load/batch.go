package load

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	"github.com/ccsync/ccsync/schemas"
)

// Checkpoint is one committed window of a source's stream (the streams are declared in package
// schemas: schemas.SourceInfo).
type Checkpoint struct {
	Source        string    // the source (platform): schemas.SourceNamed knows it
	Stream        string    // one of the source's streams
	PayoutAccount string    // the window's key, exactly for a keyed stream (CrowdChange's payout account)
	WindowStart   time.Time // inclusive, UTC
	WindowEnd     time.Time // exclusive, UTC
	// RunID and BatchID name the run and the batch that committed the window; Batch.AddCheckpoint
	// sets them to the batch's.
	RunID, BatchID string
	// CommittedAt is when the window was committed; a sink sets it when it is zero.
	CommittedAt time.Time
	// Transactions and Pages count what was extracted for the window.
	Transactions, Pages int64
}

// validate checks what a sink relies on: a declared source and stream, a key exactly for a keyed
// stream, a non-empty window, and the batch identity. It names no row values.
func (c Checkpoint) validate() error {
	src, ok := schemas.SourceNamed(c.Source)
	if !ok {
		return fmt.Errorf("checkpoint has unknown source %q (want one of %s)", c.Source, strings.Join(schemas.SourceNames(), ", "))
	}
	stream, ok := src.Stream(c.Stream)
	switch {
	case !ok:
		return fmt.Errorf("checkpoint has unknown stream %q of %s (want one of %s)", c.Stream, c.Source, strings.Join(src.StreamNames(), ", "))
	case stream.Key == "" && c.PayoutAccount != "":
		return fmt.Errorf("checkpoint of the %s stream has a payout account", c.Stream)
	case stream.Key != "" && c.PayoutAccount == "":
		return fmt.Errorf("checkpoint of the %s stream has no %s", c.Stream, stream.Key)
	}
	if !c.WindowStart.Before(c.WindowEnd) {
		return fmt.Errorf("checkpoint of the %s stream has an empty window [%s, %s)", c.Stream,
			c.WindowStart.UTC().Format(time.RFC3339), c.WindowEnd.UTC().Format(time.RFC3339))
	}
	if c.RunID == "" || c.BatchID == "" {
		return fmt.Errorf("checkpoint of the %s stream has no run or batch ID", c.Stream)
	}
	return nil
}

// Run is one row of the run log (table ccsync_runs). A run appends a row when it starts (Outcome
// "running") and one when it ends; the latest row of a RunID is the run's state. Zero times and
// empty Args/Error are stored as NULL.
type Run struct {
	// Source is the source (platform) the run extracted from.
	Source               string
	RunID, Verb, Args    string
	RangeStart, RangeEnd time.Time
	StartedAt, EndedAt   time.Time
	Outcome, Error       string
	Windows, WindowsSkipped, Pages, Requests, Retries, Throttled, Transactions, BytesLoaded,
	UnknownFields, InvalidTransactions, Quarantined int64
	// PIIPolicy describes the PII policy the run applied (schemas.Policy.String); "" for none
	// recorded (everything kept).
	PIIPolicy string
	// RowsPerTable counts the rows loaded per table; stored as a JSON object.
	RowsPerTable map[string]int64
}

// rowsPerTableJSON checks a run-log row before it is recorded (RunID, Verb, Outcome and StartedAt
// are required) and returns its rows per table as the JSON object both warehouses store, or nil
// (NULL) when it has none.
func (r Run) rowsPerTableJSON() (any, error) {
	if r.RunID == "" || r.Source == "" || r.Verb == "" || r.Outcome == "" || r.StartedAt.IsZero() {
		return nil, errors.New("recording run: run ID, source, verb, outcome and start time are required")
	}
	if r.RowsPerTable == nil {
		return nil, nil
	}
	j, err := json.Marshal(r.RowsPerTable)
	if err != nil {
		return nil, fmt.Errorf("recording run %s: encoding rows per table: %w", r.RunID, err)
	}
	return string(j), nil
}

// Batch is the unit of loading: the rows of a set of windows, one Parquet file per data table,
// plus the checkpoints of those windows. Both sinks load the same files: DuckDB with
// read_parquet, BigQuery with load jobs.
//
// The files are plain Parquet that BigQuery's load jobs accept with list inference:
// decimal128(38, 9) is a FIXED_LEN_BYTE_ARRAY DECIMAL(38, 9) (NUMERIC), timestamp[us, UTC] an
// INT64 TIMESTAMP(MICROS, isAdjustedToUTC) (TIMESTAMP), date32 an INT32 DATE (DATE), a repeated
// column a three-level LIST (REPEATED); non-null columns are REQUIRED. Compression is Snappy and
// the Arrow schema is stored under the "ARROW:schema" key (WriterProperties). Every Write appends one or more row
// groups, so memory stays bounded by the largest record, not by the batch.
//
// A Batch is safe for concurrent use. A failed Write leaves the batch unusable: Close then
// reports the failure and the batch must be removed, never committed.
type Batch struct {
	dir, runID, batchID string
	mem                 memory.Allocator
	// pii is the PII policy the tables' rows are written under (their dropped columns absent).
	pii schemas.Policy

	mu          sync.Mutex
	open        map[string]*tableFile // table → its open writer
	rows        map[string]int64
	checkpoints []Checkpoint
	failed      error // the first Write failure; the batch cannot be committed
	closed      bool
	closeErr    error
	files       map[string]string // after Close
	bytes       int64             // after Close
	removed     bool
	// lock holds the exclusive lock on the directory's lock file for the batch's life, so that
	// RemoveStaleBatches never removes it; the kernel releases it when the process dies.
	lock *os.File
}

// tableFile is one table's Parquet file being written.
type tableFile struct {
	path string
	f    *os.File
	buf  *bufio.Writer
	w    *pqarrow.FileWriter
}

// bufferedWriter hides bufio.Writer's lack of Close from the Parquet writer, which closes its sink
// when it implements io.Closer: the batch flushes and closes the file itself, checking errors.
type bufferedWriter struct{ w *bufio.Writer }

func (b bufferedWriter) Write(p []byte) (int, error) { return b.w.Write(p) }

// NewBatch starts an empty batch whose files live in a new directory ccsync-batch-* under dir (a
// temporary directory the caller owns; "" for the system's). The batch holds an exclusive lock on
// a lock file in it until Remove, so that RemoveStaleBatches tells it from the directory of a
// killed process. runID and batchID must be non-empty: every row written must carry them in
// _run_id and _batch_id. mem allocates the Parquet writers' buffers (nil: the default
// allocator).
func NewBatch(dir, runID, batchID string, mem memory.Allocator, opts ...BatchOption) (*Batch, error) {
	if runID == "" || batchID == "" {
		return nil, errors.New("new batch: run ID and batch ID must not be empty")
	}
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	sub, err := os.MkdirTemp(dir, batchDirPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("new batch %s: creating its directory: %w", batchID, err)
	}
	lock, err := lockBatchDir(sub)
	if err != nil {
		_ = os.RemoveAll(sub)
		return nil, fmt.Errorf("new batch %s: locking its directory: %w", batchID, err)
	}
	b := &Batch{
		dir:     sub,
		lock:    lock,
		runID:   runID,
		batchID: batchID,
		mem:     mem,
		open:    map[string]*tableFile{},
		rows:    map[string]int64{},
	}
	for _, o := range opts {
		o(b)
	}
	return b, nil
}

// ID is the batch ID: the _batch_id of its rows and the batch_id of its checkpoints.
func (b *Batch) ID() string { return b.batchID }

// BatchOption configures NewBatch.
type BatchOption func(*Batch)

// BatchPII writes the tables under a PII policy: a record's schema is its table's less the
// columns the policy drops (schemas.Policy.Table).
func BatchPII(p schemas.Policy) BatchOption { return func(b *Batch) { b.pii = p } }

// RunID is the ID of the run the batch belongs to.
func (b *Batch) RunID() string { return b.runID }

// Write appends rec's rows to the Parquet file of table, a data table of package schemas, as one
// or more row groups. rec's schema must equal the table's schemas ArrowSchema (field metadata
// included), and every row's _run_id and _batch_id must be the batch's: a row stamped with
// another batch would never be current. A record with no rows writes nothing. The caller keeps
// its reference to rec.
func (b *Batch) Write(table string, rec arrow.Record) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return fmt.Errorf("writing %s to batch %s: the batch is closed", table, b.batchID)
	case b.failed != nil:
		return fmt.Errorf("writing %s to batch %s: an earlier write failed: %w", table, b.batchID, b.failed)
	}
	t, ok := schemas.ByName(table)
	if !ok || (t.Kind != schemas.Data && t.Kind != schemas.Quarantine) {
		return fmt.Errorf("writing %s to batch %s: not a table loaded in batches", table, b.batchID)
	}
	t = b.pii.Table(t)
	schema := t.ArrowSchema()
	if !rec.Schema().Equal(schema) {
		return fmt.Errorf("writing %s to batch %s: record schema differs from the table's: %s", table, b.batchID, schemaDiff(rec.Schema(), schema))
	}
	if rec.NumRows() == 0 {
		return nil
	}
	if err := b.checkStamps(t, rec); err != nil {
		return fmt.Errorf("writing %s to batch %s: %w", table, b.batchID, err)
	}
	tf, err := b.fileFor(table, schema)
	if err != nil {
		b.failed = err
		return fmt.Errorf("writing %s to batch %s: %w", table, b.batchID, err)
	}
	if err := tf.w.Write(rec); err != nil {
		b.failed = err
		return fmt.Errorf("writing %s to batch %s: encoding Parquet: %w", table, b.batchID, err)
	}
	b.rows[table] += rec.NumRows()
	return nil
}

// checkStamps verifies that every row carries the batch's _run_id and _batch_id.
func (b *Batch) checkStamps(t schemas.Table, rec arrow.Record) error {
	for _, s := range []struct{ col, want string }{{schemas.ColRunID, b.runID}, {schemas.ColBatchID, b.batchID}} {
		col, ok := rec.Column(t.ColumnIndex(s.col)).(*array.String)
		if !ok {
			return fmt.Errorf("column %s is not a string column", s.col)
		}
		for i := 0; i < col.Len(); i++ {
			if col.IsNull(i) || col.Value(i) != s.want {
				return fmt.Errorf("row %d: %s is not the batch's %q", i, s.col, s.want)
			}
		}
	}
	return nil
}

// fileFor returns table's open file, creating it on first use.
func (b *Batch) fileFor(table string, schema *arrow.Schema) (*tableFile, error) {
	if tf, ok := b.open[table]; ok {
		return tf, nil
	}
	path := filepath.Join(b.dir, table+".parquet")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating Parquet file: %w", err)
	}
	buf := bufio.NewWriterSize(f, 64<<10)
	t, _ := schemas.ByName(table)
	props, arrowProps := WriterProperties(t, b.mem)
	w, err := pqarrow.NewFileWriter(schema, bufferedWriter{buf}, props, arrowProps)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("starting Parquet writer: %w", err)
	}
	tf := &tableFile{path: path, f: f, buf: buf, w: w}
	b.open[table] = tf
	return tf, nil
}

// WriterProperties are how a batch's Parquet files of table t are written, their buffers
// allocated from mem: Snappy-compressed, the Arrow schema stored, without statistics, and
// dictionary-encoded only in the version stamps, which hold one value per batch (_run_id,
// _batch_id: Write checks them) or per window (_extracted_at). The files are staging files, each read once and whole (DuckDB's
// read_parquet into its tables, BigQuery's load jobs): no reader skips pages by their statistics,
// and most columns hold a different value in almost every row (the raw JSON, ids, amounts,
// timestamps, names), where a dictionary costs a hash and an allocation per value before the
// writer falls back to plain encoding. Without them the files are written in about 30% less time
// and are about 15% larger.
func WriterProperties(t schemas.Table, mem memory.Allocator) (*parquet.WriterProperties, pqarrow.ArrowWriterProperties) {
	opts := []parquet.WriterProperty{
		parquet.WithAllocator(mem),
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithDictionaryDefault(false),
		parquet.WithStats(false),
	}
	for _, c := range t.Columns {
		switch c.Derived {
		case schemas.RunID, schemas.BatchID, schemas.ExtractedAt:
			opts = append(opts, parquet.WithDictionaryFor(c.Name, true))
		}
	}
	return parquet.NewWriterProperties(opts...), pqarrow.NewArrowWriterProperties(
		pqarrow.WithAllocator(mem),
		pqarrow.WithStoreSchema(),
	)
}

// finish writes the file's footer and closes it.
func (tf *tableFile) finish() error {
	err := tf.w.Close()
	if err == nil {
		err = tf.buf.Flush()
	}
	if cerr := tf.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// AddCheckpoint records that the batch holds every row of a window. Its RunID and BatchID are set
// to the batch's and its times converted to UTC.
func (b *Batch) AddCheckpoint(c Checkpoint) {
	c.RunID, c.BatchID = b.runID, b.batchID
	c.WindowStart, c.WindowEnd = c.WindowStart.UTC(), c.WindowEnd.UTC()
	if !c.CommittedAt.IsZero() {
		c.CommittedAt = c.CommittedAt.UTC()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.checkpoints = append(b.checkpoints, c)
}

// Checkpoints returns the batch's checkpoints, in the order they were added.
func (b *Batch) Checkpoints() []Checkpoint {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Checkpoint(nil), b.checkpoints...)
}

// Rows returns the number of rows written per table; tables with no rows are absent.
func (b *Batch) Rows() map[string]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]int64, len(b.rows))
	for t, n := range b.rows {
		out[t] = n
	}
	return out
}

// Windows returns the number of checkpoints (windows) in the batch.
func (b *Batch) Windows() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.checkpoints)
}

// Close finishes every Parquet file. It is idempotent: later calls return the first call's
// result. A batch whose Write failed reports that failure here.
func (b *Batch) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closeLocked()
}

func (b *Batch) closeLocked() error {
	if b.closed {
		return b.closeErr
	}
	b.closed = true
	b.files = map[string]string{}
	var errs []error
	if b.failed != nil {
		errs = append(errs, fmt.Errorf("an earlier write failed: %w", b.failed))
	}
	tables := make([]string, 0, len(b.open))
	for t := range b.open {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		tf := b.open[t]
		if err := tf.finish(); err != nil {
			errs = append(errs, fmt.Errorf("finishing the Parquet file of %s: %w", t, err))
			continue
		}
		fi, err := os.Stat(tf.path)
		if err != nil {
			errs = append(errs, fmt.Errorf("finishing the Parquet file of %s: %w", t, err))
			continue
		}
		b.files[t] = tf.path
		b.bytes += fi.Size()
	}
	b.open = nil
	if len(errs) > 0 {
		b.closeErr = fmt.Errorf("closing batch %s: %w", b.batchID, errors.Join(errs...))
	}
	return b.closeErr
}

// Files returns each table's Parquet file, after Close; tables with no rows have no file. Before
// Close, and after Remove, it returns an empty map.
func (b *Batch) Files() map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]string{}
	if b.removed {
		return out
	}
	for t, p := range b.files {
		out[t] = p
	}
	return out
}

// Bytes returns the total size of the Parquet files, after Close.
func (b *Batch) Bytes() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.removed {
		return 0
	}
	return b.bytes
}

// Remove closes the batch if needed, deletes its files and directory, and releases the
// directory's lock. It is idempotent.
func (b *Batch) Remove() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	_ = b.closeLocked() // releases the writers' memory; the files are going anyway
	b.removed = true
	err := os.RemoveAll(b.dir)
	if b.lock != nil {
		// Released once the directory is gone (or could not be: a later run removes it then).
		_ = b.lock.Close()
		b.lock = nil
	}
	if err != nil {
		return fmt.Errorf("removing batch %s: %w", b.batchID, err)
	}
	return nil
}

// schemaDiff describes the first difference between two schemas, by field name and type only.
func schemaDiff(got, want *arrow.Schema) string {
	if got.NumFields() != want.NumFields() {
		return fmt.Sprintf("%d fields, want %d", got.NumFields(), want.NumFields())
	}
	for i := 0; i < want.NumFields(); i++ {
		g, w := got.Field(i), want.Field(i)
		switch {
		case g.Name != w.Name:
			return fmt.Sprintf("field %d is %s, want %s", i, g.Name, w.Name)
		case !arrow.TypeEqual(g.Type, w.Type):
			return fmt.Sprintf("field %s is %s, want %s", w.Name, g.Type, w.Type)
		case g.Nullable != w.Nullable:
			return fmt.Sprintf("field %s nullable=%t, want %t", w.Name, g.Nullable, w.Nullable)
		case !g.Metadata.Equal(w.Metadata):
			return fmt.Sprintf("field %s has other metadata", w.Name)
		}
	}
	return "schema metadata differs"
}

// committable closes the batch and returns what a sink commits: each table's file, its rows and
// the batch's checkpoints, validated, with CommittedAt set to now where it is zero. It refuses a
// batch whose rows have no file (removed?) and one with rows but no checkpoint (its rows would
// never be current). No checkpoints (and so no rows) means there is nothing to commit.
func (b *Batch) committable(now time.Time) (files map[string]string, rows map[string]int64, cps []Checkpoint, err error) {
	if err := b.Close(); err != nil {
		return nil, nil, nil, fmt.Errorf("committing: %w", err)
	}
	files, rows, cps = b.Files(), b.Rows(), b.Checkpoints()
	for t, n := range rows {
		if _, ok := files[t]; !ok {
			return nil, nil, nil, fmt.Errorf("committing batch %s: loading %s: the batch wrote %d rows but has no file (removed?)", b.ID(), t, n)
		}
	}
	if len(files) > 0 && len(cps) == 0 {
		return nil, nil, nil, fmt.Errorf("committing batch %s: it has rows but no checkpoint: its rows would never be current", b.ID())
	}
	for i := range cps {
		if err := cps[i].validate(); err != nil {
			return nil, nil, nil, fmt.Errorf("committing batch %s: %w", b.ID(), err)
		}
		if cps[i].CommittedAt.IsZero() {
			cps[i].CommittedAt = now.UTC()
		}
	}
	return files, rows, cps, nil
}
