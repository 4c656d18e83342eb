package bqtest_test

import (
	"context"
	"errors"
	"math/big"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"

	"github.com/ccsync/ccsync/load/bqtest"
)

// loadSample creates ds.tx and loads sampleRows into it.
func loadSample(t *testing.T, c *bigquery.Client) {
	t.Helper()
	createDataset(t, c)
	tb := createTxTable(t, c, "tx")
	j, err := loader(tb, txParquet(t, sampleRows), "sample").Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st := waitJob(t, j); st.Err() != nil {
		t.Fatal(st.Err())
	}
}

func TestQueryJobWithClientJobID(t *testing.T) {
	srv, c := start(t, bqtest.Options{PollsToDone: 3})
	ctx := context.Background()
	loadSample(t, c)
	q := c.Query("SELECT id, amount FROM `proj.ds.tx` WHERE active ORDER BY id")
	q.JobID = "query-1"
	j, err := q.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	it, err := j.Read(ctx) // polls jobs.getQueryResults until DONE
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for {
		var row []bigquery.Value
		err := it.Next(&row)
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, row[0].(int64))
	}
	if !reflect.DeepEqual(got, []int64{1, 3}) || it.TotalRows != 2 {
		t.Errorf("ids = %v total %d, want [1 3] 2", got, it.TotalRows)
	}
	if info, _ := srv.Job("query-1"); info.Type != bqtest.JobTypeQuery || info.State != bqtest.StateDone {
		t.Errorf("job = %+v", info)
	}
	st, err := j.Status(ctx)
	if err != nil || !st.Done() {
		t.Fatalf("status %v %v", st, err)
	}
	if qs, ok := st.Statistics.Details.(*bigquery.QueryStatistics); !ok || qs.StatementType != "SELECT" || len(qs.Schema) != 2 {
		t.Errorf("query statistics = %+v", st.Statistics.Details)
	}
	_, err = q.Run(ctx)
	if code, reason := apiCode(err); code != http.StatusConflict || reason != "duplicate" {
		t.Errorf("same job ID again: %v, want 409 duplicate", err)
	}
}

