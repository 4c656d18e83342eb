package load

import (
	"context"
	"errors"
	"strings"
	"testing"

	"cloud.google.com/go/bigquery"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/load/bqtest"
	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
)

// alteration changes a table's metadata before it is created (an older ccsync's dataset).
type alteration func(md *bigquery.TableMetadata)

// dropColumn removes a column.
func dropColumn(name string) alteration {
	return func(md *bigquery.TableMetadata) {
		var out bigquery.Schema
		for _, f := range md.Schema {
			if f.Name != name {
				out = append(out, f)
			}
		}
		md.Schema = out
	}
}

// setField changes a column.
func setField(name string, change func(f *bigquery.FieldSchema)) alteration {
	return func(md *bigquery.TableMetadata) {
		for _, f := range md.Schema {
			if f.Name == name {
				change(f)
			}
		}
	}
}

// createTables creates every table of the schema, altered, as an older ccsync would have.
func createTables(t *testing.T, e *bqEnv, alter map[string][]alteration) {
	t.Helper()
	for _, tb := range schemas.AllTables() {
		md := schemas.BigQueryTableMetadata(tb)
		for _, a := range alter[tb.Name] {
			a(md)
		}
		if err := e.client.Dataset(bqDataset).Table(tb.Name).Create(context.Background(), md); err != nil {
			t.Fatalf("creating %s: %v", tb.Name, err)
		}
	}
}

// field returns a table's column as BigQuery has it.
func field(t *testing.T, e *bqEnv, table, column string) *bigquery.FieldSchema {
	t.Helper()
	md, err := e.client.Dataset(bqDataset).Table(table).Metadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range md.Schema {
		if f.Name == column {
			return f
		}
	}
	return nil
}

func TestBigQuerySchemaEvolution(t *testing.T) {
	t.Parallel()
	mem := newMem(t)
	e := startBQ(t, bqtest.Options{}, false)
	ctx := context.Background()
	createTables(t, e, map[string][]alteration{
		crowdchange.Transactions: {
			dropColumn("promo_code"), dropColumn("refund_children_ids"),
			setField("type", func(f *bigquery.FieldSchema) { f.Required = true; f.Description = "old" }),
			func(md *bigquery.TableMetadata) { md.Description = "an older description" },
		},
		crowdchange.CustomData: {dropColumn(schemas.ColExtractedAt)},
		schemas.Runs:           {dropColumn("throttled")},
	})

	q := e.open(t, WithAllocator(mem))
	tests := []struct {
		table, column string
		typ           bigquery.FieldType
		mode          string
	}{
		{crowdchange.Transactions, "promo_code", bigquery.StringFieldType, "NULLABLE"},
		{crowdchange.Transactions, "refund_children_ids", bigquery.IntegerFieldType, "REPEATED"},
		{crowdchange.Transactions, "type", bigquery.StringFieldType, "NULLABLE"},                  // relaxed: the schema says nullable
		{crowdchange.CustomData, schemas.ColExtractedAt, bigquery.TimestampFieldType, "NULLABLE"}, // REQUIRED in the schema, added NULLABLE
		{schemas.Runs, "throttled", bigquery.IntegerFieldType, "NULLABLE"},
	}
	for _, tt := range tests {
		f := field(t, e, tt.table, tt.column)
		if f == nil {
			t.Errorf("%s.%s was not added", tt.table, tt.column)
			continue
		}
		tb, _ := schemas.ByName(tt.table)
		c, _ := tb.Column(tt.column)
		if f.Type != tt.typ || fieldMode(f) != tt.mode || f.Description != c.Description {
			t.Errorf("%s.%s is %s %s %q, want %s %s %q", tt.table, tt.column, f.Type, fieldMode(f), f.Description, tt.typ, tt.mode, c.Description)
		}
	}
	md, err := e.client.Dataset(bqDataset).Table(crowdchange.Transactions).Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := schemas.ByName(crowdchange.Transactions)
	if md.Description != tr.Description || md.Schema[len(md.Schema)-1].Name != "promo_code" {
		t.Errorf("transactions: description %q, last column %s (added columns go last)", md.Description, md.Schema[len(md.Schema)-1].Name)
	}

	// Batches load into the evolved tables: custom_data's load schema says NULLABLE for the
	// column BigQuery has NULLABLE.
	b := newBatch(t, mem, "run-1", "run-1-0001")
	smallBatch(t, mem, b, day1, []string{crowdchange.Transactions, crowdchange.CustomData}, 1, 2)
	if err := q.Commit(ctx, b); err != nil {
		t.Fatalf("Commit after evolution: %v", err)
	}
	if n := e.count(t, crowdchange.CustomData+"_current"); n != 2 {
		t.Errorf("custom_data_current has %d rows, want 2", n)
	}
	if got := e.texts(t, "SELECT id, ARRAY_LENGTH(refund_children_ids) >= 0 FROM `proj.ds.transactions_current` ORDER BY id"); len(got) != 2 {
		t.Errorf("transactions_current = %v", got)
	}

	// Evolved once, the dataset is stable: reopening changes nothing.
	md, err = e.client.Dataset(bqDataset).Table(crowdchange.Transactions).Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	etag := md.ETag
	e.open(t)
	if md, err := e.client.Dataset(bqDataset).Table(crowdchange.Transactions).Metadata(ctx); err != nil || md.ETag != etag {
		t.Errorf("reopening changed transactions again (%v)", err)
	}
}

