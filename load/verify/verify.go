// Package verify compares a source's API with the warehouse's *_current views over a range:
// record ids, counts, money sums per currency and each record's raw JSON. A source says what it
// compares (Source); the engine, the report and the warehouses' SQL access know no platform.
package verify

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
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/bigquery"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/iterator"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/schemas"
)

// Source is what verify needs of a platform.
type Source interface {
	// Records names the source's records in the report ("transactions").
	Records() string
	// VerifyWindows plans the windows that re-read r's range of days from the API.
	VerifyWindows(r config.Run) ([]extract.Window, error)
	// Fetch reads one window from the API. It is called concurrently.
	Fetch(ctx context.Context, w extract.Window) (extract.WindowFetch, error)
	// Facts are what is compared of each record of a fetched window.
	Facts(f extract.WindowFetch) []Fact
	// Amounts names the money amounts compared, in Fact.Amounts' order.
	Amounts() []string
	// WarehouseQuery is the SQL reading the facts of the current records of [from, to) from the
	// views (names through ref): the columns are the id, the currency, each amount (as text), the
	// raw JSON, its raw_bytes_base64 (NULL unless the API's bytes were not UTF-8), and whether
	// the record's date could not be read ("true"/"false"); records without a readable date are
	// read too, and kept only when the API's answer names them.
	WarehouseQuery(ref func(string) string, from, to time.Time) string
}

// Fact is what verify compares of one record.
type Fact struct {
	ID       string
	Currency string
	Amounts  []*big.Rat
	Hash     string // MD5 of the raw JSON, as the API sent it
	Undated  bool   // warehouse only: the record's date could not be read
}

// NewFact is the fact of a record as the API sent it: raw is its JSON, amounts exact decimals
// ("" and invalid count as zero).
func NewFact(id, currency string, raw []byte, amounts ...string) Fact {
	f := Fact{ID: id, Currency: currency, Hash: md5Of(raw), Amounts: make([]*big.Rat, len(amounts))}
	for i, a := range amounts {
		f.Amounts[i] = ratOf(a)
	}
	return f
}

// Warehouse is SQL over a warehouse's tables and views, in the dialect's names.
type Warehouse interface {
	// Ref names a table or view in a query.
	Ref(name string) string
	// Query runs a query whose columns are all strings and calls row for each row (NULL as
	// invalid), streaming.
	Query(ctx context.Context, q string, row func([]sql.NullString) error) error
}

// Report is the comparison of the API with the warehouse over a range.
type Report struct {
	Records           string // what the records are called
	Amounts           []string
	APICount, WHCount int
	Sums              map[string][2][]*big.Rat // currency → {API, warehouse} × amounts
	Missing           []string                 // in the API, not in the warehouse
	Extra             []string                 // in the warehouse, not in the API
	Changed           []string                 // in both, but the current version differs from the API's
}

// Equal says whether the warehouse equals the API.
func (r Report) Equal() bool {
	if r.APICount != r.WHCount || len(r.Missing)+len(r.Extra)+len(r.Changed) > 0 {
		return false
	}
	for _, s := range r.Sums {
		for i := range s[0] {
			if s[0][i].Cmp(s[1][i]) != 0 {
				return false
			}
		}
	}
	return true
}

// ErrRange is returned by Run when the range cannot be planned into windows.
var ErrRange = errors.New("the range cannot be verified")

// ErrDiffers is returned by Run when the warehouse differs from the API.
var ErrDiffers = errors.New("the warehouse differs from the API")

// Run re-reads the API for r's range of days (r.From..r.To) and compares it with the warehouse's
// current views; it writes the report to out and returns an error wrapping ErrDiffers when they
// differ.
func Run(ctx context.Context, src Source, wh Warehouse, r config.Run, out io.Writer) (Report, error) {
	from, to := r.From, r.RangeEnd()
	windows, err := src.VerifyWindows(r)
	if err != nil {
		return Report{}, fmt.Errorf("%w: %w", ErrRange, err)
	}
	api, err := readAPI(ctx, src, windows, r.Concurrency)
	if err != nil {
		return Report{}, err
	}
	stored, err := readWarehouse(ctx, src, wh, from, to)
	if err != nil {
		return Report{}, err
	}
	rep := compare(src, api, stored)
	writeReport(out, rep, from, to)
	if !rep.Equal() {
		return rep, fmt.Errorf("verify %s..%s: %w", from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly), ErrDiffers)
	}
	return rep, nil
}

// PageSize is the page size verify reads with: another one than the extraction's, so that a
// paging bug of the extraction shows up as a difference instead of being repeated.
func PageSize(extraction int) int {
	if extraction <= 1 {
		return 2
	}
	return extraction - extraction/3
}

func readAPI(ctx context.Context, src Source, windows []extract.Window, concurrency int) (map[string]Fact, error) {
	out := map[string]Fact{}
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(concurrency, 1))
	for _, w := range windows {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			res, err := src.Fetch(ctx, w)
			if err != nil {
				return fmt.Errorf("reading %s from the API: %w", w, err)
			}
			facts := src.Facts(res)
			mu.Lock()
			defer mu.Unlock()
			for _, f := range facts {
				out[f.ID] = f
			}
			return nil
		})
	}
	return out, g.Wait()
}

