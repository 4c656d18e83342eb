package load

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
)

// The sink contract: what both warehouses promise the run loop, the status verb and verify, tested
// once (TestSinkContract) against the real DuckDB sink and the real BigQuery sink (the Google
// client talking to bqtest). What only one sink does (DuckDB's file locking and read-only mode,
// BigQuery's jobs, faults, staging and IAM) is tested in that sink's own files; assertions about a
// contract case that only make sense for one sink are that sink's sinkUnderTest.also.

// contractSink is what the contract suite calls on a sink.
type contractSink interface {
	Commit(context.Context, *Batch) error
	Checkpoints(context.Context) ([]Checkpoint, error)
	RecordRun(context.Context, Run) error
	Runs(context.Context, int) ([]Run, error)
	Quarantined(context.Context) (int64, error)
	Close() error
}

var (
	_ contractSink = (*DuckDB)(nil)
	_ contractSink = (*BigQuery)(nil)
)

// testSource is a second source, registered by TestMain (schemas.RegisterSource may only run
// before anything reads the registry), so that the suite can commit the windows of two sources.
const testSource = "contracttest"

// unknownSource is the name of no source.
const unknownSource = "nosuchplatform"

// registerTestSource declares testSource: one unkeyed stream, named like CrowdChange's, so that
// mixing two sources' checkpoints would show in the watermark.
func registerTestSource() {
	schemas.RegisterSource(schemas.SourceInfo{Name: testSource, Streams: []schemas.Stream{{Name: StreamDate}}})
}

// sinkUnderTest is one sink as the contract suite runs it.
type sinkUnderTest struct {
	name string
	// open makes a new warehouse, in the state older describes when it is not nil (an older
	// ccsync's), and opens the sink on it. It returns the warehouse even when the sink refused to
	// open (warehouse.openErr), so that the test can look at what the refusal left.
	open func(t *testing.T, older *olderWarehouse) *warehouse
	// also holds the sink's own assertions about a contract case, run after the case on its
	// warehouse, by case name.
	also map[string]func(t *testing.T, w *warehouse)
}

// warehouse is a sink under test and what the suite needs to look inside its warehouse without
// it.
type warehouse struct {
	sinkName string       // sinkUnderTest.name
	sink     contractSink // nil when opening failed
	openErr  error
	mem      *memory.CheckedAllocator // for the test's batches (and the sink's own records)
	logs     *logtest.Hook            // everything the sink logged, debug included
	// fixedNow is the sink's clock when the test fixes it; zero when the sink uses the real one.
	fixedNow time.Time
	// bq is the BigQuery server, for BigQuery's own assertions; nil for DuckDB.
	bq *bqEnv

	// ref names a table or view in the queries of texts.
	ref func(name string) string
	// texts runs a query and renders each row as its values (fmt.Sprint) separated by spaces.
	texts func(t *testing.T, query string) []string
	// checkRow compares the row of transaction txID in a table or view (from) with the cells
	// written.
	checkRow func(t *testing.T, table schemas.Table, from string, txID int64, want []cell)
	// insert writes a row behind the sink's back, straight into the warehouse's storage (a
	// half-loaded BigQuery batch, a version whose checkpoint is not there yet): only the given
	// columns, lists empty.
	insert func(t *testing.T, table string, values map[string]any)
	// columns lists a table's or view's columns; none when it does not exist.
	columns func(t *testing.T, name string) []string
	// snapshot describes the warehouse's tables, views and data, to compare before and after.
	snapshot func(t *testing.T) []string
	// written lists the tables that hold rows ("table: n rows").
	written func(t *testing.T) []string
	// reopen opens the sink again on the same warehouse (closing the first when the sink
	// needs it), replacing sink.
	reopen func(t *testing.T)
}

// olderWarehouse is a warehouse as an older ccsync left it, created by hand before the sink opens
// it.
type olderWarehouse struct {
	// tables are the tables that exist (nil: every table of package schemas).
	tables []string
	// drop are the columns each table lacks.
	drop map[string][]string
	// retype is a column whose type differs from the schema's, when set.
	retype *retypedColumn
	// rows are inserted into the older tables by hand.
	rows []handRow
}

// retypedColumn is a column of an older warehouse with another type, as each sink spells it.
type retypedColumn struct {
	table, column string
	duckDB        string // a DuckDB type: "DOUBLE", "BIGINT[]"
	bigQuery      string // a BigQuery type and, for a list, REPEATED: "FLOAT", "INTEGER REPEATED"
}

// handRow is a row an older ccsync wrote.
type handRow struct {
	table  string
	values map[string]any
}

// tableList is the older warehouse's tables, as that older ccsync declared them.
func (o *olderWarehouse) tableList() []schemas.Table {
	var out []schemas.Table
	for _, t := range schemas.AllTables() {
		if o.tables != nil && !contains(o.tables, t.Name) {
			continue
		}
		out = append(out, o.table(t))
	}
	return out
}

