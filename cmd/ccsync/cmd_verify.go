package main

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/bigquery"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/iterator"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/schemas"
)

// warehouseSQL is the verify verb's view of a warehouse: SQL over its tables and views, in the
// dialect's names.
type warehouseSQL interface {
	// ref names a table or view in a query.
	ref(name string) string
	// query runs a query whose columns are all strings and calls row for each row (NULL as
	// invalid), streaming.
	query(ctx context.Context, q string, row func([]sql.NullString) error) error
}

// verifyTx is what verify compares of one transaction.
type verifyTx struct {
	currency                string
	paid, donation, covered *big.Rat
	hash                    string // MD5 of the raw JSON, as the API sent it
	undated                 bool   // warehouse only: the transaction's date could not be read
}

// verifyReport is the comparison of the API with the warehouse over a range.
type verifyReport struct {
	apiCount, whCount int
	sums              map[string][2][3]*big.Rat // currency → {API, warehouse} × {total_paid, donation, covered_fees}
	missing           []int64                   // in the API, not in the warehouse
	extra             []int64                   // in the warehouse, not in the API
	changed           []int64                   // in both, but the current version differs from the API's
}

func (r verifyReport) equal() bool {
	if r.apiCount != r.whCount || len(r.missing)+len(r.extra)+len(r.changed) > 0 {
		return false
	}
	for _, s := range r.sums {
		for i := range 3 {
			if s[0][i].Cmp(s[1][i]) != 0 {
				return false
			}
		}
	}
	return true
}

// cmdVerify re-reads the API for a range of days and compares it with the *_current views:
// transaction ids, counts, money sums per currency and each transaction's JSON. It prints every
// difference and exits 5 when there is one.
func cmdVerify(ctx context.Context, inv *invocation) error {
	cfg := inv.cfg
	if err := cfg.Run.ValidateRange(); err != nil {
		return usagef(err)
	}
	from, to := cfg.Run.From, cfg.Run.RangeEnd()
	windows, err := extract.PlanDateWindows(from, to, cfg.Run.Window)
	if err != nil {
		return usagef(err)
	}
	// verify pages the API differently from backfill and sync (another page size, and until an
	// empty page whatever the pages' lengths and the count say), so that a paging bug of the
	// extraction shows up as a difference instead of being repeated.
	inv.cfg.API.PageSize = verifyPageSize(inv.cfg.API.PageSize)
	client, sink, err := inv.connect(ctx, extract.WithPaging(extract.PagingUntilEmpty))
	if err != nil {
		return err
	}
	wh, err := sqlOf(sink)
	if err != nil {
		return err
	}
	api, err := readAPI(ctx, client, windows, cfg.Run.Concurrency)
	if err != nil {
		return err
	}
	stored, err := readWarehouse(ctx, wh, from, to)
	if err != nil {
		return err
	}
	rep := compare(api, stored)
	writeVerify(inv.env.stdout, rep, from, to)
	if !rep.equal() {
		return fmt.Errorf("verify %s..%s: %w", from.Format(time.DateOnly), cfg.Run.To.Format(time.DateOnly), errDiffers)
	}
	return nil
}

// verifyPageSize is the page size verify reads with: another one than the extraction's.
func verifyPageSize(extraction int) int {
	if extraction <= 1 {
		return 2
	}
	return extraction - extraction/3
}

func readAPI(ctx context.Context, f Fetcher, windows []extract.Window, concurrency int) (map[int64]verifyTx, error) {
	out := map[int64]verifyTx{}
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for _, w := range windows {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			res, err := f.FetchWindow(ctx, w)
			if err != nil {
				return fmt.Errorf("reading %s from the API: %w", w, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, t := range res.Transactions {
				v := verifyTx{hash: md5Of(t.Raw), paid: new(big.Rat), donation: new(big.Rat), covered: new(big.Rat)}
				if a := t.Tx.Amount; a != nil {
					if a.Currency != nil {
						v.currency = *a.Currency
					}
					v.paid, v.donation, v.covered = ratOf(string(a.TotalPaid)), ratOf(string(a.Donation)), ratOf(string(a.CoveredFees))
				}
				out[t.ID] = v
			}
			return nil
		})
	}
	return out, g.Wait()
}

