package bqtest_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/ccsync/ccsync/load/bqtest"
)

// ratOf parses decimal text.
func ratOf(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("bad decimal %q", s)
	}
	return r
}

// checkTxRows compares rows read through the client with the txRows loaded.
func checkTxRows(t *testing.T, got [][]bigquery.Value, want []txRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		var wantName bigquery.Value
		if w.name != nil {
			wantName = *w.name
		}
		var wantTags []bigquery.Value
		for _, tag := range w.tags {
			wantTags = append(wantTags, tag)
		}
		if g[0] != w.id || g[1] != wantName || g[2] != w.active {
			t.Errorf("row %d: id/name/active = %v %v %v, want %v %v %v", i, g[0], g[1], g[2], w.id, wantName, w.active)
		}
		if r, ok := g[3].(*big.Rat); !ok || r.Cmp(ratOf(t, w.amount)) != 0 {
			t.Errorf("row %d: amount = %v, want %s", i, g[3], w.amount)
		}
		if ts, ok := g[4].(time.Time); !ok || !ts.Equal(w.created) {
			t.Errorf("row %d: created_at = %v, want %v", i, g[4], w.created)
		}
		if g[5] != civil.DateOf(w.day) {
			t.Errorf("row %d: day = %v, want %v", i, g[5], civil.DateOf(w.day))
		}
		if !reflect.DeepEqual(g[6], wantTags) && !(len(wantTags) == 0 && g[6] == nil) {
			if gv, ok := g[6].([]bigquery.Value); !ok || len(gv) != 0 || len(wantTags) != 0 {
				t.Errorf("row %d: tags = %#v, want %#v", i, g[6], wantTags)
			}
		}
	}
}

func TestLoadParquetRoundTrip(t *testing.T) {
	srv, c := start(t, bqtest.Options{})
	ctx := context.Background()
	createDataset(t, c)
	tb := createTxTable(t, c, "tx")
	data := txParquet(t, sampleRows)

	j, err := loader(tb, data, "load-tx-1").Run(ctx)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if j.ID() != "load-tx-1" || j.Location() != "US" {
		t.Errorf("job = %s in %q", j.ID(), j.Location())
	}
	st := waitJob(t, j)
	if st.Err() != nil {
		t.Fatalf("load failed: %v", st.Err())
	}
	if ls, ok := st.Statistics.Details.(*bigquery.LoadStatistics); !ok || ls.OutputRows != 3 || ls.InputFileBytes != int64(len(data)) {
		t.Errorf("load statistics = %+v", st.Statistics.Details)
	}

	checkTxRows(t, readAll(t, c, "SELECT id, name, active, amount, created_at, day, tags FROM `proj.ds.tx` ORDER BY id"), sampleRows)

	// The same rows through tabledata.list (Table.Read).
	it := tb.Read(ctx)
	var viaTable [][]bigquery.Value
	for {
		var row []bigquery.Value
		err := it.Next(&row)
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatalf("table read: %v", err)
		}
		viaTable = append(viaTable, row)
	}
	checkTxRows(t, viaTable, sampleRows)

	// DuckDB holds exact NUMERIC(38, 9) values and UTC instants.
	rows, err := srv.Query(`SELECT amount::VARCHAR, strftime(created_at, '%Y-%m-%dT%H:%M:%S.%f') FROM "ds"."tx" ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var amount, created string
		if err := rows.Scan(&amount, &created); err != nil {
			t.Fatal(err)
		}
		got = append(got, amount+" "+created)
	}
	want := []string{
		"105.150000000 2024-03-01T12:30:00.123456",
		"-0.000000001 2024-03-02T00:00:00.000000",
		"99999999999999999999999999999.999999999 1999-12-31T23:59:59.999999",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DuckDB rows = %q, want %q", got, want)
	}

	info, ok := srv.Job("load-tx-1")
	if !ok || info.Type != bqtest.JobTypeLoad || info.State != bqtest.StateDone || info.OutputRows != 3 || info.InsertAttempts != 1 || info.Dataset != "ds" || info.Table != "tx" {
		t.Errorf("job info = %+v", info)
	}
	md, err := tb.Metadata(ctx)
	if err != nil || md.NumRows != 3 {
		t.Errorf("metadata rows = %v, %v", md.NumRows, err)
	}
}

func TestJobAdvancesOneStatePerPoll(t *testing.T) {
	srv, c := start(t, bqtest.Options{PollsToDone: 3})
	ctx := context.Background()
	createDataset(t, c)
	tb := createTxTable(t, c, "tx")
	j, err := loader(tb, txParquet(t, sampleRows), "load-states").Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	count := func() int64 {
		var n int64
		if err := srv.DB().QueryRow(`SELECT count(*) FROM "ds"."tx"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	steps := []struct {
		state bigquery.State
		rows  int64
	}{
		{bigquery.Pending, 0}, // the insert's answer
		{bigquery.Running, 0},
		{bigquery.Running, 0},
		{bigquery.Done, 3},
		{bigquery.Done, 3},
	}
	for i, step := range steps {
		var st *bigquery.JobStatus
		if i == 0 {
			st = j.LastStatus()
		} else if st, err = j.Status(ctx); err != nil {
			t.Fatal(err)
		}
		if st.State != step.state || count() != step.rows {
			t.Errorf("step %d: state %v rows %d, want %v %d", i, st.State, count(), step.state, step.rows)
		}
	}
	if info, _ := srv.Job("load-states"); info.Polls != 4 {
		t.Errorf("polls = %d, want 4", info.Polls)
	}
}