func readWarehouse(ctx context.Context, src Source, wh Warehouse, from, to time.Time) (map[string]Fact, error) {
	// The raw JSON is hashed here rather than in SQL: the dialects' hash functions differ.
	n := len(src.Amounts())
	out := map[string]Fact{}
	err := wh.Query(ctx, src.WarehouseQuery(wh.Ref, from, to), func(r []sql.NullString) error {
		if len(r) != n+5 {
			return fmt.Errorf("the verify query returned %d columns, want %d", len(r), n+5)
		}
		f := Fact{ID: r[0].String, Currency: r[1].String, Amounts: make([]*big.Rat, n), Undated: strings.EqualFold(r[n+4].String, "true")}
		for i := range n {
			f.Amounts[i] = ratOf(r[2+i].String)
		}
		raw := []byte(r[n+2].String)
		if r[n+3].Valid { // the API's bytes were not valid UTF-8: raw holds them repaired
			var err error
			if raw, err = base64.StdEncoding.DecodeString(r[n+3].String); err != nil {
				return fmt.Errorf("%s: raw_bytes_base64: %w", f.ID, err)
			}
		}
		f.Hash = md5Of(raw)
		out[f.ID] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the warehouse's current %s: %w", src.Records(), err)
	}
	return out, nil
}

func compare(src Source, api, stored map[string]Fact) Report {
	for id, w := range stored {
		if _, ok := api[id]; !ok && w.Undated {
			delete(stored, id) // not in the range's answer: it belongs to another range
		}
	}
	names := src.Amounts()
	rep := Report{Records: src.Records(), Amounts: names, APICount: len(api), WHCount: len(stored), Sums: map[string][2][]*big.Rat{}}
	add := func(side int, f Fact) {
		s, ok := rep.Sums[f.Currency]
		if !ok {
			for i := range 2 {
				s[i] = make([]*big.Rat, len(names))
				for j := range names {
					s[i][j] = new(big.Rat)
				}
			}
			rep.Sums[f.Currency] = s
		}
		for j := range names {
			if j < len(f.Amounts) && f.Amounts[j] != nil {
				s[side][j].Add(s[side][j], f.Amounts[j])
			}
		}
	}
	for id, a := range api {
		add(0, a)
		w, ok := stored[id]
		switch {
		case !ok:
			rep.Missing = append(rep.Missing, id)
		case w.Hash != a.Hash:
			rep.Changed = append(rep.Changed, id)
		}
	}
	for id, w := range stored {
		add(1, w)
		if _, ok := api[id]; !ok {
			rep.Extra = append(rep.Extra, id)
		}
	}
	for _, ids := range [][]string{rep.Missing, rep.Extra, rep.Changed} {
		sort.Slice(ids, func(i, j int) bool { return idLess(ids[i], ids[j]) })
	}
	return rep
}

// idLess orders ids numerically when they are numbers of the same sign (shorter first), else as
// text.
func idLess(a, b string) bool {
	if len(a) != len(b) && isDigits(a) && isDigits(b) {
		return len(a) < len(b)
	}
	return a < b
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func writeReport(w io.Writer, rep Report, from, to time.Time) {
	fmt.Fprintf(w, "verify %s..%s\n", from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly))
	mark := func(eq bool) string {
		if eq {
			return "  "
		}
		return "≠ "
	}
	fmt.Fprintf(w, "%s%-14s API %d, warehouse %d\n", mark(rep.APICount == rep.WHCount), rep.Records, rep.APICount, rep.WHCount)
	curs := make([]string, 0, len(rep.Sums))
	for c := range rep.Sums {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	for _, c := range curs {
		s := rep.Sums[c]
		for i, n := range rep.Amounts {
			fmt.Fprintf(w, "%s%-4s %-13s API %s, warehouse %s\n", mark(s[0][i].Cmp(s[1][i]) == 0), c, n, s[0][i].FloatString(2), s[1][i].FloatString(2))
		}
	}
	list := func(what string, ids []string) {
		if len(ids) == 0 {
			return
		}
		fmt.Fprintf(w, "≠ %s (%d): %s\n", what, len(ids), strings.Join(ids, " "))
	}
	list("in the API, missing from the warehouse", rep.Missing)
	list("in the warehouse, not in the API", rep.Extra)
	list("changed since loaded (run sync or backfill --force)", rep.Changed)
	if rep.Equal() {
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

// WarehouseOf adapts an open sink (*load.DuckDB or *load.BigQuery) for verify.
func WarehouseOf(sink any) (Warehouse, error) {
	switch s := sink.(type) {
	case *load.DuckDB:
		return duckdbSQL{s.DB()}, nil
	case *load.BigQuery:
		return bigquerySQL{s}, nil
	}
	return nil, fmt.Errorf("verify: warehouse %T has no SQL access", sink)
}

type duckdbSQL struct{ db *sql.DB }

func (d duckdbSQL) Ref(name string) string { return schemas.QuoteIdent(name) }

func (d duckdbSQL) Query(ctx context.Context, q string, row func([]sql.NullString) error) error {
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

// Ref is `project.dataset.name`.
func (q bigquerySQL) Ref(name string) string {
	return strings.TrimSuffix(q.b.DatasetRef(), "`") + "." + name + "`"
}

func (q bigquerySQL) Query(ctx context.Context, sqlText string, row func([]sql.NullString) error) error {
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