// table is t as the older ccsync declared it: without the dropped columns.
func (o *olderWarehouse) table(t schemas.Table) schemas.Table {
	var cols []schemas.Column
	for _, c := range t.Columns {
		if !contains(o.drop[t.Name], c.Name) {
			cols = append(cols, c)
		}
	}
	t.Columns = cols
	return t
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// insertRow inserts a row by hand into table (named ref in db): only the given columns, lists
// empty; a required column without a value is a mistake of the test.
func insertRow(t *testing.T, db *sql.DB, ref string, table schemas.Table, values map[string]any) {
	t.Helper()
	var cols, ph []string
	var args []any
	for _, c := range table.Columns {
		v, ok := values[c.Name]
		switch {
		case ok:
		case c.Repeated:
			cols, ph = append(cols, schemas.QuoteIdent(c.Name)), append(ph, "[]")
			continue
		case c.Required:
			t.Fatalf("inserting into %s by hand: %s is required", table.Name, c.Name)
		default:
			continue
		}
		cols, ph, args = append(cols, schemas.QuoteIdent(c.Name)), append(ph, "?"), append(args, v)
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", ref, strings.Join(cols, ", "), strings.Join(ph, ", "))
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// queryTexts runs a query on db and renders each row as its values separated by spaces.
func queryTexts(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// count returns the number of rows of a table or view, through the warehouse.
func (w *warehouse) count(t *testing.T, name string) string {
	t.Helper()
	got := w.texts(t, "SELECT count(*) FROM "+w.ref(name))
	if len(got) != 1 {
		t.Fatalf("count of %s: %v", name, got)
	}
	return got[0]
}

// checkpoints returns the sink's checkpoints.
func (w *warehouse) checkpoints(t *testing.T) []Checkpoint {
	t.Helper()
	cps, err := w.sink.Checkpoints(context.Background())
	if err != nil {
		t.Fatalf("Checkpoints: %v", err)
	}
	return cps
}

// noRowValues checks that no log line of the sink quotes one of values.
func (w *warehouse) noRowValues(t *testing.T, values ...string) {
	t.Helper()
	for _, entry := range w.logs.AllEntries() {
		line, _ := entry.String()
		for _, v := range values {
			if strings.Contains(line, v) {
				t.Errorf("a log line quotes the row value %q: %s", v, line)
			}
		}
	}
}

// rowValues are values genRow writes that must never reach a log line or an error.
var rowValues = []string{"O'Brien", "Zoë", "105.15", `back\slash`}

// The contract cases that a sink's also refers to.
const (
	caseRoundTrip    = "commit round trip"
	caseCommitTwice  = "commit twice loads once"
	caseRefused      = "refused commits write nothing"
	caseQuietWindow  = "window without rows"
	caseRuns         = "run log"
	caseOlderColumns = "older warehouse gains the new columns"
	caseReopen       = "reopening changes nothing"
)

// contractCase is one promise of the contract.
type contractCase struct {
	name  string
	older *olderWarehouse // nil: a new warehouse
	// refusesOpen: the sink must refuse to open the warehouse.
	refusesOpen bool
	run         func(t *testing.T, w *warehouse)
}

func TestSinkContract(t *testing.T) {
	t.Parallel()
	for _, s := range []sinkUnderTest{duckDBUnderContract, bigQueryUnderContract} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			runSinkContract(t, s)
		})
	}
}

// runSinkContract runs every contract case against a sink, each on its own warehouse, in
// parallel.
func runSinkContract(t *testing.T, s sinkUnderTest) {
	cases := contractCases()
	names := map[string]bool{}
	for _, c := range cases {
		names[c.name] = true
	}
	for name := range s.also {
		if !names[name] {
			t.Errorf("%s has its own assertions for %q, which is no contract case", s.name, name)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := s.open(t, c.older)
			switch {
			case c.refusesOpen && w.openErr == nil:
				t.Fatal("the sink opened the warehouse, want a refusal")
			case !c.refusesOpen && w.openErr != nil:
				t.Fatalf("opening: %v", w.openErr)
			}
			c.run(t, w)
			if also := s.also[c.name]; also != nil && !t.Failed() {
				also(t, w)
			}
		})
	}
}

func contractCases() []contractCase {
	cases := []contractCase{
		{name: caseRoundTrip, run: contractRoundTrip},
		{name: caseCommitTwice, run: contractCommitTwice},
		{name: caseRefused, run: contractRefusedCommits},
		{name: caseQuietWindow, run: contractQuietWindow},
		{name: "sources do not mix", run: contractSourcesDoNotMix},
		{name: caseRuns, run: contractRuns},
		{name: "current views", run: contractCurrentViews},
		{name: "donations model", run: contractDonationsModel},
		{name: "quarantined items of committed batches", run: contractQuarantined},
		{name: caseReopen, run: contractReopen},
		{name: "errors and logs name no row value", run: contractErrorsNameNoValue},
		{name: caseOlderColumns, older: &olderWarehouse{
			drop: map[string][]string{
				crowdchange.Transactions: {"promo_code", "refund_children_ids"},
				schemas.Runs:             {"throttled"},
			},
			rows: []handRow{
				{crowdchange.Transactions, map[string]any{"id": int64(1), schemas.ColRunID: "run-0", schemas.ColBatchID: "batch-0", schemas.ColExtractedAt: day1}},
				{schemas.Checkpoints, legacyCheckpointRow(day1, day2, map[string]any{"source": schemas.LegacySource})},
				{schemas.Runs, legacyRunRow(map[string]any{"source": schemas.LegacySource})},
			},
		}, run: contractOlderColumns},
		{name: "bookkeeping rows from before sources are crowdchange's", older: &olderWarehouse{
			tables: []string{schemas.Checkpoints, schemas.Runs},
			drop:   map[string][]string{schemas.Checkpoints: {"source"}, schemas.Runs: {"source"}},
			rows: []handRow{
				{schemas.Checkpoints, legacyCheckpointRow(day1, day2, nil)},
				{schemas.Runs, legacyRunRow(nil)},
			},
		}, run: contractLegacySource},
	}
	for _, r := range []struct {
		name   string
		retype retypedColumn
		says   map[string]string // how each sink words the difference
	}{
		{"money as a float", retypedColumn{crowdchange.Transactions, "amount_total_paid", "DOUBLE", "FLOAT"}, map[string]string{
			"duckdb": "type is DOUBLE in the warehouse, DECIMAL(38,9) in the schema", "bigquery": "type is FLOAT in BigQuery, NUMERIC in the schema"}},
		{"timestamp without time zone", retypedColumn{schemas.Checkpoints, "window_start", "TIMESTAMP", "DATETIME"}, map[string]string{
			"duckdb": "type is TIMESTAMP in the warehouse, TIMESTAMP WITH TIME ZONE in the schema", "bigquery": "type is DATETIME in BigQuery, TIMESTAMP in the schema"}},
		{"list of another type", retypedColumn{crowdchange.RawTransactions, "unknown_fields", "BIGINT[]", "INTEGER REPEATED"}, map[string]string{
			"duckdb": "type is BIGINT[] in the warehouse, VARCHAR[] in the schema", "bigquery": "type is INTEGER in BigQuery, STRING in the schema"}},
		{"list as a scalar", retypedColumn{crowdchange.RawTransactions, "unknown_fields", "VARCHAR", "STRING"}, map[string]string{
			"duckdb": "type is VARCHAR in the warehouse, VARCHAR[] in the schema", "bigquery": "mode is NULLABLE in BigQuery, REPEATED in the schema"}},
	} {
		cases = append(cases, contractCase{
			name: "open refuses " + r.name,
			// registrations lacks a column too: the refusal must add it no more than anything else.
			older:       &olderWarehouse{drop: map[string][]string{crowdchange.Registrations: {"comment"}}, retype: &r.retype},
			refusesOpen: true,
			run:         func(t *testing.T, w *warehouse) { contractRefusesRetype(t, w, r.retype, r.says[w.sinkName]) },
		})
	}
	return cases
}