func TestDoneOnInsert(t *testing.T) {
	srv, c := start(t, bqtest.Options{PollsToDone: bqtest.DoneOnInsert})
	ctx := context.Background()
	createDataset(t, c)
	tb := createTxTable(t, c, "tx")
	j, err := loader(tb, txParquet(t, sampleRows), "load-now").Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st := j.LastStatus(); !st.Done() || st.Err() != nil {
		t.Fatalf("status in the insert's answer = %+v", st)
	}
	if info, _ := srv.Job("load-now"); info.OutputRows != 3 {
		t.Errorf("output rows = %d", info.OutputRows)
	}
}

func TestSameJobIDTwiceAppendsOnce(t *testing.T) {
	srv, c := start(t, bqtest.Options{})
	ctx := context.Background()
	createDataset(t, c)
	tb := createTxTable(t, c, "tx")
	data := txParquet(t, sampleRows)
	j, err := loader(tb, data, "load-dup").Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = loader(tb, data, "load-dup").Run(ctx)
	code, reason := apiCode(err)
	if code != http.StatusConflict || reason != "duplicate" || !strings.Contains(err.Error(), "Already Exists: Job proj:US.load-dup") {
		t.Fatalf("second insert: %v (code %d reason %q), want 409 duplicate", err, code, reason)
	}
	if st := waitJob(t, j); st.Err() != nil {
		t.Fatal(st.Err())
	}
	// The second upload after the first completed: still 409, still one append.
	if _, err := loader(tb, data, "load-dup").Run(ctx); err == nil {
		t.Fatal("third insert succeeded")
	}
	if got := readAll(t, c, "SELECT count(*) FROM `proj.ds.tx`"); got[0][0] != int64(3) {
		t.Errorf("rows = %v, want 3", got[0][0])
	}
	info, _ := srv.Job("load-dup")
	if info.InsertAttempts != 3 || srv.JobInserts() != 3 || srv.LoadJobs("ds", "tx") != 1 {
		t.Errorf("attempts %d, inserts %d, load jobs %d; want 3, 3, 1", info.InsertAttempts, srv.JobInserts(), srv.LoadJobs("ds", "tx"))
	}
	if ids := srv.JobIDs(); !reflect.DeepEqual(ids, []string{"load-dup"}) {
		t.Errorf("job IDs = %v", ids)
	}
}

