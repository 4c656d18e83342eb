package bqtest_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/option"

	"github.com/ccsync/ccsync/load/bqtest"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
)

func TestDatasetInsertGetDuplicate(t *testing.T) {
	_, c := start(t, bqtest.Options{})
	ctx := context.Background()
	ds := c.Dataset(testDataset)
	if err := ds.Create(ctx, &bigquery.DatasetMetadata{Location: "EU", Description: "ccsync warehouse"}); err != nil {
		t.Fatalf("create: %v", err)
	}
	md, err := ds.Metadata(ctx)
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	if md.Location != "EU" || md.Description != "ccsync warehouse" || md.FullID != "proj:ds" {
		t.Errorf("metadata = location %q description %q id %q", md.Location, md.Description, md.FullID)
	}
	err = ds.Create(ctx, nil)
	if code, reason := apiCode(err); code != http.StatusConflict || reason != "duplicate" {
		t.Errorf("second create: got %v (code %d reason %q), want 409 duplicate", err, code, reason)
	}
	_, err = c.Dataset("missing").Metadata(ctx)
	if code, reason := apiCode(err); code != http.StatusNotFound || reason != "notFound" {
		t.Errorf("missing dataset: got %v, want 404 notFound", err)
	}
}

func TestTableMetadataRoundTrip(t *testing.T) {
	_, c := start(t, bqtest.Options{})
	ctx := context.Background()
	createDataset(t, c)
	tb := c.Dataset(testDataset).Table("tx")
	want := &bigquery.TableMetadata{
		Description:      "One row per transaction version.",
		Schema:           txSchema,
		TimePartitioning: &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType, Field: "day"},
		Clustering:       &bigquery.Clustering{Fields: []string{"id", "name"}},
		Labels:           map[string]string{"app": "ccsync"},
	}
	if err := tb.Create(ctx, want); err != nil {
		t.Fatalf("create: %v", err)
	}
	md, err := tb.Metadata(ctx)
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	if md.Description != want.Description || md.Type != bigquery.RegularTable || md.NumRows != 0 || md.Location != "US" {
		t.Errorf("got description %q type %q rows %d location %q", md.Description, md.Type, md.NumRows, md.Location)
	}
	if md.TimePartitioning == nil || md.TimePartitioning.Field != "day" || md.TimePartitioning.Type != bigquery.DayPartitioningType {
		t.Errorf("partitioning = %+v", md.TimePartitioning)
	}
	if md.Clustering == nil || !reflect.DeepEqual(md.Clustering.Fields, []string{"id", "name"}) {
		t.Errorf("clustering = %+v", md.Clustering)
	}
	if !reflect.DeepEqual(md.Labels, want.Labels) {
		t.Errorf("labels = %v", md.Labels)
	}
	if len(md.Schema) != len(txSchema) {
		t.Fatalf("schema has %d fields, want %d", len(md.Schema), len(txSchema))
	}
	for i, f := range md.Schema {
		w := txSchema[i]
		if f.Name != w.Name || f.Type != w.Type || f.Required != w.Required || f.Repeated != w.Repeated || f.Description != w.Description {
			t.Errorf("field %d = %+v, want %+v", i, *f, *w)
		}
	}

	err = tb.Create(ctx, &bigquery.TableMetadata{Schema: txSchema})
	if code, reason := apiCode(err); code != http.StatusConflict || reason != "duplicate" || !strings.Contains(err.Error(), "Already Exists: Table proj:ds.tx") {
		t.Errorf("second create: got %v, want 409 duplicate", err)
	}
	_, err = c.Dataset(testDataset).Table("nope").Metadata(ctx)
	if code, reason := apiCode(err); code != http.StatusNotFound || reason != "notFound" {
		t.Errorf("missing table: got %v, want 404 notFound", err)
	}
}