// legacyCheckpointRow is a checkpoint row of the date stream as an older ccsync wrote it, with
// extra columns.
func legacyCheckpointRow(start, end time.Time, extra map[string]any) map[string]any {
	return with(map[string]any{
		"stream": StreamDate, "window_start": start, "window_end": end, "run_id": "run-0", "batch_id": "batch-0",
		"committed_at": end, "transactions": int64(1), "pages": int64(1),
	}, extra)
}

// legacyRunRow is a run-log row as an older ccsync wrote it, with extra columns.
func legacyRunRow(extra map[string]any) map[string]any {
	return with(map[string]any{
		"run_id": "run-0", "verb": "backfill", "started_at": day1, "ended_at": day1.Add(time.Minute), "outcome": "done",
		"windows": int64(1), "transactions": int64(1),
	}, extra)
}

// legacyRun is legacyRunRow as Runs returns it (its source read as crowdchange).
func legacyRun() Run {
	return Run{Source: schemas.LegacySource, RunID: "run-0", Verb: "backfill", StartedAt: day1, EndedAt: day1.Add(time.Minute), Outcome: "done",
		Windows: 1, Transactions: 1}
}

// contractRoundTrip: a batch's rows land value for value in every data table and current view,
// and its checkpoints come back as committed, in UTC, with their source and payout account.
func contractRoundTrip(t *testing.T, w *warehouse) {
	ctx := context.Background()
	b := newBatch(t, w.mem, "run-1", "run-1-0001")
	ext := time.Date(2024, 3, 1, 2, 3, 4, 567891000, time.UTC)
	ids := []int64{101, 102}
	written := fullBatch(t, w.mem, b, ext, ids...)
	b.AddCheckpoint(Checkpoint{Source: schemas.LegacySource, Stream: StreamPayout, PayoutAccount: "user", WindowStart: day1, WindowEnd: day2, Pages: 1})
	before := time.Now()
	if err := w.sink.Commit(ctx, b); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	after := time.Now()

	// The batch after its commit: one file per data table, their sizes, their rows.
	files, total := b.Files(), int64(0)
	if len(files) != len(crowdchange.DataTables()) {
		t.Errorf("Files() has %d tables, want %d", len(files), len(crowdchange.DataTables()))
	}
	for tbl, p := range files {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
		if got := b.Rows()[tbl]; got != int64(len(ids)) {
			t.Errorf("Rows()[%s] = %d, want %d", tbl, got, len(ids))
		}
	}
	if b.Bytes() != total || total == 0 {
		t.Errorf("Bytes() = %d, files total %d", b.Bytes(), total)
	}

	for _, tbl := range crowdchange.DataTables() {
		for _, from := range []string{tbl.Name, tbl.CurrentView()} {
			if got := w.count(t, from); got != fmt.Sprint(len(ids)) {
				t.Errorf("%s has %s rows, want %d", from, got, len(ids))
			}
			for r, id := range ids {
				w.checkRow(t, tbl, from, id, written[tbl.Name][r])
			}
		}
	}

	cps := w.checkpoints(t)
	if len(cps) != 2 {
		t.Fatalf("Checkpoints() = %+v, want two", cps)
	}
	for i := range cps {
		c := &cps[i]
		switch {
		case c.CommittedAt.Location() != time.UTC:
			t.Errorf("CommittedAt = %v, want UTC", c.CommittedAt)
		case !w.fixedNow.IsZero() && !c.CommittedAt.Equal(w.fixedNow):
			t.Errorf("CommittedAt = %v, want the sink's clock %v", c.CommittedAt, w.fixedNow)
		case w.fixedNow.IsZero() && (c.CommittedAt.Before(before.Truncate(time.Microsecond)) || c.CommittedAt.After(after)):
			t.Errorf("CommittedAt = %v, want the commit's time, between %v and %v", c.CommittedAt, before, after)
		}
		c.CommittedAt = time.Time{}
	}
	want := []Checkpoint{
		{Source: schemas.LegacySource, Stream: StreamDate, WindowStart: day1, WindowEnd: day2, RunID: "run-1", BatchID: "run-1-0001", Transactions: 2, Pages: 1},
		{Source: schemas.LegacySource, Stream: StreamPayout, PayoutAccount: "user", WindowStart: day1, WindowEnd: day2, RunID: "run-1", BatchID: "run-1-0001", Pages: 1},
	}
	if !reflect.DeepEqual(cps, want) {
		t.Errorf("Checkpoints() =\n%+v\nwant\n%+v", cps, want)
	}
	w.noRowValues(t, rowValues...)
}