// appendValue appends v (nil for NULL) to b.
func appendValue(t *testing.T, b array.Builder, v any) {
	t.Helper()
	if v == nil {
		b.AppendNull()
		return
	}
	switch bb := b.(type) {
	case *array.Int64Builder:
		bb.Append(v.(int64))
	case *array.Int32Builder:
		bb.Append(v.(int32))
	case *array.StringBuilder:
		bb.Append(v.(string))
	case *array.BooleanBuilder:
		bb.Append(v.(bool))
	case *array.Float64Builder:
		bb.Append(v.(float64))
	case *array.Decimal128Builder:
		dt := bb.Type().(*arrow.Decimal128Type)
		r := ratOf(t, v.(string))
		r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dt.Scale)), nil)))
		bb.Append(decimal128FromRat(t, r))
	case *array.TimestampBuilder:
		ts := v.(time.Time)
		switch bb.Type().(*arrow.TimestampType).Unit {
		case arrow.Millisecond:
			bb.Append(arrow.Timestamp(ts.UnixMilli()))
		default:
			bb.Append(arrow.Timestamp(ts.UnixMicro()))
		}
	case *array.Date32Builder:
		bb.Append(arrow.Date32FromTime(v.(time.Time)))
	case *array.ListBuilder:
		bb.Append(true)
		for _, e := range v.([]any) {
			appendValue(t, bb.ValueBuilder(), e)
		}
	default:
		t.Fatalf("appendValue: builder %T", b)
	}
}