func TestTableInsertRefusals(t *testing.T) {
	_, c := start(t, bqtest.Options{})
	createDataset(t, c)
	cases := []struct {
		name string
		md   *bigquery.TableMetadata
		code int
	}{
		{"partition field missing", &bigquery.TableMetadata{Schema: txSchema, TimePartitioning: &bigquery.TimePartitioning{Field: "nope"}}, 400},
		{"partition on a STRING", &bigquery.TableMetadata{Schema: txSchema, TimePartitioning: &bigquery.TimePartitioning{Field: "name"}}, 400},
		{"partition on a REPEATED column", &bigquery.TableMetadata{Schema: bigquery.Schema{{Name: "d", Type: bigquery.DateFieldType, Repeated: true}}, TimePartitioning: &bigquery.TimePartitioning{Field: "d"}}, 400},
		{"clustering on a missing field", &bigquery.TableMetadata{Schema: txSchema, Clustering: &bigquery.Clustering{Fields: []string{"nope"}}}, 400},
		{"clustering on five fields", &bigquery.TableMetadata{Schema: txSchema, Clustering: &bigquery.Clustering{Fields: []string{"id", "name", "active", "amount", "day"}}}, 400},
		{"duplicate column", &bigquery.TableMetadata{Schema: bigquery.Schema{{Name: "a", Type: bigquery.StringFieldType}, {Name: "A", Type: bigquery.StringFieldType}}}, 400},
		{"bad column name", &bigquery.TableMetadata{Schema: bigquery.Schema{{Name: "a-b", Type: bigquery.StringFieldType}}}, 400},
		{"BIGNUMERIC is not emulated", &bigquery.TableMetadata{Schema: bigquery.Schema{{Name: "a", Type: bigquery.BigNumericFieldType}}}, 501},
		{"JSON is not emulated", &bigquery.TableMetadata{Schema: bigquery.Schema{{Name: "a", Type: bigquery.JSONFieldType}}}, 501},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Dataset(testDataset).Table(fmt.Sprintf("t%d", i)).Create(context.Background(), tc.md)
			if code, _ := apiCode(err); code != tc.code {
				t.Errorf("got %v (code %d), want code %d", err, code, tc.code)
			}
		})
	}
}

func TestRecordColumnsStoredAndQueried(t *testing.T) {
	srv, c := start(t, bqtest.Options{})
	ctx := context.Background()
	createDataset(t, c)
	schema := bigquery.Schema{
		{Name: "id", Type: bigquery.IntegerFieldType},
		{Name: "addr", Type: bigquery.RecordFieldType, Schema: bigquery.Schema{
			{Name: "city", Type: bigquery.StringFieldType},
			{Name: "zips", Type: bigquery.StringFieldType, Repeated: true},
		}},
	}
	if err := c.Dataset(testDataset).Table("nested").Create(ctx, &bigquery.TableMetadata{Schema: schema}); err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := srv.DB().Exec(`INSERT INTO "ds"."nested" VALUES (1, {'city': 'Montréal', 'zips': ['H2X', 'H3A']}), (2, NULL)`); err != nil {
		t.Fatalf("insert: %v", err)
	}
	got := readAll(t, c, "SELECT id, addr FROM `ds.nested` ORDER BY id")
	want := [][]bigquery.Value{
		{int64(1), []bigquery.Value{"Montréal", []bigquery.Value{"H2X", "H3A"}}},
		{int64(2), nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %#v, want %#v", got, want)
	}
}

func TestPatchSchema(t *testing.T) {
	plus := func(extra ...*bigquery.FieldSchema) bigquery.Schema {
		return append(append(bigquery.Schema{}, txSchema...), extra...)
	}
	withField := func(name string, f func(*bigquery.FieldSchema)) bigquery.Schema {
		s := bigquery.Schema{}
		for _, x := range txSchema {
			c := *x
			if c.Name == name {
				f(&c)
			}
			s = append(s, &c)
		}
		return s
	}
	cases := []struct {
		name    string
		schema  bigquery.Schema
		wantErr string // "" for success
	}{
		{"add a NULLABLE column", plus(&bigquery.FieldSchema{Name: "note", Type: bigquery.StringFieldType, Description: "New."}), ""},
		{"add a REPEATED column", plus(&bigquery.FieldSchema{Name: "codes", Type: bigquery.StringFieldType, Repeated: true}), ""},
		{"change a description", withField("name", func(f *bigquery.FieldSchema) { f.Description = "Changed." }), ""},
		{"relax REQUIRED to NULLABLE (BigQuery allows it)", withField("id", func(f *bigquery.FieldSchema) { f.Required = false }), ""},
		{"add a REQUIRED column", plus(&bigquery.FieldSchema{Name: "must", Type: bigquery.StringFieldType, Required: true}), "Cannot add required fields"},
		{"remove a column", txSchema[1:], "Field id is missing in new schema"},
		{"change a type", withField("amount", func(f *bigquery.FieldSchema) { f.Type = bigquery.FloatFieldType }), "Field amount has changed type from NUMERIC to FLOAT"},
		{"NULLABLE to REQUIRED", withField("name", func(f *bigquery.FieldSchema) { f.Required = true }), "Field name has changed mode from NULLABLE to REQUIRED"},
		{"REPEATED to NULLABLE", withField("tags", func(f *bigquery.FieldSchema) { f.Repeated = false }), "Field tags has changed mode from REPEATED to NULLABLE"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := start(t, bqtest.Options{})
			ctx := context.Background()
			createDataset(t, c)
			name := fmt.Sprintf("p%d", i)
			tb := createTxTable(t, c, name)
			if _, err := srv.DB().Exec(`INSERT INTO "ds"."` + name + `" (id, created_at) VALUES (1, TIMESTAMPTZ '2024-01-01 00:00:00+00')`); err != nil {
				t.Fatalf("seeding: %v", err)
			}
			md, err := tb.Update(ctx, bigquery.TableMetadataToUpdate{Schema: tc.schema}, "")
			if tc.wantErr != "" {
				code, reason := apiCode(err)
				if code != http.StatusBadRequest || reason != "invalid" || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want 400 invalid containing %q", err, tc.wantErr)
				}
				after, err := tb.Metadata(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(after.Schema) != len(txSchema) {
					t.Errorf("a refused patch changed the schema: %d fields", len(after.Schema))
				}
				return
			}
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if len(md.Schema) != len(tc.schema) {
				t.Fatalf("schema has %d fields, want %d", len(md.Schema), len(tc.schema))
			}
			for i, f := range md.Schema {
				w := tc.schema[i]
				if f.Name != w.Name || f.Type != w.Type || f.Required != w.Required || f.Repeated != w.Repeated || f.Description != w.Description {
					t.Errorf("field %d = %+v, want %+v", i, *f, *w)
				}
			}
			// The DuckDB table follows: every column exists, the old row reads back.
			rows := readAll(t, c, "SELECT * FROM `proj.ds."+name+"`")
			if len(rows) != 1 || len(rows[0]) != len(tc.schema) {
				t.Fatalf("rows = %v", rows)
			}
		})
	}
}