// contractCommitTwice: committing a batch again (a retried Commit) appends nothing.
func contractCommitTwice(t *testing.T, w *warehouse) {
	ctx := context.Background()
	b := newBatch(t, w.mem, "run-1", "batch-1")
	smallBatch(t, w.mem, b, day1, []string{crowdchange.Transactions}, 1, 2, 3)
	for i := 0; i < 2; i++ {
		if err := w.sink.Commit(ctx, b); err != nil {
			t.Fatalf("Commit #%d: %v", i+1, err)
		}
	}
	for _, name := range []string{crowdchange.Transactions, crowdchange.Transactions + "_current"} {
		if n := w.count(t, name); n != "3" {
			t.Errorf("%s has %s rows, want 3", name, n)
		}
	}
	if cps := w.checkpoints(t); len(cps) != 1 {
		t.Errorf("Checkpoints() = %+v, want one", cps)
	}
}

// contractRefusedCommits: a batch the sink cannot commit correctly (an invalid checkpoint, rows
// without checkpoint, files gone) is refused before anything is written.
func contractRefusedCommits(t *testing.T, w *warehouse) {
	tr, _ := schemas.ByName(crowdchange.Transactions)
	tests := []struct {
		name    string
		rows    bool
		cp      *Checkpoint
		wantErr []string
	}{
		{"rows without checkpoint", true, nil, []string{"no checkpoint"}},
		{"unknown source", true, &Checkpoint{Source: unknownSource, Stream: StreamDate, WindowStart: day1, WindowEnd: day2},
			[]string{`unknown source "` + unknownSource + `"`, schemas.LegacySource, testSource}},
		{"no source", false, &Checkpoint{Stream: StreamDate, WindowStart: day1, WindowEnd: day2}, []string{`unknown source ""`}},
		{"unknown stream", true, &Checkpoint{Source: schemas.LegacySource, Stream: "dates", WindowStart: day1, WindowEnd: day2}, []string{"unknown stream"}},
		{"another source's stream", false, &Checkpoint{Source: testSource, Stream: StreamPayout, PayoutAccount: "user", WindowStart: day1, WindowEnd: day2}, []string{"unknown stream"}},
		{"date stream with account", true, &Checkpoint{Source: schemas.LegacySource, Stream: StreamDate, PayoutAccount: "user", WindowStart: day1, WindowEnd: day2}, []string{"has a payout account"}},
		{"payout stream without account", false, &Checkpoint{Source: schemas.LegacySource, Stream: StreamPayout, WindowStart: day1, WindowEnd: day2}, []string{"no payout account"}},
		{"empty window", true, &Checkpoint{Source: schemas.LegacySource, Stream: StreamDate, WindowStart: day2, WindowEnd: day2}, []string{"empty window"}},
		{"reversed window", true, &Checkpoint{Source: schemas.LegacySource, Stream: StreamDate, WindowStart: day2, WindowEnd: day1}, []string{"empty window"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBatch(t, w.mem, "run-1", fmt.Sprintf("batch-%d", i))
			if tt.rows {
				writeRows(t, b, w.mem, tr.Name, genRow(tr, 0, with(txKey(tr, 1), stamp("run-1", b.ID(), day1))))
			}
			if tt.cp != nil {
				b.AddCheckpoint(*tt.cp)
			}
			err := w.sink.Commit(context.Background(), b)
			if err == nil {
				t.Fatal("Commit succeeded")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Commit error %q does not say %q", err, want)
				}
			}
		})
	}
	t.Run("removed batch", func(t *testing.T) {
		b := newBatch(t, w.mem, "run-1", "removed")
		smallBatch(t, w.mem, b, day1, []string{crowdchange.Transactions}, 1)
		if err := b.Remove(); err != nil {
			t.Fatal(err)
		}
		if err := w.sink.Commit(context.Background(), b); err == nil || !strings.Contains(err.Error(), "no file") {
			t.Fatalf("Commit of a removed batch: %v, want an error", err)
		}
	})
	if got := w.written(t); len(got) != 0 {
		t.Errorf("refused commits wrote %v", got)
	}
	if cps := w.checkpoints(t); len(cps) != 0 {
		t.Errorf("Checkpoints() = %+v after refused commits", cps)
	}
}

// contractQuietWindow: a window without rows commits as a checkpoint alone.
func contractQuietWindow(t *testing.T, w *warehouse) {
	b := newBatch(t, w.mem, "run-1", "quiet")
	b.AddCheckpoint(Checkpoint{Source: schemas.LegacySource, Stream: StreamPayout, PayoutAccount: "global", WindowStart: day1, WindowEnd: day2})
	if err := w.sink.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if len(b.Files()) != 0 || b.Bytes() != 0 {
		t.Errorf("Files() = %v, Bytes() = %d; want none", b.Files(), b.Bytes())
	}
	cps := w.checkpoints(t)
	if len(cps) != 1 || cps[0].Source != schemas.LegacySource || cps[0].Stream != StreamPayout || cps[0].PayoutAccount != "global" || cps[0].BatchID != "quiet" {
		t.Errorf("Checkpoints() = %+v", cps)
	}
	if got, want := w.written(t), []string{schemas.Checkpoints + ": 1 rows"}; !reflect.DeepEqual(got, want) {
		t.Errorf("written %v, want %v", got, want)
	}
}