// parquetOf writes rows (one value per field) as Parquet with the given schema.
func parquetOf(t *testing.T, fields []arrow.Field, rows ...[]any) []byte {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer b.Release()
	for _, row := range rows {
		for i, v := range row {
			appendValue(t, b.Field(i), v)
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	return parquetBytes(t, mem, rec)
}

var (
	fID      = arrow.Field{Name: "id", Type: arrow.PrimitiveTypes.Int64}
	fCreated = arrow.Field{Name: "created_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}}
	created0 = time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
)

func TestLoadSchemaChecks(t *testing.T) {
	type check func(t *testing.T, c *bigquery.Client, table string)
	cases := []struct {
		name   string
		data   func(t *testing.T) []byte
		config func(l *bigquery.Loader)
		// wantErr is a substring of the errorResult message (reason invalid); "" for success.
		wantErr string
		check   check
	}{
		{
			name: "DOUBLE into NUMERIC",
			data: func(t *testing.T) []byte {
				return parquetOf(t, []arrow.Field{fID, fCreated, {Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, []any{int64(1), created0, 1.5})
			},
			wantErr: "Field amount has changed type from NUMERIC to FLOAT",
		},
		{
			name:    "missing REQUIRED column",
			data:    func(t *testing.T) []byte { return parquetOf(t, []arrow.Field{fID}, []any{int64(1)}) },
			wantErr: "Field created_at is missing in new schema",
		},
		{
			name: "unknown column",
			data: func(t *testing.T) []byte {
				return parquetOf(t, []arrow.Field{fID, fCreated, {Name: "extra", Type: arrow.BinaryTypes.String, Nullable: true}}, []any{int64(1), created0, "x"})
			},
			wantErr: "Cannot add fields (field: extra)",
		},
		{
			name: "unknown column with ALLOW_FIELD_ADDITION",
			data: func(t *testing.T) []byte {
				return parquetOf(t, []arrow.Field{fID, fCreated, {Name: "extra", Type: arrow.BinaryTypes.String}}, []any{int64(1), created0, "x"})
			},
			config: func(l *bigquery.Loader) {
				l.SchemaUpdateOptions = []string{"ALLOW_FIELD_ADDITION"}
			},
			check: func(t *testing.T, c *bigquery.Client, table string) {
				md, err := c.Dataset(testDataset).Table(table).Metadata(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				last := md.Schema[len(md.Schema)-1]
				if last.Name != "extra" || last.Type != bigquery.StringFieldType || last.Required || last.Repeated {
					t.Errorf("added field = %+v, want NULLABLE STRING extra", *last)
				}
				if got := readAll(t, c, "SELECT extra FROM `ds."+table+"`"); got[0][0] != "x" {
					t.Errorf("extra = %v", got)
				}
			},
		},
		{
			name: "STRING into INT64",
			data: func(t *testing.T) []byte {
				return parquetOf(t, []arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}, fCreated}, []any{"1", created0})
			},
			wantErr: "Field id has changed type from INTEGER to STRING",
		},
		{
			name: "OPTIONAL Parquet column into a REQUIRED column",
			data: func(t *testing.T) []byte {
				return parquetOf(t, []arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, fCreated}, []any{int64(1), created0})
			},
			wantErr: "Field id has changed mode from REQUIRED to NULLABLE",
		},
		{
			name: "OPTIONAL column into REQUIRED with the table schema given: data checked",
			data: func(t *testing.T) []byte {
				return parquetOf(t, []arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, fCreated}, []any{int64(1), created0})
			},
			config: func(l *bigquery.Loader) { l.Src.(*bigquery.ReaderSource).Schema = txSchema },
		},
		{
			name: "NULL into REQUIRED with the table schema given",
			data: func(t *testing.T) []byte {
				return parquetOf(t, []arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, fCreated}, []any{int64(1), created0}, []any{nil, created0})
			},
			config:  func(l *bigquery.Loader) { l.Src.(*bigquery.ReaderSource).Schema = txSchema },
			wantErr: "Required field id cannot be null",
		},
		{
			name: "LIST into a non-REPEATED column",
			data: func(t *testing.T) []byte {
				return parquetOf(t, []arrow.Field{fID, fCreated, {Name: "name", Type: arrow.ListOfNonNullable(arrow.BinaryTypes.String)}}, []any{int64(1), created0, []any{"a"}})
			},
			wantErr: "Field name has changed mode from NULLABLE to REPEATED",
		},
		{
			name:    "LIST without list inference is a RECORD",
			data:    func(t *testing.T) []byte { return txParquet(t, sampleRows) },
			config:  func(l *bigquery.Loader) { l.Src.(*bigquery.ReaderSource).ParquetOptions = nil },
			wantErr: "Field tags has changed type from INTEGER to RECORD",
		},
		{
			name: "NULL element in a list",
			data: func(t *testing.T) []byte {
				return parquetOf(t, []arrow.Field{fID, fCreated, {Name: "tags", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)}}, []any{int64(1), created0, []any{int64(1), nil}})
			},
			wantErr: "REPEATED field tags has a NULL element",
		},
		{
			name: "INT32 into INT64",
			data: func(t *testing.T) []byte {
				return parquetOf(t, []arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int32}, fCreated}, []any{int32(42), created0})
			},
			check: func(t *testing.T, c *bigquery.Client, table string) {
				if got := readAll(t, c, "SELECT id, tags FROM `ds."+table+"`"); got[0][0] != int64(42) || !reflect.DeepEqual(got[0][1], []bigquery.Value(nil)) {
					t.Errorf("row = %v, want [42 []]", got[0])
				}
			},
		},
		{
			name: "DECIMAL(10,2) into NUMERIC",
			data: func(t *testing.T) []byte {
				return parquetOf(t, []arrow.Field{fID, fCreated, {Name: "amount", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}}}, []any{int64(1), created0, "12345678.91"})
			},
			check: func(t *testing.T, c *bigquery.Client, table string) {
				got := readAll(t, c, "SELECT amount FROM `ds."+table+"`")
				if r, ok := got[0][0].(*big.Rat); !ok || r.Cmp(ratOf(t, "12345678.91")) != 0 {
					t.Errorf("amount = %v", got[0][0])
				}
			},
		},
		{
			name: "DECIMAL(38,0) is BIGNUMERIC",
			data: func(t *testing.T) []byte {
				return parquetOf(t, []arrow.Field{fID, fCreated, {Name: "amount", Type: &arrow.Decimal128Type{Precision: 38, Scale: 0}}}, []any{int64(1), created0, "1"})
			},
			wantErr: "Field amount has changed type from NUMERIC to BIGNUMERIC",
		},
		{
			name: "TIMESTAMP(MILLIS, UTC) into TIMESTAMP",
			data: func(t *testing.T) []byte {
				return parquetOf(t, []arrow.Field{fID, {Name: "created_at", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}}}, []any{int64(1), created0.Add(1500 * time.Millisecond)})
			},
			check: func(t *testing.T, c *bigquery.Client, table string) {
				if got := readAll(t, c, "SELECT created_at FROM `ds."+table+"`"); !got[0][0].(time.Time).Equal(created0.Add(1500 * time.Millisecond)) {
					t.Errorf("created_at = %v", got[0][0])
				}
			},
		},
		{
			name: "TIMESTAMP not adjusted to UTC is a DATETIME",
			data: func(t *testing.T) []byte {
				return parquetOf(t, []arrow.Field{fID, {Name: "created_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond}}}, []any{int64(1), created0})
			},
			wantErr: "Field created_at has changed type from TIMESTAMP to DATETIME",
		},
		{
			name:    "not a Parquet file",
			data:    func(t *testing.T) []byte { return []byte("id,created_at\n1,2024-01-01\n") },
			wantErr: "Failed to read the uploaded file as Parquet",
		},
		{
			name: "only some columns",
			data: func(t *testing.T) []byte {
				return parquetOf(t, []arrow.Field{fID, fCreated}, []any{int64(7), created0})
			},
			check: func(t *testing.T, c *bigquery.Client, table string) {
				got := readAll(t, c, "SELECT id, name, amount, tags FROM `ds."+table+"`")
				if want := []bigquery.Value{int64(7), nil, nil, []bigquery.Value(nil)}; !reflect.DeepEqual(got[0], want) {
					t.Errorf("row = %#v, want %#v", got[0], want)
				}
			},
		},
	}
	srv, c := start(t, bqtest.Options{})
	createDataset(t, c)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			table := fmt.Sprintf("t%d", i)
			tb := createTxTable(t, c, table)
			l := loader(tb, tc.data(t), "check-"+table)
			if tc.config != nil {
				tc.config(l)
			}
			j, err := l.Run(ctx)
			if err != nil {
				t.Fatalf("insert: %v", err)
			}
			st := waitJob(t, j)
			if tc.wantErr == "" {
				if st.Err() != nil {
					t.Fatalf("load failed: %v", st.Err())
				}
				if tc.check != nil {
					tc.check(t, c, table)
				}
				return
			}
			var be *bigquery.Error
			if !errors.As(st.Err(), &be) || be.Reason != "invalid" || !strings.Contains(be.Message, tc.wantErr) {
				t.Fatalf("errorResult = %v, want reason invalid with %q", st.Err(), tc.wantErr)
			}
			if len(st.Errors) != 1 || st.Errors[0].Reason != "invalid" {
				t.Errorf("status.errors = %v", st.Errors)
			}
			if got := readAll(t, c, "SELECT count(*) FROM `ds."+table+"`"); got[0][0] != int64(0) {
				t.Errorf("a failed load wrote %v rows", got[0][0])
			}
			if info, _ := srv.Job("check-" + table); info.ErrorReason != "invalid" {
				t.Errorf("job info = %+v", info)
			}
		})
	}
}

