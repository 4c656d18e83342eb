package schemas

import "fmt"

// CurrentViewSQL is the query behind a data table's `<name>_current` view: exactly the newest
// committed version of each transaction and that same version's child rows. The SQL is the same in
// DuckDB and BigQuery; ref names a table or view in the dialect (DuckDB: a quoted name; BigQuery:
// `project.dataset.name`).
//
// A version is committed when its _batch_id appears in the checkpoints: in DuckDB rows and
// checkpoints commit in one transaction, in BigQuery a batch's load jobs land table by table and
// the checkpoint comes last, so a half-loaded batch is never current. The newest version is the one
// extracted last (_extracted_at, then _run_id to break ties between concurrent shards); a child row
// belongs to the version with the same (_run_id, _extracted_at), which a run makes unique per
// transaction.
func CurrentViewSQL(t Table, ref func(name string) string) string {
	if t.Kind != Data {
		panic("schemas: " + t.Name + " has no current view")
	}
	if t.Parent == "" {
		return fmt.Sprintf(`SELECT t.*
FROM %s AS t
WHERE t.%s IN (SELECT batch_id FROM %s)
QUALIFY ROW_NUMBER() OVER (PARTITION BY t.id ORDER BY t.%s DESC, t.%s DESC) = 1`,
			ref(t.Name), ColBatchID, ref(Checkpoints), ColExtractedAt, ColRunID)
	}
	return fmt.Sprintf(`SELECT c.*
FROM %s AS c
JOIN %s AS t ON c.%s = t.id AND c.%s = t.%s AND c.%s = t.%s`,
		ref(t.Name), ref(t.Parent+"_current"), t.ParentKey, ColRunID, ColRunID, ColExtractedAt, ColExtractedAt)
}

// SourceSQL reads the source column (named by col, quoted for the dialect) of a bookkeeping
// table: a row written before ccsync had sources has NULL there and is LegacySource's.
func SourceSQL(col string) string { return "COALESCE(" + col + ", '" + LegacySource + "')" }

// QuarantinedCountSQL counts the quarantined items of committed batches (a batch that failed
// before its checkpoints were recorded left rows that do not count), in either dialect; ref
// names a table.
func QuarantinedCountSQL(ref func(name string) string) string {
	return fmt.Sprintf("SELECT count(*) AS n FROM %s WHERE %s IN (SELECT batch_id FROM %s)",
		ref(QuarantineTable), ColBatchID, ref(Checkpoints))
}
