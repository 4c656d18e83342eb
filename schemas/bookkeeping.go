package schemas

// The tables every source shares: the quarantine, and ccsync's bookkeeping (checkpoints, run log).

// Mapping says where one leaf of a source's record lives in the warehouse. JSONPath is relative
// to the record (the transaction object), with "[]" standing for every element of an array
// ("purchased_items.apparel.items[].price"); a leaf that is a list of scalars ends in "[]" and
// lives in a repeated column. Mappings are not declared: they follow from the tables' row
// sources (Flattening.PathMap).
type Mapping struct {
	JSONPath string
	Table    string
	Column   string
}

// RawBytesBase64 keeps the original bytes of a raw JSON column that is not valid UTF-8.
var RawBytesBase64 = Column{Name: "raw_bytes_base64", Type: String, PII: true, Derived: RawJSONBase64, Description: "Only when the API's bytes were not valid UTF-8: the original bytes, base64-encoded (from_base64 in DuckDB, FROM_BASE64 in BigQuery); raw then holds them with each invalid byte sequence replaced by U+FFFD. NULL when raw is the original."}

// quarantineTable holds the items of API pages that could not be kept as versions.
func quarantineTable() Table {
	return Table{
		Name: QuarantineTable, Kind: Quarantine,
		Description: "Items the API sent that are not records ccsync can version (no readable id), kept whole with the window, page and position they came in and why; their window is committed without them.",
		Cluster:     []string{"stream", "window_start"},
		Columns: append([]Column{
			{Name: "stream", Type: String, Required: true, Derived: QuarantineStream, Description: "The stream of the window the item came in (CrowdChange: date or payout)."},
			{Name: "payout_account", Type: String, Derived: QuarantineAccount, Description: "For a stream kept per account (CrowdChange's payout stream): the account, global or user."},
			{Name: "window_start", Type: Timestamp, Required: true, Derived: QuarantineWindowStart, Description: "Start of the window (inclusive, UTC)."},
			{Name: "window_end", Type: Timestamp, Required: true, Derived: QuarantineWindowEnd, Description: "End of the window (exclusive, UTC)."},
			{Name: "page", Type: Int64, Required: true, Derived: QuarantinePage, Description: "The page (from 1) the item was on."},
			{Name: "position", Type: Int64, Required: true, Derived: QuarantinePosition, Description: "The item's position on its page, from 0."},
			{Name: "reason", Type: String, Required: true, Derived: QuarantineReason, Description: "Why the item was quarantined."},
			{Name: "raw", Type: String, Required: true, PII: true, Derived: RawJSON, Description: "The item exactly as the API sent it (invalid UTF-8 replaced, see raw_bytes_base64)."},
			RawBytesBase64,
		}, VersionColumns("an item")...),
	}
}

// VersionColumns are the version stamps every row of a data table (and of the quarantine)
// carries, last: the run, the batch and when it was extracted. record names what is versioned
// ("a transaction", "a record") in the descriptions.
func VersionColumns(record string) []Column {
	return []Column{
		{Name: ColRunID, Type: String, Required: true, Derived: RunID, Description: "The run that extracted this version."},
		{Name: ColBatchID, Type: String, Required: true, Derived: BatchID, Description: "The load batch this version was committed in; current views only consider batches found in ccsync_checkpoints."},
		{Name: ColExtractedAt, Type: Timestamp, Required: true, Derived: ExtractedAt, Description: "When this version was extracted from the API (UTC); the newest version of " + record + " is current."},
	}
}

func checkpointsTable() Table {
	return Table{
		Name: Checkpoints, Kind: Bookkeeping,
		Description: "Committed windows, append-only: one row per window per commit. A stream's watermark is the end of its contiguous committed prefix.",
		Partition:   "",
		Cluster:     []string{"stream"},
		Columns: []Column{
			{Name: "stream", Type: String, Required: true, Description: "date or payout."},
			{Name: "payout_account", Type: String, Description: "For the payout stream: global or user."},
			{Name: "window_start", Type: Timestamp, Required: true, Description: "Start of the window (inclusive, UTC)."},
			{Name: "window_end", Type: Timestamp, Required: true, Description: "End of the window (exclusive, UTC)."},
			{Name: "run_id", Type: String, Required: true, Description: "The run that committed the window."},
			{Name: "batch_id", Type: String, Required: true, Description: "The batch the window's rows were loaded in (_batch_id of the data tables)."},
			{Name: "committed_at", Type: Timestamp, Required: true, Description: "When the window was committed (UTC)."},
			{Name: "transactions", Type: Int64, Required: true, Description: "Transactions extracted in the window."},
			{Name: "pages", Type: Int64, Required: true, Description: "API pages read for the window."},
			sourceColumn,
		},
	}
}

// sourceColumn names the source of a bookkeeping row. It is nullable because it was added to
// warehouses that already had rows: NULL means LegacySource.
var sourceColumn = Column{Name: "source", Type: String, Description: "The source (platform) the row belongs to: crowdchange, donately, ...; NULL on rows written before ccsync had sources, which are crowdchange's."}

func runsTable() Table {
	return Table{
		Name: Runs, Kind: Bookkeeping,
		Description: "The run log, append-only: one row when a run starts (outcome 'running') and one when it ends; the latest row of a run_id is its state.",
		Cluster:     []string{"run_id"},
		Columns: []Column{
			{Name: "run_id", Type: String, Required: true, Description: "Run ID."},
			{Name: "verb", Type: String, Required: true, Description: "backfill, sync, ..."},
			{Name: "args", Type: String, Description: "The run's arguments, secrets removed."},
			{Name: "range_start", Type: Timestamp, Description: "Start of the range the run covered."},
			{Name: "range_end", Type: Timestamp, Description: "End of the range the run covered (exclusive)."},
			{Name: "started_at", Type: Timestamp, Required: true, Description: "Start (UTC)."},
			{Name: "ended_at", Type: Timestamp, Description: "End (UTC); null while running."},
			{Name: "outcome", Type: String, Required: true, Description: "running, done or failed."},
			{Name: "error", Type: String, Description: "Why the run failed."},
			{Name: "windows", Type: Int64, Description: "Windows committed."},
			{Name: "windows_skipped", Type: Int64, Description: "Windows skipped because already committed."},
			{Name: "pages", Type: Int64, Description: "API pages read."},
			{Name: "requests", Type: Int64, Description: "API requests made, retries included."},
			{Name: "retries", Type: Int64, Description: "API requests retried."},
			{Name: "throttled", Type: Int64, Description: "API answers 429 Too Many Requests."},
			{Name: "transactions", Type: Int64, Description: "Transaction versions loaded."},
			{Name: "rows_per_table", Type: String, Description: "Rows loaded per table, as a JSON object."},
			{Name: "bytes_loaded", Type: Int64, Description: "Bytes of Parquet loaded."},
			{Name: "unknown_fields", Type: Int64, Description: "Leaves the model does not know, counted over all transactions."},
			{Name: "invalid_transactions", Type: Int64, Description: "Transactions the typed model could not fully decode (kept in raw_transactions)."},
			{Name: "quarantined", Type: Int64, Description: "Items kept in the quarantine table (no readable id)."},
			{Name: "pii_policy", Type: String, Description: "The PII policy the run applied (default treatment, per-column overrides, whether a key was set; never the key). NULL before ccsync had a PII policy: everything was kept."},
			sourceColumn,
		},
	}
}