func TestWriteAndCreateDispositions(t *testing.T) {
	oneRow := []txRow{sampleRows[0]}
	cases := []struct {
		name      string
		preload   bool // load sampleRows first
		table     string
		config    func(l *bigquery.Loader)
		wantErr   string // reason:substring
		wantCount int64
	}{
		{name: "WRITE_APPEND appends", preload: true, table: "tx", wantCount: 4},
		{name: "WRITE_TRUNCATE replaces", preload: true, table: "tx", config: func(l *bigquery.Loader) { l.WriteDisposition = bigquery.WriteTruncate }, wantCount: 1},
		{name: "WRITE_EMPTY into a non-empty table", preload: true, table: "tx", config: func(l *bigquery.Loader) { l.WriteDisposition = bigquery.WriteEmpty }, wantErr: "duplicate:Already Exists: Table proj:ds.tx", wantCount: 3},
		{name: "WRITE_EMPTY into an empty table", table: "tx", config: func(l *bigquery.Loader) { l.WriteDisposition = bigquery.WriteEmpty }, wantCount: 1},
		{name: "CREATE_NEVER into a missing table", table: "missing", wantErr: "notFound:Not found: Table proj:ds.missing"},
		{name: "CREATE_IF_NEEDED creates the table from the file", table: "created", config: func(l *bigquery.Loader) {
			l.CreateDisposition = bigquery.CreateIfNeeded
			l.TimePartitioning = &bigquery.TimePartitioning{Field: "day"}
			l.Clustering = &bigquery.Clustering{Fields: []string{"id"}}
		}, wantCount: 1},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := start(t, bqtest.Options{PollsToDone: bqtest.DoneOnInsert})
			ctx := context.Background()
			createDataset(t, c)
			createTxTable(t, c, "tx")
			if tc.preload {
				if _, err := loader(c.Dataset(testDataset).Table("tx"), txParquet(t, sampleRows), "pre").Run(ctx); err != nil {
					t.Fatal(err)
				}
			}
			tb := c.Dataset(testDataset).Table(tc.table)
			l := loader(tb, txParquet(t, oneRow), fmt.Sprintf("job-%d", i))
			if tc.config != nil {
				tc.config(l)
			}
			j, err := l.Run(ctx)
			if err != nil {
				t.Fatalf("insert: %v", err)
			}
			st := j.LastStatus()
			if tc.wantErr != "" {
				reason, msg, _ := strings.Cut(tc.wantErr, ":")
				var be *bigquery.Error
				if !errors.As(st.Err(), &be) || be.Reason != reason || !strings.Contains(be.Message, msg) {
					t.Fatalf("errorResult = %v, want %s", st.Err(), tc.wantErr)
				}
			} else if st.Err() != nil {
				t.Fatalf("load failed: %v", st.Err())
			}
			if tc.wantCount == 0 {
				return
			}
			var n int64
			if err := srv.DB().QueryRow(`SELECT count(*) FROM "ds"."` + tc.table + `"`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != tc.wantCount {
				t.Errorf("rows = %d, want %d", n, tc.wantCount)
			}
			if tc.table == "created" {
				md, err := tb.Metadata(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if md.TimePartitioning == nil || md.TimePartitioning.Field != "day" || md.Clustering == nil || len(md.Schema) != len(txSchema) {
					t.Fatalf("created table = %+v", md)
				}
				for k, f := range md.Schema {
					w := txSchema[k]
					if f.Name != w.Name || f.Type != w.Type || f.Required != w.Required || f.Repeated != w.Repeated {
						t.Errorf("field %d = %+v, want %+v", k, *f, *w)
					}
				}
			}
		})
	}
}