// contractSourcesDoNotMix: checkpoints and runs keep their source, and a source's watermark
// (OfSource, then Watermark) is computed from its own windows only.
func contractSourcesDoNotMix(t *testing.T, w *warehouse) {
	ctx := context.Background()
	cc := newBatch(t, w.mem, "run-cc", "run-cc-0001")
	smallBatch(t, w.mem, cc, day1, []string{crowdchange.Transactions}, 1) // crowdchange, date, [day1, day2)
	cc.AddCheckpoint(Checkpoint{Source: schemas.LegacySource, Stream: StreamPayout, PayoutAccount: "user", WindowStart: day1, WindowEnd: day3})
	other := newBatch(t, w.mem, "run-ct", "run-ct-0001")
	other.AddCheckpoint(Checkpoint{Source: testSource, Stream: StreamDate, WindowStart: day2, WindowEnd: day3})
	for _, b := range []*Batch{cc, other} {
		if err := w.sink.Commit(ctx, b); err != nil {
			t.Fatalf("Commit %s: %v", b.ID(), err)
		}
	}
	cps := w.checkpoints(t)
	var got []string
	for _, c := range cps {
		got = append(got, fmt.Sprintf("%s %s %s %s %s", c.Source, c.Stream, c.PayoutAccount, c.WindowStart.Format(time.DateOnly), c.BatchID))
	}
	want := []string{ // ordered by source, stream, payout account, window
		testSource + " date  2024-03-02 run-ct-0001",
		"crowdchange date  2024-03-01 run-cc-0001",
		"crowdchange payout user 2024-03-01 run-cc-0001",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Checkpoints() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if mixed, _ := Watermark(cps, StreamDate, ""); !mixed.Equal(day3) {
		t.Fatalf("both sources' date windows together end at %v, want %v: the case tests nothing", mixed, day3)
	}
	for _, tt := range []struct {
		source string
		want   time.Time
	}{{schemas.LegacySource, day2}, {testSource, day3}} {
		own := OfSource(cps, tt.source)
		if wm, ok := Watermark(own, StreamDate, ""); !ok || !wm.Equal(tt.want) {
			t.Errorf("%s's date watermark = %v, %t; want %v", tt.source, wm, ok, tt.want)
		}
		for _, c := range own {
			if c.Source != tt.source {
				t.Errorf("OfSource(%s) kept %+v", tt.source, c)
			}
		}
	}
	if Covered(OfSource(cps, testSource), StreamDate, "", day1, day2) {
		t.Errorf("crowdchange's window covers %s's", testSource)
	}
	if n := len(OfSource(cps, unknownSource)); n != 0 {
		t.Errorf("OfSource(%s) kept %d checkpoints", unknownSource, n)
	}

	// Runs keep their source too.
	start := time.Date(2024, 3, 2, 2, 0, 0, 0, time.UTC)
	runs := []Run{
		{Source: schemas.LegacySource, RunID: "run-cc", Verb: "sync", StartedAt: start, Outcome: "running"},
		{Source: testSource, RunID: "run-ct", Verb: "sync", StartedAt: start.Add(time.Minute), Outcome: "running"},
	}
	for _, r := range runs {
		if err := w.sink.RecordRun(ctx, r); err != nil {
			t.Fatalf("RecordRun(%s): %v", r.RunID, err)
		}
	}
	gotRuns, err := w.sink.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if wantRuns := []Run{runs[1], runs[0]}; !reflect.DeepEqual(gotRuns, wantRuns) {
		t.Errorf("Runs() =\n%+v\nwant\n%+v", gotRuns, wantRuns)
	}
}

// contractRuns: the run log is append-only; Runs returns each run's latest state, newest run
// first, up to a limit; RecordRun refuses an incomplete row.
func contractRuns(t *testing.T, w *warehouse) {
	ctx := context.Background()
	a, aDone, b, c := sampleRuns()
	for _, r := range []Run{c, a, b, aDone} {
		if err := w.sink.RecordRun(ctx, r); err != nil {
			t.Fatalf("RecordRun(%s): %v", r.RunID, err)
		}
	}
	for _, tt := range []struct {
		limit int
		want  []Run
	}{
		{0, []Run{b, aDone, c}},
		{10, []Run{b, aDone, c}},
		{2, []Run{b, aDone}},
		{1, []Run{b}},
	} {
		got, err := w.sink.Runs(ctx, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Runs(%d) =\n%+v\nwant\n%+v", tt.limit, got, tt.want)
		}
	}
	if n := w.count(t, schemas.Runs); n != "4" {
		t.Errorf("ccsync_runs has %s rows, want 4 (append-only)", n)
	}
	perTable := w.texts(t, "SELECT rows_per_table FROM "+w.ref(schemas.Runs)+" WHERE run_id = 'run-a' AND outcome = 'done'")
	if want := []string{`{"transaction_items":4100,"transactions":2900}`}; !reflect.DeepEqual(perTable, want) {
		t.Errorf("rows_per_table = %v, want %v", perTable, want)
	}
	for _, bad := range []Run{
		{Source: schemas.LegacySource, RunID: "x", Verb: "sync"},                                             // no outcome, no start
		{RunID: "x", Verb: "sync", Outcome: "running", StartedAt: day1},                                      // no source
		{Source: schemas.LegacySource, RunID: "", Verb: "sync", Outcome: "running", StartedAt: day1},         // no run ID
		{Source: schemas.LegacySource, RunID: "x", Verb: "", Outcome: "running", StartedAt: day1},            // no verb
		{Source: schemas.LegacySource, RunID: "x", Verb: "sync", Outcome: "running", StartedAt: time.Time{}}, // no start
	} {
		if err := w.sink.RecordRun(ctx, bad); err == nil {
			t.Errorf("RecordRun accepted %+v", bad)
		}
	}
	if n := w.count(t, schemas.Runs); n != "4" {
		t.Errorf("ccsync_runs has %s rows after refused rows, want 4", n)
	}
}

// contractCurrentViews: a current view holds the newest committed version of each transaction
// (the greater run ID between versions extracted at the same time) and exactly that version's
// child rows; a version whose batch has no checkpoint is never current, until it has one.
func contractCurrentViews(t *testing.T, w *warehouse) {
	ctx := context.Background()
	t1 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	t3 := t2.Add(24 * time.Hour)

	type version struct {
		run, batch string
		ext        time.Time
		txID       int64
		items      int // transaction_items rows (positions 0..items-1); other child tables get one row
	}
	commit := func(vs ...version) {
		t.Helper()
		b := newBatch(t, w.mem, vs[0].run, vs[0].batch)
		for _, tbl := range crowdchange.DataTables() {
			var rows [][]cell
			for _, v := range vs {
				n := 1
				if tbl.Name == crowdchange.TransactionItem {
					n = v.items
				}
				for pos := 0; pos < n; pos++ {
					over := with(txKey(tbl, v.txID), stamp(v.run, v.batch, v.ext))
					if tbl.ColumnIndex("position") >= 0 {
						over["position"] = int64(pos)
					}
					rows = append(rows, genRow(tbl, pos, over))
				}
			}
			writeRows(t, b, w.mem, tbl.Name, rows...)
		}
		b.AddCheckpoint(Checkpoint{Source: schemas.LegacySource, Stream: StreamDate, WindowStart: day1, WindowEnd: day2})
		if err := w.sink.Commit(ctx, b); err != nil {
			t.Fatalf("Commit %s: %v", vs[0].batch, err)
		}
	}
	// Transaction 1: version 1 (two items), then version 2 (one item), then version 3, whose
	// batch has no checkpoint (half-loaded). Transaction 2: one version. Transaction 3: two
	// versions extracted at the same time by two shards; the greater run ID wins.
	commit(version{"run-1", "batch-1", t1, 1, 2}, version{"run-1", "batch-1", t1, 2, 1})
	commit(version{"shard-a", "batch-a", t2, 1, 1}, version{"shard-a", "batch-a", t2, 3, 1})
	commit(version{"shard-b", "batch-b", t2, 3, 2})
	for _, tbl := range crowdchange.DataTables() {
		row := map[string]any{schemas.ColRunID: "run-3", schemas.ColBatchID: "batch-3", schemas.ColExtractedAt: t3}
		if tbl.Name == crowdchange.Transactions {
			row["id"] = int64(1)
		} else {
			row["transaction_id"] = int64(1)
			for _, c := range []string{"direction", "level", "category", "raw"} {
				if tbl.ColumnIndex(c) >= 0 {
					row[c] = "purchased"
				}
			}
			if tbl.ColumnIndex("position") >= 0 {
				row["position"] = int64(0)
			}
		}
		w.insert(t, tbl.Name, row)
	}

	check := func(when, query string, want []string) {
		t.Helper()
		if got := w.texts(t, query); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %s =\n%v\nwant\n%v", when, query, got, want)
		}
	}
	wantCurrent := []string{"1 shard-a", "2 run-1", "3 shard-b"}
	check("before batch-3's checkpoint", "SELECT id, _run_id FROM "+w.ref("transactions_current")+" ORDER BY id", wantCurrent)
	check("versions are appended", "SELECT count(*) FROM "+w.ref(crowdchange.Transactions)+" WHERE id = 1", []string{"3"})
	check("before batch-3's checkpoint", "SELECT transaction_id, _run_id, position FROM "+w.ref("transaction_items_current")+" ORDER BY transaction_id, position",
		[]string{"1 shard-a 0", "2 run-1 0", "3 shard-b 0", "3 shard-b 1"})
	for _, tbl := range crowdchange.DataTables()[2:] {
		check("before batch-3's checkpoint", "SELECT transaction_id, _run_id FROM "+w.ref(tbl.CurrentView())+" ORDER BY transaction_id", wantCurrent)
	}

	// Once batch-3 is committed (its checkpoint lands), version 3 becomes current.
	w.insert(t, schemas.Checkpoints, map[string]any{"source": schemas.LegacySource, "stream": StreamDate, "window_start": day2, "window_end": day3,
		"run_id": "run-3", "batch_id": "batch-3", "committed_at": t3, "transactions": int64(1), "pages": int64(1)})
	check("after batch-3's checkpoint", "SELECT id, _run_id FROM "+w.ref("transactions_current")+" ORDER BY id", []string{"1 run-3", "2 run-1", "3 shard-b"})
	check("after batch-3's checkpoint", "SELECT transaction_id, _run_id FROM "+w.ref("transaction_items_current")+" WHERE transaction_id = 1", []string{"1 run-3"})
}

