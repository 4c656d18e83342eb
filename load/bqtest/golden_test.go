package bqtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"github.com/apache/arrow/go/v17/arrow"

	"github.com/ccsync/ccsync/load/bqtest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// rawGet fetches a path of the API and returns the answer's status and indented JSON.
func rawGet(t *testing.T, srv *bqtest.Server, method, path string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.Endpoint()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("%s: not JSON: %q", path, b)
	}
	out.WriteByte('\n')
	return resp.StatusCode, out.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}

// TestRESTShapesGolden pins the JSON the server answers, as the client sees it on the wire.
func TestRESTShapesGolden(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)}
	srv, c := start(t, bqtest.Options{Now: clock.Now, PollsToDone: bqtest.DoneOnInsert})
	ctx := context.Background()
	createDataset(t, c)
	tb := c.Dataset(testDataset).Table("tx")
	err := tb.Create(ctx, &bigquery.TableMetadata{
		Schema:           txSchema,
		Description:      "Golden table.",
		TimePartitioning: &bigquery.TimePartitioning{Field: "day"},
		Clustering:       &bigquery.Clustering{Fields: []string{"id"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loader(tb, txParquet(t, sampleRows), "golden-load").Run(ctx); err != nil {
		t.Fatal(err)
	}
	bad := parquetOf(t, []arrow.Field{fID, fCreated, {Name: "amount", Type: arrow.PrimitiveTypes.Float64}}, []any{int64(1), created0, 1.5})
	if _, err := loader(tb, bad, "golden-invalid").Run(ctx); err != nil {
		t.Fatal(err)
	}
	query, _ := json.Marshal(map[string]any{"query": "SELECT id, amount, created_at, tags FROM `proj.ds.tx` WHERE id = 1", "useLegacySql": false, "formatOptions": map[string]any{"useInt64Timestamp": true}})
	cases := []struct {
		golden, method, path string
		body                 []byte
		code                 int
	}{
		{"load_job_done.json", http.MethodGet, "projects/proj/jobs/golden-load?location=US", nil, 200},
		{"load_job_invalid.json", http.MethodGet, "projects/proj/jobs/golden-invalid", nil, 200},
		{"table.json", http.MethodGet, "projects/proj/datasets/ds/tables/tx", nil, 200},
		{"query_response.json", http.MethodPost, "projects/proj/queries", query, 200},
		{"error_duplicate_dataset.json", http.MethodPost, "projects/proj/datasets", []byte(`{"datasetReference":{"datasetId":"ds"}}`), 409},
		{"error_unknown_job.json", http.MethodGet, "projects/proj/jobs/nope", nil, 404},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			code, got := rawGet(t, srv, tc.method, tc.path, tc.body)
			if code != tc.code {
				t.Errorf("status %d, want %d", code, tc.code)
			}
			checkGolden(t, tc.golden, got)
		})
	}
}
