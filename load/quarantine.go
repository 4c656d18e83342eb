package load

import (
	"context"
	"fmt"

	"cloud.google.com/go/bigquery"

	"github.com/ccsync/ccsync/schemas"
)

// Quarantined counts the items kept in the quarantine table by committed batches.
func (d *DuckDB) Quarantined(ctx context.Context) (int64, error) {
	var n int64
	if err := d.db.QueryRowContext(ctx, schemas.QuarantinedCountSQL(schemas.QuoteIdent)).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting quarantined items: %w", err)
	}
	return n, nil
}

// Quarantined counts the items kept in the quarantine table by committed batches.
func (q *BigQuery) Quarantined(ctx context.Context) (int64, error) {
	var n int64
	err := q.query(ctx, schemas.QuarantinedCountSQL(q.ref), func(it *bigquery.RowIterator) error {
		var r struct {
			N int64 `bigquery:"n"`
		}
		if err := it.Next(&r); err != nil {
			return err
		}
		n = r.N
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("counting quarantined items: %w", err)
	}
	return n, nil
}