// contractQuarantined: Quarantined counts the quarantined items of committed batches only.
func contractQuarantined(t *testing.T, w *warehouse) {
	ctx := context.Background()
	quarantined := func() int64 {
		t.Helper()
		n, err := w.sink.Quarantined(ctx)
		if err != nil {
			t.Fatalf("Quarantined: %v", err)
		}
		return n
	}
	if n := quarantined(); n != 0 {
		t.Fatalf("Quarantined() = %d in a new warehouse", n)
	}
	qt, _ := schemas.ByName(schemas.QuarantineTable)
	b := newBatch(t, w.mem, "run-1", "batch-1")
	smallBatch(t, w.mem, b, day1, []string{crowdchange.Transactions}, 1)
	writeRows(t, b, w.mem, qt.Name,
		genRow(qt, 0, stamp("run-1", "batch-1", day1)),
		genRow(qt, 1, with(stamp("run-1", "batch-1", day1), map[string]any{"position": int64(7)})))
	if err := w.sink.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	// A half-loaded batch's item: in the table, not counted.
	w.insert(t, qt.Name, map[string]any{"stream": StreamDate, "window_start": day2, "window_end": day3, "page": int64(1), "position": int64(0),
		"reason": "no id", "raw": "{}", schemas.ColRunID: "run-2", schemas.ColBatchID: "batch-2", schemas.ColExtractedAt: day2})
	if n := quarantined(); n != 2 {
		t.Errorf("Quarantined() = %d, want 2", n)
	}
	if n := w.count(t, qt.Name); n != "3" {
		t.Errorf("%s has %s rows, want 3", qt.Name, n)
	}
}