// recorder is an http.RoundTripper that remembers the upload requests it carried.
type recorder struct {
	mu   sync.Mutex
	reqs []string
	next http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.URL.Path, "/upload/") {
		q := req.URL.Query()
		kind := q.Get("uploadType")
		if q.Get("upload_id") != "" {
			kind = "chunk " + req.Header.Get("Content-Range")
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Method+" "+kind)
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

// bigRows are rows with incompressible names, to make a Parquet file of about 1 MB.
func bigRows(n int) []txRow {
	rnd := rand.New(rand.NewSource(1))
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	rows := make([]txRow, n)
	for i := range rows {
		b := make([]byte, 100)
		for k := range b {
			b[k] = letters[rnd.Intn(len(letters))]
		}
		rows[i] = txRow{id: int64(i), name: strp(string(b)), amount: fmt.Sprintf("%d.%02d", i, i%100), created: created0.Add(time.Duration(i) * time.Second), day: created0, tags: []int64{int64(i)}}
	}
	return rows
}

func TestUploadProtocols(t *testing.T) {
	big := txParquet(t, bigRows(8000))
	small := txParquet(t, sampleRows)
	const chunk = 256 * 1024
	if len(big) < 3*chunk {
		t.Fatalf("the big file has %d bytes, want more than %d", len(big), 3*chunk)
	}
	cases := []struct {
		name      string
		data      []byte
		chunkSize int // 0: the client's default (16 MiB)
		rows      int64
		want      func(reqs []string) error
	}{
		{"small file: multipart", small, 0, 3, func(reqs []string) error {
			if !reflect.DeepEqual(reqs, []string{"POST multipart"}) {
				return fmt.Errorf("requests = %q", reqs)
			}
			return nil
		}},
		{"file above ChunkSize: resumable in chunks", big, chunk, 8000, func(reqs []string) error {
			if len(reqs) < 4 || reqs[0] != "POST resumable" {
				return fmt.Errorf("requests = %q, want an initiation then 3+ chunks", reqs)
			}
			if !strings.HasSuffix(reqs[1], "/*") || !strings.HasSuffix(reqs[len(reqs)-1], fmt.Sprintf("/%d", len(big))) {
				return fmt.Errorf("requests = %q, want open-ended chunks then a final one", reqs)
			}
			return nil
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := bqtest.Start(t, bqtest.Options{Project: testProject})
			rec := &recorder{next: srv.HTTPClient().Transport}
			ctx := context.Background()
			c, err := bigquery.NewClient(ctx, testProject, option.WithEndpoint(srv.Endpoint()), option.WithoutAuthentication(), option.WithHTTPClient(&http.Client{Transport: rec}))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			createDataset(t, c)
			tb := createTxTable(t, c, "tx")
			l := loader(tb, tc.data, fmt.Sprintf("upload-%d", i))
			if tc.chunkSize > 0 {
				l.MediaOptions = []googleapi.MediaOption{googleapi.ChunkSize(tc.chunkSize)}
			}
			j, err := l.Run(ctx)
			if err != nil {
				t.Fatalf("insert: %v", err)
			}
			if st := waitJob(t, j); st.Err() != nil {
				t.Fatalf("load failed: %v", st.Err())
			}
			if err := tc.want(rec.requests()); err != nil {
				t.Error(err)
			}
			if got := readAll(t, c, "SELECT count(*), sum(id) FROM `ds.tx`"); got[0][0] != tc.rows {
				t.Errorf("count = %v, want %d", got[0][0], tc.rows)
			}
			if info, _ := srv.Job(j.ID()); info.InsertAttempts != 1 || srv.JobInserts() != 1 {
				t.Errorf("attempts %d inserts %d, want 1 1", info.InsertAttempts, srv.JobInserts())
			}
		})
	}
}

func TestResumableDuplicateJobID(t *testing.T) {
	srv, c := start(t, bqtest.Options{PollsToDone: bqtest.DoneOnInsert})
	ctx := context.Background()
	createDataset(t, c)
	tb := createTxTable(t, c, "tx")
	data := txParquet(t, bigRows(3000))
	for attempt := 0; attempt < 2; attempt++ {
		l := loader(tb, data, "resumable-dup")
		l.MediaOptions = []googleapi.MediaOption{googleapi.ChunkSize(256 * 1024)}
		_, err := l.Run(ctx)
		if attempt == 0 && err != nil {
			t.Fatal(err)
		}
		if attempt == 1 {
			if code, reason := apiCode(err); code != http.StatusConflict || reason != "duplicate" {
				t.Fatalf("second resumable insert: %v, want 409 duplicate", err)
			}
		}
	}
	if info, _ := srv.Job("resumable-dup"); info.OutputRows != 3000 || info.InsertAttempts != 2 {
		t.Errorf("job = %+v", info)
	}
}

func TestLoadQuotaPerTablePerDay(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 5, 1, 23, 0, 0, 0, time.UTC)}
	srv, c := start(t, bqtest.Options{LoadJobsPerTablePerDay: 3, Now: clock.Now, PollsToDone: bqtest.DoneOnInsert})
	ctx := context.Background()
	createDataset(t, c)
	tb := createTxTable(t, c, "tx")
	other := createTxTable(t, c, "other")
	data := txParquet(t, sampleRows)
	// The second job fails: failed jobs count too.
	srv.InjectFault(bqtest.Fault{Kind: bqtest.JobInvalid, Match: func(c bqtest.Call) bool { return c.JobID == "q2" }})
	for _, id := range []string{"q1", "q2", "q3"} {
		if _, err := loader(tb, data, id).Run(ctx); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	_, err := loader(tb, data, "q4").Run(ctx)
	code, reason := apiCode(err)
	if code != http.StatusForbidden || reason != "quotaExceeded" || !strings.Contains(err.Error(), "Quota exceeded: Your table exceeded quota for imports or query appends per table") {
		t.Fatalf("fourth load: %v (code %d reason %q), want 403 quotaExceeded", err, code, reason)
	}
	if _, ok := srv.Job("q4"); ok {
		t.Error("a refused load created a job")
	}
	// Another table has its own quota.
	if _, err := loader(other, data, "o1").Run(ctx); err != nil {
		t.Fatalf("other table: %v", err)
	}
	// The next UTC day the same job ID goes through.
	clock.Advance(2 * time.Hour)
	j, err := loader(tb, data, "q4").Run(ctx)
	if err != nil {
		t.Fatalf("next day: %v", err)
	}
	if err := j.LastStatus().Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := srv.LoadJobsByDay("ds", "tx"), map[string]int{"2024-05-01": 3, "2024-05-02": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("by day = %v, want %v", got, want)
	}
	if srv.LoadJobs("ds", "tx") != 4 || srv.LoadJobs("ds", "other") != 1 || srv.JobInserts() != 6 {
		t.Errorf("load jobs %d/%d inserts %d, want 4/1 6", srv.LoadJobs("ds", "tx"), srv.LoadJobs("ds", "other"), srv.JobInserts())
	}
	// 3 rows from q1, q3 and q4 each; q2 failed.
	if got := readAll(t, c, "SELECT count(*) FROM `ds.tx`"); got[0][0] != int64(9) {
		t.Errorf("rows = %v, want 9", got[0][0])
	}
}

