package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/bigquery"
	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/sirupsen/logrus"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/iterator"

	"github.com/ccsync/ccsync/schemas"
)

// Commit loads a batch: one load job per table with rows (up to four at a time), each appending
// the table's Parquet file atomically, then, only once every one of them is DONE without error,
// one load job appending the batch's checkpoints to ccsync_checkpoints (CommittedAt set to now
// when zero). Until that last job is done the batch's rows are in the tables but in no
// `*_current` view, which only consider batches found in the checkpoints; a failed Commit leaves
// the warehouse as it was as far as the views can tell, and the next run re-reads the windows.
//
// Job IDs are derived from the run, the batch, the table and the attempt: an insert retried
// after a lost answer finds its job (409) instead of appending twice, and committing the same
// batch again finds the jobs of the first Commit, so it appends nothing twice either. A job that
// failed transiently (backendError, rate limits) is replaced by a job with the next attempt
// number; a permanent failure is returned as a *JobError naming the table and the job.
//
// With a staging bucket (config.BigQuery.StagingBucket), each table's file is first uploaded to
// gs://<bucket>/ccsync/<batch>/<table>.parquet (replacing the object of an earlier attempt;
// transient failures retried with backoff), and its load job reads it from there; everything
// else is the same. Once the checkpoints are loaded the staged files are deleted, on a best-effort
// basis (a failure is logged, never returned); a failed Commit leaves them (logged) for committing
// the batch again to overwrite, or for a lifecycle rule.
//
// Commit closes the batch first; it does not remove its files. A batch with rows must have at
// least one checkpoint.
func (q *BigQuery) Commit(ctx context.Context, b *Batch) error {
	start := q.now()
	files, rows, cps, err := b.committable(q.now())
	if err != nil {
		return err
	}
	if len(cps) == 0 {
		return nil
	}
	cpData, err := q.encodeRows(schemas.Checkpoints, checkpointRows(cps))
	if err != nil {
		return fmt.Errorf("committing batch %s: encoding checkpoints: %w", b.ID(), err)
	}

	base := jobIDBase(b.RunID(), b.ID())
	var specs []loadSpec
	paths := map[string]string{}
	for _, t := range schemas.LoadTables() {
		path, ok := files[t.Name]
		if !ok {
			continue
		}
		fi, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("committing batch %s: loading %s: %w", b.ID(), t.Name, err)
		}
		specs = append(specs, loadSpec{
			table: t.Name, base: base, what: t.Name, schema: q.loadSchemas[t.Name],
			open: func() (io.ReadCloser, error) { return os.Open(path) },
			rows: rows[t.Name], bytes: fi.Size(),
		})
		paths[t.Name] = path
	}
	for t := range files {
		if _, ok := q.loadSchemas[t]; !ok {
			return fmt.Errorf("committing batch %s: loading %s: not a table of the warehouse", b.ID(), t)
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(loadConcurrency)
	var mu sync.Mutex
	jobs := 0
	var staged []string // the staged files' names, once their upload is started
	for _, spec := range specs {
		g.Go(func() error {
			if q.staging != nil {
				name := stagedObjectName(base, spec.table)
				mu.Lock()
				staged = append(staged, name)
				mu.Unlock()
				if err := q.stage(gctx, spec.table, paths[spec.table], name); err != nil {
					return err
				}
				spec.uri = q.staging.uri(name)
			}
			res, err := q.load(gctx, spec)
			if err != nil {
				return err
			}
			mu.Lock()
			jobs += res.attempts
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if q.staging != nil {
			q.keepStaged(b.ID(), base, staged)
		}
		return fmt.Errorf("committing batch %s: %w", b.ID(), err)
	}

	// Last: the checkpoints, which make the batch's rows current.
	res, err := q.load(ctx, loadSpec{
		table: schemas.Checkpoints, base: base, what: "checkpoints", schema: q.loadSchemas[schemas.Checkpoints],
		open: bytesOpener(cpData), rows: int64(len(cps)), bytes: int64(len(cpData)),
	})
	if err != nil {
		if q.staging != nil {
			q.keepStaged(b.ID(), base, staged)
		}
		return fmt.Errorf("committing batch %s: recording its checkpoints (its rows stay invisible to the current views): %w", b.ID(), err)
	}
	jobs += res.attempts

	fields := logrus.Fields{"batch": b.ID(), "run": b.RunID(), "windows": len(cps), "bytes": b.Bytes(), "jobs": jobs}
	if q.staging != nil {
		slices.Sort(staged)
		fields["staged_files_deleted"] = q.unstage(ctx, b.ID(), staged)
	}
	fields["duration"] = q.now().Sub(start).Round(time.Millisecond)
	for t, n := range rows {
		fields["rows_"+t] = n
	}
	q.log.WithFields(fields).Debug("batch committed")
	return nil
}

func bytesOpener(data []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
}

// checkpointRows are the rows of ccsync_checkpoints for cps.
func checkpointRows(cps []Checkpoint) []map[string]any {
	out := make([]map[string]any, len(cps))
	for i, c := range cps {
		out[i] = map[string]any{
			"source": c.Source, "stream": c.Stream, "payout_account": nullString(c.PayoutAccount),
			"window_start": c.WindowStart.UTC(), "window_end": c.WindowEnd.UTC(),
			"run_id": c.RunID, "batch_id": c.BatchID, "committed_at": c.CommittedAt.UTC(),
			"transactions": c.Transactions, "pages": c.Pages,
		}
	}
	return out
}

// encodeRows writes rows of a bookkeeping table (column name → value: nil, string, int64,
// time.Time; absent columns are NULL) as a Parquet file encoded like a Batch's.
func (q *BigQuery) encodeRows(table string, rows []map[string]any) ([]byte, error) {
	t, ok := schemas.ByName(table)
	if !ok {
		return nil, fmt.Errorf("no table %s", table)
	}
	schema := t.ArrowSchema()
	rb := array.NewRecordBuilder(q.mem, schema)
	defer rb.Release()
	for _, row := range rows {
		for i, c := range t.Columns {
			if err := appendValue(rb.Field(i), c, row[c.Name]); err != nil {
				return nil, fmt.Errorf("%s.%s: %w", table, c.Name, err)
			}
		}
	}
	rec := rb.NewRecord()
	defer rec.Release()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(schema, &buf,
		parquet.NewWriterProperties(parquet.WithAllocator(q.mem), parquet.WithCompression(compress.Codecs.Snappy)),
		pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(q.mem), pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, fmt.Errorf("starting Parquet writer: %w", err)
	}
	if err := w.Write(rec); err != nil {
		w.Close()
		return nil, fmt.Errorf("encoding Parquet: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("finishing Parquet: %w", err)
	}
	return buf.Bytes(), nil
}

// appendValue appends one bookkeeping value of column c to its builder.
func appendValue(fb array.Builder, c schemas.Column, v any) error {
	if v == nil {
		switch {
		case c.Repeated:
			fb.(*array.ListBuilder).Append(true) // repeated columns are never null: an empty list
		case c.Required:
			return errors.New("a required column has no value")
		default:
			fb.AppendNull()
		}
		return nil
	}
	switch b := fb.(type) {
	case *array.StringBuilder:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("want a string, have %T", v)
		}
		b.Append(s)
	case *array.Int64Builder:
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("want an int64, have %T", v)
		}
		b.Append(n)
	case *array.TimestampBuilder:
		ts, ok := v.(time.Time)
		if !ok {
			return fmt.Errorf("want a time, have %T", v)
		}
		b.Append(arrow.Timestamp(ts.UnixMicro()))
	default:
		return fmt.Errorf("unsupported column builder %T", fb)
	}
	return nil
}

// Checkpoints returns every committed window of every source, ordered by source, stream, payout
// account, window start, window end and commit time; a caller keeps its source's (OfSource).
func (q *BigQuery) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	sql := "SELECT " + schemas.SourceSQL("`source`") + " AS `source`, `stream`, `payout_account`, `window_start`, `window_end`, `run_id`, `batch_id`, `committed_at`, `transactions`, `pages`\nFROM " +
		q.ref(schemas.Checkpoints) + "\nORDER BY `source`, `stream`, `payout_account` NULLS FIRST, `window_start`, `window_end`, `committed_at`"
	var out []Checkpoint
	err := q.query(ctx, sql, func(it *bigquery.RowIterator) error {
		var r struct {
			Source        string              `bigquery:"source"`
			Stream        string              `bigquery:"stream"`
			PayoutAccount bigquery.NullString `bigquery:"payout_account"`
			WindowStart   time.Time           `bigquery:"window_start"`
			WindowEnd     time.Time           `bigquery:"window_end"`
			RunID         string              `bigquery:"run_id"`
			BatchID       string              `bigquery:"batch_id"`
			CommittedAt   time.Time           `bigquery:"committed_at"`
			Transactions  int64               `bigquery:"transactions"`
			Pages         int64               `bigquery:"pages"`
		}
		if err := it.Next(&r); err != nil {
			return err
		}
		out = append(out, Checkpoint{
			Source: r.Source, Stream: r.Stream, PayoutAccount: r.PayoutAccount.StringVal,
			WindowStart: r.WindowStart.UTC(), WindowEnd: r.WindowEnd.UTC(),
			RunID: r.RunID, BatchID: r.BatchID, CommittedAt: r.CommittedAt.UTC(),
			Transactions: r.Transactions, Pages: r.Pages,
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	return out, nil
}

// query runs a query and calls next until it returns iterator.Done.
func (q *BigQuery) query(ctx context.Context, sql string, next func(*bigquery.RowIterator) error) error {
	qu := q.client.Query(sql)
	qu.Location = q.location
	it, err := qu.Read(ctx)
	if err != nil {
		return err
	}
	for {
		err := next(it)
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// runColumnNames are the columns of ccsync_runs that RecordRun and Runs use.
var runColumnNames = strings.Fields(strings.ReplaceAll(runColumns, ",", " "))

// RecordRun appends a row to the run log by a load job whose ID is derived from the run ID, the
// outcome and how many rows of that run and outcome this sink recorded before: a retried
// RecordRun never appends twice. RunID, Verb, Outcome and StartedAt are required.
func (q *BigQuery) RecordRun(ctx context.Context, r Run) error {
	perTable, err := r.rowsPerTableJSON()
	if err != nil {
		return err
	}
	row := map[string]any{
		"run_id": r.RunID, "verb": r.Verb, "args": nullString(r.Args),
		"range_start": nullTime(r.RangeStart), "range_end": nullTime(r.RangeEnd),
		"started_at": r.StartedAt.UTC(), "ended_at": nullTime(r.EndedAt),
		"outcome": r.Outcome, "error": nullString(r.Error),
		"windows": r.Windows, "windows_skipped": r.WindowsSkipped, "pages": r.Pages, "requests": r.Requests,
		"retries": r.Retries, "throttled": r.Throttled, "transactions": r.Transactions,
		"rows_per_table": perTable, "bytes_loaded": r.BytesLoaded,
		"unknown_fields": r.UnknownFields, "invalid_transactions": r.InvalidTransactions,
		"quarantined": r.Quarantined, "pii_policy": nullString(r.PIIPolicy), "source": r.Source,
	}
	data, err := q.encodeRows(schemas.Runs, []map[string]any{row})
	if err != nil {
		return fmt.Errorf("recording run %s: %w", r.RunID, err)
	}
	key := r.RunID + "\x00" + r.Outcome
	q.mu.Lock()
	seq := q.runSeq[key] + 1
	q.mu.Unlock()
	_, err = q.load(ctx, loadSpec{
		table: schemas.Runs, base: "ccsync-run-" + sanitizeJobPart(r.RunID), what: fmt.Sprintf("%s-%d", r.Outcome, seq),
		schema: q.loadSchemas[schemas.Runs], open: bytesOpener(data), rows: 1, bytes: int64(len(data)),
	})
	if err != nil {
		return fmt.Errorf("recording run %s: %w", r.RunID, err)
	}
	q.mu.Lock()
	if q.runSeq[key] < seq {
		q.runSeq[key] = seq
	}
	q.mu.Unlock()
	return nil
}

// Runs returns the latest state of each run, newest run first (by start time); limit <= 0
// returns every run. A run's state is its ending row (outcome other than "running") when it has
// one, else its starting row; among several, the one that ended (or started) last.
func (q *BigQuery) Runs(ctx context.Context, limit int) ([]Run, error) {
	cols := make([]string, len(runColumnNames))
	for i, c := range runColumnNames {
		cols[i] = "`" + c + "`"
		if c == "source" {
			cols[i] = schemas.SourceSQL("`source`") + " AS `source`"
		}
	}
	sql := "SELECT " + strings.Join(cols, ", ") + "\nFROM " + q.ref(schemas.Runs) + `
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY ` + "`run_id`" + ` ORDER BY CASE WHEN ` + "`outcome`" + ` = 'running' THEN 0 ELSE 1 END DESC, COALESCE(` + "`ended_at`, `started_at`" + `) DESC) = 1
ORDER BY ` + "`started_at`" + ` DESC, ` + "`run_id`" + ` DESC`
	if limit > 0 {
		sql += fmt.Sprintf("\nLIMIT %d", limit)
	}
	var out []Run
	err := q.query(ctx, sql, func(it *bigquery.RowIterator) error {
		var r struct {
			RunID               string                 `bigquery:"run_id"`
			Verb                string                 `bigquery:"verb"`
			Args                bigquery.NullString    `bigquery:"args"`
			RangeStart          bigquery.NullTimestamp `bigquery:"range_start"`
			RangeEnd            bigquery.NullTimestamp `bigquery:"range_end"`
			StartedAt           time.Time              `bigquery:"started_at"`
			EndedAt             bigquery.NullTimestamp `bigquery:"ended_at"`
			Outcome             string                 `bigquery:"outcome"`
			Error               bigquery.NullString    `bigquery:"error"`
			Windows             bigquery.NullInt64     `bigquery:"windows"`
			WindowsSkipped      bigquery.NullInt64     `bigquery:"windows_skipped"`
			Pages               bigquery.NullInt64     `bigquery:"pages"`
			Requests            bigquery.NullInt64     `bigquery:"requests"`
			Retries             bigquery.NullInt64     `bigquery:"retries"`
			Throttled           bigquery.NullInt64     `bigquery:"throttled"`
			Transactions        bigquery.NullInt64     `bigquery:"transactions"`
			RowsPerTable        bigquery.NullString    `bigquery:"rows_per_table"`
			BytesLoaded         bigquery.NullInt64     `bigquery:"bytes_loaded"`
			UnknownFields       bigquery.NullInt64     `bigquery:"unknown_fields"`
			InvalidTransactions bigquery.NullInt64     `bigquery:"invalid_transactions"`
			Quarantined         bigquery.NullInt64     `bigquery:"quarantined"`
			PIIPolicy           bigquery.NullString    `bigquery:"pii_policy"`
			Source              string                 `bigquery:"source"`
		}
		if err := it.Next(&r); err != nil {
			return err
		}
		run := Run{
			RunID: r.RunID, Verb: r.Verb, Args: r.Args.StringVal,
			RangeStart: nullTimestamp(r.RangeStart), RangeEnd: nullTimestamp(r.RangeEnd),
			StartedAt: r.StartedAt.UTC(), EndedAt: nullTimestamp(r.EndedAt),
			Outcome: r.Outcome, Error: r.Error.StringVal,
			Windows: r.Windows.Int64, WindowsSkipped: r.WindowsSkipped.Int64, Pages: r.Pages.Int64,
			Requests: r.Requests.Int64, Retries: r.Retries.Int64, Throttled: r.Throttled.Int64,
			Transactions: r.Transactions.Int64, BytesLoaded: r.BytesLoaded.Int64,
			UnknownFields: r.UnknownFields.Int64, InvalidTransactions: r.InvalidTransactions.Int64,
			Quarantined: r.Quarantined.Int64, PIIPolicy: r.PIIPolicy.StringVal, Source: r.Source,
		}
		if r.RowsPerTable.Valid {
			if err := json.Unmarshal([]byte(r.RowsPerTable.StringVal), &run.RowsPerTable); err != nil {
				return fmt.Errorf("run %s: decoding rows per table: %w", r.RunID, err)
			}
		}
		out = append(out, run)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading runs: %w", err)
	}
	return out, nil
}

func nullTimestamp(t bigquery.NullTimestamp) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Timestamp.UTC()
}