// contractReopen: opening the warehouse again changes nothing, tables, views or data.
func contractReopen(t *testing.T, w *warehouse) {
	b := newBatch(t, w.mem, "run-1", "batch-1")
	smallBatch(t, w.mem, b, day1, []string{crowdchange.Transactions, crowdchange.TransactionItem}, 1, 2)
	if err := w.sink.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	want, wantCps := w.snapshot(t), w.checkpoints(t)
	for i := 1; i <= 2; i++ {
		w.reopen(t)
		if got := w.snapshot(t); !reflect.DeepEqual(got, want) {
			t.Errorf("reopen #%d changed the warehouse:\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if cps := w.checkpoints(t); !reflect.DeepEqual(cps, wantCps) {
			t.Errorf("reopen #%d: checkpoints %+v, want %+v", i, cps, wantCps)
		}
	}
}

// contractErrorsNameNoValue: a Commit whose file holds a value the warehouse cannot load fails
// naming the table and the batch (and, where the warehouse says, the column), never the value,
// and commits nothing; no log line quotes it either.
func contractErrorsNameNoValue(t *testing.T, w *warehouse) {
	tests := []struct {
		name    string
		column  string // of transactions; its Parquet column becomes a string column of value
		value   string
		planted []string            // what must not appear
		says    map[string][]string // what each sink's error says, besides the table and the batch
	}{
		{"name into BIGINT", "id", "Jane O'Brien", []string{"Jane", "Brien"},
			map[string][]string{"duckdb": {"Conversion Error", "column id"}, "bigquery": {"invalid: ", "Field id has changed type"}}},
		{"e-mail into DECIMAL", "amount_total_paid", "jane.doe@example.com", []string{"jane.doe", "example.com"},
			map[string][]string{"duckdb": {"Conversion Error", "column amount_total_paid"}, "bigquery": {"invalid: ", "Field amount_total_paid has changed type"}}},
		{"address into TIMESTAMP", "date", "12 Main St, Springfield", []string{"Main St", "Springfield"},
			map[string][]string{"duckdb": {"Conversion Error", "column date"}, "bigquery": {"invalid: ", "Field date has changed type"}}},
		{"quotes and a new line", "id", "Jane \"JD\" 'Doe'\nApt 4", []string{"Jane", "JD", "Doe", "Apt 4"},
			map[string][]string{"duckdb": {"Conversion Error"}, "bigquery": {"invalid: ", "Field id has changed type"}}},
		{"invalid UTF-8", "donated_by_email", "jane\xff\"doe@example.com", []string{"jane", "doe", "example.com"},
			map[string][]string{"duckdb": {"Invalid string encoding"}, "bigquery": {"invalid: ", "Error while reading data"}}},
	}
	tr, _ := schemas.ByName(crowdchange.Transactions)
	var planted []string
	for _, tt := range tests {
		planted = append(planted, tt.planted...)
		t.Run(tt.name, func(t *testing.T) {
			batchID := "batch-" + strings.ReplaceAll(tt.name, " ", "-")
			b := newBatch(t, w.mem, "run-1", batchID)
			row := genRow(tr, 0, with(txKey(tr, 1), stamp("run-1", batchID, day1)))
			writeRows(t, b, w.mem, tr.Name, row)
			b.AddCheckpoint(Checkpoint{Source: schemas.LegacySource, Stream: StreamDate, WindowStart: day1, WindowEnd: day2})
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			rec := mustRecord(t, w.mem, tr.Name, row)
			defer rec.Release()
			writeParquetWithString(t, w.mem, b.Files()[tr.Name], rec, tt.column, tt.value)

			err := w.sink.Commit(context.Background(), b)
			if err == nil {
				t.Fatal("Commit of an unloadable value succeeded")
			}
			t.Logf("error: %v", err)
			msg := err.Error()
			for _, p := range tt.planted {
				if strings.Contains(msg, p) {
					t.Errorf("the error quotes %q of the value", p)
				}
			}
			for _, want := range []string{"committing batch " + batchID, "loading " + crowdchange.Transactions} {
				if !strings.Contains(msg, want) {
					t.Errorf("the error does not say %q", want)
				}
			}
			for _, want := range tt.says[w.sinkName] {
				if !strings.Contains(msg, want) {
					t.Errorf("the error does not say %q", want)
				}
			}
		})
	}
	if cps := w.checkpoints(t); len(cps) != 0 {
		t.Errorf("%d checkpoints after failed commits", len(cps))
	}
	if n := w.count(t, "transactions_current"); n != "0" {
		t.Errorf("transactions_current has %s rows after failed commits", n)
	}
	w.noRowValues(t, planted...)
}

// writeParquetWithString rewrites path as rec with column col replaced by a string column holding
// value in every row.
func writeParquetWithString(t *testing.T, mem memory.Allocator, path string, rec arrow.Record, col, value string) {
	t.Helper()
	sb := array.NewStringBuilder(mem)
	defer sb.Release()
	for i := int64(0); i < rec.NumRows(); i++ {
		sb.Append(value)
	}
	arr := sb.NewArray()
	defer arr.Release()
	writeParquetWithColumn(t, mem, path, rec, col, arr)
}

// contractOlderColumns: an older warehouse gains the columns its tables lack, added nullable,
// empty on its rows; new batches load into the evolved tables.
func contractOlderColumns(t *testing.T, w *warehouse) {
	ctx := context.Background()
	for table, cols := range map[string][]string{crowdchange.Transactions: {"promo_code", "refund_children_ids"}, schemas.Runs: {"throttled"}} {
		have := w.columns(t, table)
		for _, c := range cols {
			if !contains(have, c) {
				t.Errorf("%s.%s was not added", table, c)
			}
		}
	}
	// The older rows: the new columns empty (a list NULL or empty, as the warehouse has it).
	q := "SELECT id FROM " + w.ref("transactions_current") + " WHERE promo_code IS NULL AND COALESCE(ARRAY_LENGTH(refund_children_ids), 0) = 0"
	if got := w.texts(t, q); !reflect.DeepEqual(got, []string{"1"}) {
		t.Errorf("the older row with its new columns empty: %v, want [1]", got)
	}
	runs, err := w.sink.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Run{legacyRun()}; !reflect.DeepEqual(runs, want) {
		t.Errorf("Runs() = %+v, want %+v", runs, want)
	}
	// New batches load into the evolved tables, every value in place.
	tr, _ := schemas.ByName(crowdchange.Transactions)
	b := newBatch(t, w.mem, "run-1", "batch-1")
	row := genRow(tr, 0, with(txKey(tr, 2), stamp("run-1", "batch-1", day2), map[string]any{"promo_code": "SPRING", "refund_children_ids": []int64{7, 8}}))
	writeRows(t, b, w.mem, tr.Name, row)
	b.AddCheckpoint(Checkpoint{Source: schemas.LegacySource, Stream: StreamDate, WindowStart: day2, WindowEnd: day3})
	if err := w.sink.Commit(ctx, b); err != nil {
		t.Fatalf("Commit after evolution: %v", err)
	}
	w.checkRow(t, tr, tr.CurrentView(), 2, row)
	if n := w.count(t, tr.CurrentView()); n != "2" {
		t.Errorf("%s has %s rows, want 2", tr.CurrentView(), n)
	}
	ended := legacyRun()
	ended.RunID, ended.StartedAt, ended.EndedAt, ended.Throttled = "run-1", day2, day2.Add(time.Minute), 3
	if err := w.sink.RecordRun(ctx, ended); err != nil {
		t.Fatal(err)
	}
	if runs, err := w.sink.Runs(ctx, 1); err != nil || len(runs) != 1 || runs[0].Throttled != 3 {
		t.Errorf("Runs(1) = %+v, %v; want run-1 with 3 throttled", runs, err)
	}
}

// contractLegacySource: bookkeeping tables from before sources gain the source column; their rows
// keep it NULL (the migration is additive) and read as crowdchange's, and plan with crowdchange's
// new windows, never another source's.
func contractLegacySource(t *testing.T, w *warehouse) {
	ctx := context.Background()
	for _, table := range []string{schemas.Checkpoints, schemas.Runs} {
		if !contains(w.columns(t, table), "source") {
			t.Errorf("%s.source was not added", table)
		}
		if n := w.texts(t, "SELECT count(*) FROM "+w.ref(table)+" WHERE source IS NULL"); !reflect.DeepEqual(n, []string{"1"}) {
			t.Errorf("%s: %v rows with a NULL source, want the older row's, 1", table, n)
		}
	}
	legacy := Checkpoint{Source: schemas.LegacySource, Stream: StreamDate, WindowStart: day1, WindowEnd: day2, RunID: "run-0", BatchID: "batch-0",
		CommittedAt: day2, Transactions: 1, Pages: 1}
	if cps := w.checkpoints(t); !reflect.DeepEqual(cps, []Checkpoint{legacy}) {
		t.Errorf("Checkpoints() = %+v, want %+v", cps, legacy)
	}
	runs, err := w.sink.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Run{legacyRun()}; !reflect.DeepEqual(runs, want) {
		t.Errorf("Runs() = %+v, want %+v", runs, want)
	}

	// crowdchange's next window continues the older ones; the other source's stand apart.
	cc := newBatch(t, w.mem, "run-1", "run-1-0001")
	cc.AddCheckpoint(Checkpoint{Source: schemas.LegacySource, Stream: StreamDate, WindowStart: day2, WindowEnd: day3})
	other := newBatch(t, w.mem, "run-2", "run-2-0001")
	other.AddCheckpoint(Checkpoint{Source: testSource, Stream: StreamDate, WindowStart: day3, WindowEnd: day3.AddDate(0, 0, 1)})
	for _, b := range []*Batch{cc, other} {
		if err := w.sink.Commit(ctx, b); err != nil {
			t.Fatalf("Commit %s: %v", b.ID(), err)
		}
	}
	cps := w.checkpoints(t)
	if len(cps) != 3 || cps[0].Source != testSource || cps[1].BatchID != "batch-0" || cps[2].BatchID != "run-1-0001" {
		t.Errorf("Checkpoints() = %+v, want %s's, then crowdchange's older and new", cps, testSource)
	}
	if wm, ok := Watermark(OfSource(cps, schemas.LegacySource), StreamDate, ""); !ok || !wm.Equal(day3) {
		t.Errorf("crowdchange's watermark = %v, %t; want %v (the older window and the new one)", wm, ok, day3)
	}
	if wm, ok := Watermark(OfSource(cps, testSource), StreamDate, ""); !ok || !wm.Equal(day3.AddDate(0, 0, 1)) {
		t.Errorf("%s's watermark = %v, %t; want %v", testSource, wm, ok, day3.AddDate(0, 0, 1))
	}
	if err := w.sink.RecordRun(ctx, Run{Source: testSource, RunID: "run-2", Verb: "sync", StartedAt: day3, Outcome: "running"}); err != nil {
		t.Fatal(err)
	}
	runs, err = w.sink.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Source != testSource || runs[1].Source != schemas.LegacySource {
		t.Errorf("Runs() = %+v, want %s's run, then the older crowdchange one", runs, testSource)
	}
}

// contractRefusesRetype: a warehouse whose column has another type than the schema's is refused
// at open, naming the table and the column and saying how they differ, and left as it was.
func contractRefusesRetype(t *testing.T, w *warehouse, r retypedColumn, says string) {
	t.Logf("error: %v", w.openErr)
	for _, want := range []string{"schema evolution refused", "table " + r.table + ", column " + r.column + ": " + says} {
		if !strings.Contains(w.openErr.Error(), want) {
			t.Errorf("error does not say %q", want)
		}
	}
	if errors.Is(w.openErr, ErrWarehouseUnavailable) {
		t.Error("a refused evolution is not an unavailable warehouse")
	}
	// Nothing changed: the column another table lacks was not added, no view was made.
	if contains(w.columns(t, crowdchange.Registrations), "comment") {
		t.Error("a refused open added a column")
	}
	if cols := w.columns(t, "transactions_current"); len(cols) != 0 {
		t.Error("a refused open created a view")
	}
}