func TestConcurrentLoads(t *testing.T) {
	srv, c := start(t, bqtest.Options{})
	ctx := context.Background()
	createDataset(t, c)
	tb := createTxTable(t, c, "tx")
	data := txParquet(t, sampleRows)
	var g errgroup.Group
	const n = 8
	for i := 0; i < n; i++ {
		g.Go(func() error {
			j, err := loader(tb, data, fmt.Sprintf("par-%d", i)).Run(ctx)
			if err != nil {
				return err
			}
			for k := 0; k < 5; k++ {
				st, err := j.Status(ctx)
				if err != nil {
					return err
				}
				if st.Done() {
					return st.Err()
				}
			}
			return fmt.Errorf("job %s not done", j.ID())
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c, "SELECT count(*) FROM `ds.tx`"); got[0][0] != int64(3*n) {
		t.Errorf("rows = %v, want %d", got[0][0], 3*n)
	}
	loads := 0
	for _, j := range srv.Jobs() {
		if j.Type == bqtest.JobTypeLoad && j.State == bqtest.StateDone && j.OutputRows == 3 {
			loads++
		}
	}
	if loads != n {
		t.Errorf("%d successful load jobs, want %d", loads, n)
	}
}

// TestResumableRawProtocol drives a resumable upload by hand: PUTs without the no-308 header, a
// status query, a retried overlapping chunk, and the final chunk.
func TestResumableRawProtocol(t *testing.T) {
	srv, c := start(t, bqtest.Options{PollsToDone: bqtest.DoneOnInsert})
	createDataset(t, c)
	createTxTable(t, c, "tx")
	data := txParquet(t, sampleRows)
	job := `{"jobReference":{"jobId":"raw-resumable"},"configuration":{"load":{"sourceFormat":"PARQUET","destinationTable":{"projectId":"proj","datasetId":"ds","tableId":"tx"},"parquetOptions":{"enableListInference":true}}}}`
	hc := srv.HTTPClient()
	do := func(method, url, contentRange string, body []byte) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, url, strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		if contentRange != "" {
			req.Header.Set("Content-Range", contentRange)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := do(http.MethodPost, srv.URL()+"/upload/bigquery/v2/projects/proj/jobs?uploadType=resumable", "", []byte(job))
	session := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusOK || !strings.Contains(session, "upload_id=") {
		t.Fatalf("initiation: %d, Location %q", resp.StatusCode, session)
	}
	half := len(data) / 2
	steps := []struct {
		name, contentRange string
		body               []byte
		code               int
		wantRange          string
	}{
		{"first half", fmt.Sprintf("bytes 0-%d/*", half-1), data[:half], http.StatusPermanentRedirect, fmt.Sprintf("bytes=0-%d", half-1)},
		{"status query", "bytes */*", nil, http.StatusPermanentRedirect, fmt.Sprintf("bytes=0-%d", half-1)},
		{"gap refused", fmt.Sprintf("bytes %d-%d/%d", half+10, len(data)-1, len(data)), data[half+10:], http.StatusBadRequest, ""},
		{"overlapping retry, then the rest", fmt.Sprintf("bytes %d-%d/%d", half-10, len(data)-1, len(data)), data[half-10:], http.StatusOK, ""},
		{"completed: answered again", fmt.Sprintf("bytes */%d", len(data)), nil, http.StatusOK, ""},
	}
	for _, st := range steps {
		resp := do(http.MethodPut, session, st.contentRange, st.body)
		if resp.StatusCode != st.code || resp.Header.Get("Range") != st.wantRange {
			t.Fatalf("%s: %d Range %q, want %d %q", st.name, resp.StatusCode, resp.Header.Get("Range"), st.code, st.wantRange)
		}
	}
	info, ok := srv.Job("raw-resumable")
	if !ok || info.OutputRows != 3 || info.State != bqtest.StateDone || srv.JobInserts() != 1 {
		t.Errorf("job %+v, inserts %d", info, srv.JobInserts())
	}
}