// TestBigQuerySchemaEvolutionRefuses: what BigQuery alone can have that the schema refuses (a
// column whose type differs: TestSinkContract).
func TestBigQuerySchemaEvolutionRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		table  string
		alter  alteration
		asView bool
		want   []string
	}{
		{"unknown REQUIRED column", crowdchange.Ecards, func(md *bigquery.TableMetadata) {
			md.Schema = append(md.Schema, &bigquery.FieldSchema{Name: "legacy", Type: bigquery.StringFieldType, Required: true})
		}, false, []string{"table ecards, column legacy: REQUIRED in BigQuery but not in the schema"}},
		{"a view where a table belongs", crowdchange.TributeCards, nil, true, []string{"table tribute_cards: it exists as a VIEW"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := startBQ(t, bqtest.Options{}, false)
			ctx := context.Background()
			alter := map[string][]alteration{crowdchange.Registrations: {dropColumn("comment")}}
			if tt.alter != nil {
				alter[tt.table] = append(alter[tt.table], tt.alter)
			}
			if tt.asView {
				alter[tt.table] = append(alter[tt.table], func(md *bigquery.TableMetadata) {
					*md = bigquery.TableMetadata{ViewQuery: "SELECT 1 AS x"}
				})
			}
			createTables(t, e, alter)
			_, err := OpenBigQuery(ctx, e.cfg(), e.log, e.options()...)
			if err == nil {
				t.Fatal("OpenBigQuery accepted an incompatible table")
			}
			t.Logf("error: %v", err)
			for _, w := range append(tt.want, "schema evolution refused") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q", w)
				}
			}
			if errors.Is(err, ErrWarehouseUnavailable) {
				t.Error("a refused evolution is not an unavailable warehouse")
			}
			// Nothing changed: the missing column of another table was not added, no view made.
			if f := field(t, e, crowdchange.Registrations, "comment"); f != nil {
				t.Error("a refused open added a column")
			}
			if _, err := e.client.Dataset(bqDataset).Table("transactions_current").Metadata(ctx); err == nil {
				t.Error("a refused open created a view")
			}
		})
	}
}

func TestBigQueryOpenUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		noDataset bool
		cfg       func(c *config.BigQuery)
		setup     func(t *testing.T, e *bqEnv)
		want      string
	}{
		{name: "dataset missing", noDataset: true,
			want: "dataset proj:ds not found: create it with `bq mk --location US proj:ds` (see README)"},
		{name: "dataset missing, EU", noDataset: true, cfg: func(c *config.BigQuery) { c.Location = "EU" },
			want: "`bq mk --location EU proj:ds`"},
		{name: "no access to the dataset", setup: func(t *testing.T, e *bqEnv) { e.srv.DenyPermissions(bqtest.PermDatasetsGet) },
			want: "no access to dataset proj:ds: grant roles/bigquery.dataEditor on the dataset and roles/bigquery.jobUser on the project"},
		{name: "tables cannot be created", setup: func(t *testing.T, e *bqEnv) { e.srv.DenyPermissions(bqtest.PermTablesCreate) },
			want: "creating table transactions: no permission in dataset proj:ds: grant roles/bigquery.dataEditor"},
		{name: "tables exist but cannot be loaded", setup: func(t *testing.T, e *bqEnv) {
			e.open(t) // creates everything
			e.srv.DenyPermissions(bqtest.PermTablesUpdateData)
		}, want: "no permission to load into dataset proj:ds (bigquery.tables.updateData): grant roles/bigquery.dataEditor"},
		{name: "no project", cfg: func(c *config.BigQuery) { c.Project = "" }, want: "bq-project"},
		{name: "credentials file missing", cfg: func(c *config.BigQuery) { c.Endpoint, c.Credentials = "", "/nonexistent/key.json" }, want: "bq-credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := startBQ(t, bqtest.Options{}, tt.noDataset)
			if tt.setup != nil {
				tt.setup(t, e)
			}
			cfg := e.cfg()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			q, err := OpenBigQuery(context.Background(), cfg, e.log, e.options()...)
			if err == nil {
				q.Close()
				t.Fatal("OpenBigQuery succeeded")
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, ErrWarehouseUnavailable) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q: want ErrWarehouseUnavailable and %q", err, tt.want)
			}
			if jobs := loadJobs(e.srv, ""); len(jobs) != 0 {
				t.Errorf("a failed open ran jobs %v", jobIDs(jobs))
			}
		})
	}
}

// A load job's upload chunk is the file's size rounded up to 256 KiB, at most the client's
// default 16 MiB (unknown sizes get the default).
func TestUploadChunkSize(t *testing.T) {
	t.Parallel()
	const kib, mib = 1 << 10, 1 << 20
	for _, tt := range []struct {
		size int64
		want int
	}{
		{-1, 16 * mib}, {0, 16 * mib}, {1, 256 * kib}, {256 * kib, 256 * kib}, {256*kib + 1, 512 * kib},
		{5 * mib, 5 * mib}, {16*mib - 1, 16 * mib}, {16 * mib, 16 * mib}, {1 << 40, 16 * mib},
	} {
		if got := uploadChunkSize(tt.size); got != tt.want {
			t.Errorf("uploadChunkSize(%d) = %d, want %d", tt.size, got, tt.want)
		}
	}
}