func TestQueryParametersAndDialect(t *testing.T) {
	_, c := start(t, bqtest.Options{})
	ctx := context.Background()
	loadSample(t, c)
	cases := []struct {
		name   string
		sql    string
		params []bigquery.QueryParameter
		want   [][]bigquery.Value
	}{
		{"named parameters", "SELECT id FROM `proj.ds.tx` WHERE id >= @min AND amount < @max ORDER BY id",
			[]bigquery.QueryParameter{{Name: "min", Value: 2}, {Name: "max", Value: big.NewRat(1000, 1)}},
			[][]bigquery.Value{{int64(2)}}},
		{"positional parameters", "SELECT id FROM `proj.ds.tx` WHERE created_at < ? AND name = ?",
			[]bigquery.QueryParameter{{Value: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}, {Value: `Émile "quoted"`}},
			[][]bigquery.Value{{int64(3)}}},
		{"double-quoted strings and # comments", "SELECT \"a\\\"b\" AS s, 'it\\'s' AS t # a comment\nFROM `ds`.`tx` WHERE id = 1", nil,
			[][]bigquery.Value{{`a"b`, "it's"}}},
		{"unnamed columns and aggregates", "SELECT count(*), sum(amount) FROM ds.tx WHERE id < 3", nil,
			[][]bigquery.Value{{int64(2), mustRat("105.149999999")}}},
		{"arrays and structs", "SELECT [1, 2] AS a, {'x': 1, 'y': 'z'} AS s", nil,
			[][]bigquery.Value{{[]bigquery.Value{int64(1), int64(2)}, []bigquery.Value{int64(1), "z"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := c.Query(tc.sql)
			q.Parameters = tc.params
			it, err := q.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got [][]bigquery.Value
			for {
				var row []bigquery.Value
				err := it.Next(&row)
				if errors.Is(err, iterator.Done) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, row)
			}
			if !equalValues(got, tc.want) {
				t.Errorf("rows = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func mustRat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("bad rational " + s)
	}
	return r
}

// equalValues compares rows, *big.Rat by value.
func equalValues(a, b [][]bigquery.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for k := range a[i] {
			ra, okA := a[i][k].(*big.Rat)
			rb, okB := b[i][k].(*big.Rat)
			if okA && okB {
				if ra.Cmp(rb) != 0 {
					return false
				}
				continue
			}
			if !reflect.DeepEqual(a[i][k], b[i][k]) {
				return false
			}
		}
	}
	return true
}

func TestQueryErrors(t *testing.T) {
	_, c := start(t, bqtest.Options{})
	ctx := context.Background()
	createDataset(t, c)
	cases := []struct {
		name   string
		sql    string
		code   int
		reason string
	}{
		{"missing table", "SELECT * FROM `proj.ds.missing`", 404, "notFound"},
		{"syntax error", "SELEC 1", 400, "invalidQuery"},
		{"conversion error hides the value", "SELECT CAST('secret-value' AS BIGINT)", 400, "invalidQuery"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Query(tc.sql).Read(ctx)
			code, reason := apiCode(err)
			if code != tc.code || reason != tc.reason {
				t.Fatalf("got %v (code %d reason %q), want %d %s", err, code, reason, tc.code, tc.reason)
			}
			if strings.Contains(err.Error(), "secret-value") {
				t.Errorf("the error quotes a value: %v", err)
			}
		})
	}
	// A failing query job ends DONE with its error; reading it answers the error.
	q := c.Query("SELECT * FROM `proj.ds.missing`")
	q.JobID = "bad-query"
	j, err := q.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := waitJob(t, j)
	var be *bigquery.Error
	if !errors.As(st.Err(), &be) || be.Reason != "notFound" {
		t.Errorf("job error = %v", st.Err())
	}
	_, err = c.JobFromID(ctx, "nope")
	if code, reason := apiCode(err); code != http.StatusNotFound || reason != "notFound" || !strings.Contains(err.Error(), "Not found: Job proj:US.nope") {
		t.Errorf("unknown job: %v", err)
	}
}

func TestTableDataPaging(t *testing.T) {
	srv, c := start(t, bqtest.Options{})
	ctx := context.Background()
	createDataset(t, c)
	createTxTable(t, c, "tx")
	if _, err := srv.DB().Exec(`INSERT INTO "ds"."tx" (id, created_at) SELECT i, TIMESTAMPTZ '2024-01-01 00:00:00+00' FROM range(25) t(i)`); err != nil {
		t.Fatal(err)
	}
	it := c.Dataset(testDataset).Table("tx").Read(ctx)
	it.PageInfo().MaxSize = 10
	var ids []int64
	for {
		var row []bigquery.Value
		err := it.Next(&row)
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, row[0].(int64))
	}
	if len(ids) != 25 || ids[0] != 0 || ids[24] != 24 {
		t.Errorf("ids = %v", ids)
	}
}

func TestRESTValueShapes(t *testing.T) {
	srv, c := start(t, bqtest.Options{})
	loadSample(t, c)
	const sql = "SELECT amount, created_at, day, tags, name FROM `proj.ds.tx` WHERE id = 1"
	cases := []struct {
		name   string
		format map[string]any
		ts     string
	}{
		{"legacy float seconds", nil, "1.709296200123456E9"},
		{"int64 microseconds", map[string]any{"useInt64Timestamp": true}, "1709296200123456"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"query": sql, "useLegacySql": false}
			if tc.format != nil {
				body["formatOptions"] = tc.format
			}
			code, out := rawJSON(t, srv, http.MethodPost, "projects/proj/queries", body)
			if code != http.StatusOK {
				t.Fatalf("jobs.query: %d %v", code, out)
			}
			if out["jobComplete"] != true || out["totalRows"] != "1" || out["kind"] != "bigquery#queryResponse" {
				t.Errorf("response = %v", out)
			}
			f := out["rows"].([]any)[0].(map[string]any)["f"].([]any)
			v := func(i int) any { return f[i].(map[string]any)["v"] }
			tags := []any{map[string]any{"v": "1"}, map[string]any{"v": "2"}}
			if v(0) != "105.15" || v(1) != tc.ts || v(2) != "2024-03-01" || !reflect.DeepEqual(v(3), tags) || v(4) != "Ada" {
				t.Errorf("row = %v", f)
			}
			fields := out["schema"].(map[string]any)["fields"].([]any)
			var types []string
			for _, fl := range fields {
				m := fl.(map[string]any)
				types = append(types, m["type"].(string)+"/"+m["mode"].(string))
			}
			want := []string{"NUMERIC/NULLABLE", "TIMESTAMP/NULLABLE", "DATE/NULLABLE", "INTEGER/REPEATED", "STRING/NULLABLE"}
			if !reflect.DeepEqual(types, want) {
				t.Errorf("schema = %v, want %v", types, want)
			}
		})
	}
}

func TestClientJobWaitTiming(t *testing.T) {
	t.Parallel() // Job.Wait sleeps between polls (the client's backoff)
	_, c := start(t, bqtest.Options{PollsToDone: 2})
	ctx := context.Background()
	createDataset(t, c)
	tb := createTxTable(t, c, "tx")
	j, err := loader(tb, txParquet(t, sampleRows), "wait-timing").Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	st, err := j.Wait(ctx)
	if err != nil || st.Err() != nil {
		t.Fatalf("wait: %v %v", err, st.Err())
	}
	// PENDING in the insert's answer; Wait: jobs.get → RUNNING, pause in (0, 1s], jobs.get → DONE.
	t.Logf("Job.Wait with PollsToDone 2 took %v", time.Since(began).Round(time.Millisecond))
}

func TestDefaultDataset(t *testing.T) {
	_, c := start(t, bqtest.Options{})
	ctx := context.Background()
	loadSample(t, c)
	for i := 0; i < 3; i++ { // the pooled connection's search path must not leak into other queries
		q := c.Query("SELECT count(*) FROM tx")
		q.DefaultDatasetID = testDataset
		it, err := q.Read(ctx)
		if err != nil {
			t.Fatalf("with a default dataset: %v", err)
		}
		var row []bigquery.Value
		if err := it.Next(&row); err != nil || row[0] != int64(3) {
			t.Fatalf("count = %v, %v", row, err)
		}
		_, err = c.Query("SELECT count(*) FROM tx").Read(ctx)
		if code, _ := apiCode(err); code != http.StatusNotFound {
			t.Fatalf("without a default dataset: %v, want 404", err)
		}
	}
}