func TestPatchEtagAndDescription(t *testing.T) {
	_, c := start(t, bqtest.Options{})
	ctx := context.Background()
	createDataset(t, c)
	tb := createTxTable(t, c, "tx")
	md, err := tb.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Update(ctx, bigquery.TableMetadataToUpdate{Description: "v2"}, md.ETag); err != nil {
		t.Fatalf("update with the current etag: %v", err)
	}
	_, err = tb.Update(ctx, bigquery.TableMetadataToUpdate{Description: "v3"}, md.ETag)
	if code, _ := apiCode(err); code != http.StatusPreconditionFailed {
		t.Errorf("update with a stale etag: got %v, want 412", err)
	}
	md, err = tb.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if md.Description != "v2" {
		t.Errorf("description = %q, want v2", md.Description)
	}
}

// bqSchema converts a ccsync table to a BigQuery schema (the load package has its own; this one
// only serves the view test).
func bqSchema(tb schemas.Table) bigquery.Schema {
	var out bigquery.Schema
	for _, c := range tb.Columns {
		t := map[schemas.Type]bigquery.FieldType{
			schemas.Int64: bigquery.IntegerFieldType, schemas.String: bigquery.StringFieldType,
			schemas.Bool: bigquery.BooleanFieldType, schemas.Numeric: bigquery.NumericFieldType,
			schemas.Timestamp: bigquery.TimestampFieldType, schemas.Date: bigquery.DateFieldType,
		}[c.Type]
		out = append(out, &bigquery.FieldSchema{Name: c.Name, Type: t, Required: c.Required, Repeated: c.Repeated, Description: c.Description})
	}
	return out
}

