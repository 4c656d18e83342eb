// Package load puts transform's Arrow records into a warehouse and keeps ccsync's bookkeeping:
// the checkpoints of committed windows and the run log.
//
// # Batches
//
// A Batch is the unit of loading: the rows of a set of windows, written as one Parquet file per
// data table (tables without rows have no file), plus one Checkpoint per window. Every row of a
// batch carries the batch's _run_id and _batch_id (Write checks it). The same files serve both
// warehouses: DuckDB reads them with read_parquet, BigQuery loads them with load jobs, so their
// encoding is chosen for BigQuery: decimal128(38, 9) → DECIMAL(38, 9) (NUMERIC), timestamp[us,
// UTC] → TIMESTAMP(MICROS, UTC) (TIMESTAMP), date32 → DATE, repeated columns → three-level LIST
// (REPEATED, with list inference). A batch is built, closed, committed, then removed:
//
//	b, err := load.NewBatch(tmp, runID, batchID, mem)
//	err = b.Write(schemas.Transactions, rec) // as many times as needed, any table
//	b.AddCheckpoint(load.Checkpoint{Stream: load.StreamDate, WindowStart: s, WindowEnd: e})
//	err = sink.Commit(ctx, b)
//	err = b.Remove()
//
// # The DuckDB sink
//
// DuckDB is the embedded warehouse (a single file). OpenDuckDB creates the tables of package
// schemas, evolves existing ones additively (a new column is added as nullable; a column whose type
// changed is refused) and (re)creates the `*_current` views. Every connection uses the UTC time
// zone.
//
// # Atomicity
//
// DuckDB.Commit loads every file of a batch and inserts its checkpoints in one transaction: after a
// failure, or a crash (DuckDB's write-ahead log only ever holds committed transactions), the
// warehouse holds either the whole batch with its checkpoints or nothing of it, and the next run
// re-reads the windows that were not committed. Committing a batch that is already committed is a
// no-op.
//
// # Versions and the current views
//
// The warehouse is append-only: every extraction of a transaction is a new version stamped with
// _run_id, _batch_id and _extracted_at. The view `<table>_current` (schemas.CurrentViewSQL) keeps
// the newest version of each transaction whose batch has a checkpoint, and the child rows of
// exactly that version. Rows whose batch has no checkpoint (a half-loaded BigQuery batch) are
// never current.
//
// # Checkpoints and watermarks
//
// A Checkpoint says that every row of one window [WindowStart, WindowEnd) of a stream ("date", or
// "payout" with its payout account) is in the warehouse. Checkpoints are append-only; a window may
// be committed again (the nightly lookback) and windows may differ in size. Watermark computes a
// stream's watermark, the end of its contiguous committed prefix; Covered tells a backfill whether
// a window is already committed, whatever the window sizes of earlier runs.
//
// # The run log
//
// RecordRun appends a row to ccsync_runs when a run starts and when it ends; Runs returns the latest
// row of each run.
package load