func readWarehouse(ctx context.Context, wh warehouseSQL, from, to time.Time) (map[int64]verifyTx, error) {
	// The raw JSON is hashed here rather than in SQL: the dialects' hash functions differ.
	// Transactions whose date could not be read are read too: the API's answer tells which of
	// them belong to the range (the others are left out of the comparison).
	q := fmt.Sprintf(`SELECT CAST(t.id AS STRING), t.amount_currency, CAST(t.amount_total_paid AS STRING), CAST(t.amount_donation AS STRING),
  CAST(t.amount_covered_fees AS STRING), r.raw, r.raw_bytes_base64, CAST(t.date IS NULL AS STRING)
FROM %s AS t
JOIN %s AS r ON r.transaction_id = t.id AND r.%s = t.%s AND r.%s = t.%s
WHERE (t.date >= TIMESTAMP '%s' AND t.date < TIMESTAMP '%s') OR t.date IS NULL`,
		wh.ref(schemas.Transactions+"_current"), wh.ref(schemas.RawTransactions+"_current"),
		schemas.ColRunID, schemas.ColRunID, schemas.ColExtractedAt, schemas.ColExtractedAt,
		from.UTC().Format("2006-01-02 15:04:05"), to.UTC().Format("2006-01-02 15:04:05"))
	out := map[int64]verifyTx{}
	err := wh.query(ctx, q, func(r []sql.NullString) error {
		id, err := strconv.ParseInt(r[0].String, 10, 64)
		if err != nil {
			return fmt.Errorf("transaction id %q: %w", r[0].String, err)
		}
		raw := []byte(r[5].String)
		if r[6].Valid { // the API's bytes were not valid UTF-8: raw holds them repaired
			if raw, err = base64.StdEncoding.DecodeString(r[6].String); err != nil {
				return fmt.Errorf("transaction %d: raw_bytes_base64: %w", id, err)
			}
		}
		out[id] = verifyTx{currency: r[1].String, paid: ratOf(r[2].String), donation: ratOf(r[3].String), covered: ratOf(r[4].String),
			hash: md5Of(raw), undated: strings.EqualFold(r[7].String, "true")}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the warehouse's current transactions: %w", err)
	}
	return out, nil
}

func compare(api, stored map[int64]verifyTx) verifyReport {
	for id, w := range stored {
		if _, ok := api[id]; !ok && w.undated {
			delete(stored, id) // not in the range's answer: it belongs to another range
		}
	}
	rep := verifyReport{apiCount: len(api), whCount: len(stored), sums: map[string][2][3]*big.Rat{}}
	add := func(side int, t verifyTx) {
		s, ok := rep.sums[t.currency]
		if !ok {
			for i := range 2 {
				for j := range 3 {
					s[i][j] = new(big.Rat)
				}
			}
		}
		s[side][0].Add(s[side][0], t.paid)
		s[side][1].Add(s[side][1], t.donation)
		s[side][2].Add(s[side][2], t.covered)
		rep.sums[t.currency] = s
	}
	for id, a := range api {
		add(0, a)
		w, ok := stored[id]
		switch {
		case !ok:
			rep.missing = append(rep.missing, id)
		case w.hash != a.hash:
			rep.changed = append(rep.changed, id)
		}
	}
	for id, w := range stored {
		add(1, w)
		if _, ok := api[id]; !ok {
			rep.extra = append(rep.extra, id)
		}
	}
	for _, ids := range [][]int64{rep.missing, rep.extra, rep.changed} {
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	}
	return rep
}

func writeVerify(w io.Writer, rep verifyReport, from, to time.Time) {
	fmt.Fprintf(w, "verify %s..%s\n", from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly))
	mark := func(eq bool) string {
		if eq {
			return "  "
		}
		return "≠ "
	}
	fmt.Fprintf(w, "%stransactions   API %d, warehouse %d\n", mark(rep.apiCount == rep.whCount), rep.apiCount, rep.whCount)
	curs := make([]string, 0, len(rep.sums))
	for c := range rep.sums {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	names := [3]string{"total_paid", "donation", "covered_fees"}
	for _, c := range curs {
		s := rep.sums[c]
		for i, n := range names {
			fmt.Fprintf(w, "%s%-4s %-13s API %s, warehouse %s\n", mark(s[0][i].Cmp(s[1][i]) == 0), c, n, s[0][i].FloatString(2), s[1][i].FloatString(2))
		}
	}
	list := func(what string, ids []int64) {
		if len(ids) == 0 {
			return
		}
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = fmt.Sprint(id)
		}
		fmt.Fprintf(w, "≠ %s (%d): %s\n", what, len(ids), strings.Join(parts, " "))
	}
	list("in the API, missing from the warehouse", rep.missing)
	list("in the warehouse, not in the API", rep.extra)
	list("changed since loaded (run sync or backfill --force)", rep.changed)
	if rep.equal() {
		fmt.Fprintln(w, "the warehouse equals the API")
	}
}

func md5Of(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// ratOf reads an exact decimal ("" and invalid are zero: a null amount adds nothing, as in SQL).
func ratOf(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return new(big.Rat)
	}
	return r
}

// sqlOf adapts a warehouse for verify.
func sqlOf(s Sink) (warehouseSQL, error) {
	switch s := s.(type) {
	case *load.DuckDB:
		return duckdbSQL{s.DB()}, nil
	case *load.BigQuery:
		return bigquerySQL{s}, nil
	}
	return nil, fmt.Errorf("verify: warehouse %T has no SQL access", s)
}

type duckdbSQL struct{ db *sql.DB }

func (d duckdbSQL) ref(name string) string { return schemas.QuoteIdent(name) }

func (d duckdbSQL) query(ctx context.Context, q string, row func([]sql.NullString) error) error {
	rows, err := d.db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := row(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

type bigquerySQL struct{ b *load.BigQuery }

// ref is `project.dataset.name`.
func (q bigquerySQL) ref(name string) string {
	return strings.TrimSuffix(q.b.DatasetRef(), "`") + "." + name + "`"
}

func (q bigquerySQL) query(ctx context.Context, sqlText string, row func([]sql.NullString) error) error {
	job := q.b.Client().Query(sqlText)
	job.Location = q.b.Location()
	it, err := job.Read(ctx)
	if err != nil {
		return err
	}
	for {
		var vals []bigquery.Value
		err := it.Next(&vals)
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return err
		}
		out := make([]sql.NullString, len(vals))
		for i, v := range vals {
			if v != nil {
				out[i] = sql.NullString{String: fmt.Sprint(v), Valid: true}
			}
		}
		if err := row(out); err != nil {
			return err
		}
	}
}