func TestCurrentViewsOfCCSync(t *testing.T) {
	srv, c := start(t, bqtest.Options{})
	ctx := context.Background()
	createDataset(t, c)
	for _, name := range []string{crowdchange.Transactions, crowdchange.TransactionItem, schemas.Checkpoints} {
		tb, _ := schemas.ByName(name)
		if err := c.Dataset(testDataset).Table(name).Create(ctx, &bigquery.TableMetadata{Schema: bqSchema(tb), Description: tb.Description}); err != nil {
			t.Fatalf("creating %s: %v", name, err)
		}
	}
	ref := func(name string) string { return "`" + testProject + "." + testDataset + "." + name + "`" }
	for _, name := range []string{crowdchange.Transactions, crowdchange.TransactionItem} {
		tb, _ := schemas.ByName(name)
		err := c.Dataset(testDataset).Table(tb.CurrentView()).Create(ctx, &bigquery.TableMetadata{ViewQuery: schemas.CurrentViewSQL(tb, ref)})
		if err != nil {
			t.Fatalf("creating view %s: %v", tb.CurrentView(), err)
		}
	}
	// Two versions of transaction 1 (the newer one committed), one of transaction 2 in an
	// uncommitted batch, each with one item.
	seed := []string{
		`INSERT INTO "ds"."transactions" (id, _run_id, _batch_id, _extracted_at) VALUES
			(1, 'r1', 'b1', TIMESTAMPTZ '2024-01-01 00:00:00+00'),
			(1, 'r2', 'b2', TIMESTAMPTZ '2024-01-02 00:00:00+00'),
			(2, 'r3', 'b3', TIMESTAMPTZ '2024-01-03 00:00:00+00')`,
		`INSERT INTO "ds"."transaction_items" (transaction_id, direction, category, position, _run_id, _batch_id, _extracted_at) VALUES
			(1, 'purchased', 'tickets', 0, 'r1', 'b1', TIMESTAMPTZ '2024-01-01 00:00:00+00'),
			(1, 'purchased', 'apparel', 0, 'r2', 'b2', TIMESTAMPTZ '2024-01-02 00:00:00+00'),
			(2, 'purchased', 'tickets', 0, 'r3', 'b3', TIMESTAMPTZ '2024-01-03 00:00:00+00')`,
		`INSERT INTO "ds"."ccsync_checkpoints" (stream, window_start, window_end, run_id, batch_id, committed_at, transactions, pages) VALUES
			('date', TIMESTAMPTZ '2024-01-01 00:00:00+00', TIMESTAMPTZ '2024-01-02 00:00:00+00', 'r1', 'b1', TIMESTAMPTZ '2024-01-02 00:00:00+00', 1, 1),
			('date', TIMESTAMPTZ '2024-01-01 00:00:00+00', TIMESTAMPTZ '2024-01-02 00:00:00+00', 'r2', 'b2', TIMESTAMPTZ '2024-01-03 00:00:00+00', 1, 1)`,
	}
	for _, q := range seed {
		if _, err := srv.DB().Exec(q); err != nil {
			t.Fatalf("seeding: %v", err)
		}
	}
	got := readAll(t, c, "SELECT id, _run_id FROM `proj.ds.transactions_current` ORDER BY id")
	if want := [][]bigquery.Value{{int64(1), "r2"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("transactions_current = %v, want %v", got, want)
	}
	got = readAll(t, c, "SELECT transaction_id, category FROM `proj.ds.transaction_items_current`")
	if want := [][]bigquery.Value{{int64(1), "apparel"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("transaction_items_current = %v, want %v", got, want)
	}
	md, err := c.Dataset(testDataset).Table("transactions_current").Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	txTable, _ := schemas.ByName(crowdchange.Transactions)
	if md.Type != bigquery.ViewTable || !strings.Contains(md.ViewQuery, "QUALIFY") || len(md.Schema) != len(txTable.Columns) {
		t.Errorf("view metadata: type %q, %d fields, query %q", md.Type, len(md.Schema), md.ViewQuery)
	}
	// A column added to the table shows through the views (SELECT * is expanded at query time).
	added := append(bqSchema(txTable), &bigquery.FieldSchema{Name: "added_later", Type: bigquery.StringFieldType})
	if _, err := c.Dataset(testDataset).Table(crowdchange.Transactions).Update(ctx, bigquery.TableMetadataToUpdate{Schema: added}, ""); err != nil {
		t.Fatalf("adding a column: %v", err)
	}
	got = readAll(t, c, "SELECT id, added_later FROM `proj.ds.transactions_current`")
	if want := [][]bigquery.Value{{int64(1), nil}}; !reflect.DeepEqual(got, want) {
		t.Errorf("transactions_current after adding a column = %v, want %v", got, want)
	}
	if got := readAll(t, c, "SELECT count(*) FROM `proj.ds.transaction_items_current`"); got[0][0] != int64(1) {
		t.Errorf("the view over the view broke: %v", got)
	}
	err = c.Dataset(testDataset).Table("broken").Create(ctx, &bigquery.TableMetadata{ViewQuery: "SELECT * FROM `proj.ds.missing`"})
	if code, _ := apiCode(err); code != http.StatusBadRequest {
		t.Errorf("view over a missing table: got %v, want 400", err)
	}
}

func TestMinimalClientOptions(t *testing.T) {
	srv := bqtest.Start(t, bqtest.Options{Project: testProject})
	ctx := context.Background()
	cases := []struct {
		name     string
		endpoint string
	}{
		{"documented endpoint", srv.Endpoint()},
		{"endpoint without a path", srv.URL()},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := bigquery.NewClient(ctx, testProject, option.WithEndpoint(tc.endpoint), option.WithoutAuthentication())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ds := c.Dataset(fmt.Sprintf("d%d", i))
			if err := ds.Create(ctx, nil); err != nil {
				t.Fatalf("create dataset: %v", err)
			}
			tb := ds.Table("tx")
			if err := tb.Create(ctx, &bigquery.TableMetadata{Schema: txSchema}); err != nil {
				t.Fatalf("create table: %v", err)
			}
			j, err := loader(tb, txParquet(t, sampleRows), fmt.Sprintf("load-%d", i)).Run(ctx)
			if err != nil {
				t.Fatalf("load (upload through the host's /upload path): %v", err)
			}
			if st := waitJob(t, j); st.Err() != nil {
				t.Fatalf("load failed: %v", st.Err())
			}
			if got := readAll(t, c, fmt.Sprintf("SELECT count(*) FROM `d%d.tx`", i)); got[0][0] != int64(3) {
				t.Errorf("count = %v", got)
			}
			c.Close()
		})
	}
}
