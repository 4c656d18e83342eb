package schemas_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"

	"cloud.google.com/go/bigquery"
)

func TestBigQueryField(t *testing.T) {
	tests := []struct {
		col  schemas.Column
		want bigquery.FieldSchema
		mode string
	}{
		{schemas.Column{Name: "id", Type: schemas.Int64, Required: true, Description: "d"}, bigquery.FieldSchema{Name: "id", Type: bigquery.IntegerFieldType, Required: true, Description: "d"}, "REQUIRED"},
		{schemas.Column{Name: "s", Type: schemas.String, Description: "d"}, bigquery.FieldSchema{Name: "s", Type: bigquery.StringFieldType, Description: "d"}, "NULLABLE"},
		{schemas.Column{Name: "b", Type: schemas.Bool, Description: "d"}, bigquery.FieldSchema{Name: "b", Type: bigquery.BooleanFieldType, Description: "d"}, "NULLABLE"},
		{schemas.Column{Name: "m", Type: schemas.Numeric, Description: "d"}, bigquery.FieldSchema{Name: "m", Type: bigquery.NumericFieldType, Description: "d"}, "NULLABLE"},
		{schemas.Column{Name: "ts", Type: schemas.Timestamp, Required: true, Description: "d"}, bigquery.FieldSchema{Name: "ts", Type: bigquery.TimestampFieldType, Required: true, Description: "d"}, "REQUIRED"},
		{schemas.Column{Name: "day", Type: schemas.Date, Description: "d"}, bigquery.FieldSchema{Name: "day", Type: bigquery.DateFieldType, Description: "d"}, "NULLABLE"},
		{schemas.Column{Name: "ids", Type: schemas.Int64, Repeated: true, Description: "d"}, bigquery.FieldSchema{Name: "ids", Type: bigquery.IntegerFieldType, Repeated: true, Description: "d"}, "REPEATED"},
		{schemas.Column{Name: "tags", Type: schemas.String, Repeated: true, Required: true, Description: "d"}, bigquery.FieldSchema{Name: "tags", Type: bigquery.StringFieldType, Repeated: true, Description: "d"}, "REPEATED"},
	}
	for _, tt := range tests {
		t.Run(tt.col.Name, func(t *testing.T) {
			if got := tt.col.BigQueryField(); !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("BigQueryField() = %+v, want %+v", *got, tt.want)
			}
			j, err := schemas.BigQuerySchemaJSON(schemas.Table{Name: "t", Columns: []schemas.Column{tt.col}})
			if err != nil {
				t.Fatal(err)
			}
			var fields []map[string]string
			if err := json.Unmarshal(j, &fields); err != nil {
				t.Fatal(err)
			}
			if len(fields) != 1 || fields[0]["mode"] != tt.mode || fields[0]["type"] != string(tt.want.Type) {
				t.Errorf("schema JSON = %s, want mode %s type %s", j, tt.mode, tt.want.Type)
			}
		})
	}
}

func TestBigQueryTableMetadata(t *testing.T) {
	for _, tb := range schemas.AllTables() {
		t.Run(tb.Name, func(t *testing.T) {
			md := schemas.BigQueryTableMetadata(tb)
			if md.Name != tb.Name || md.Description != tb.Description || md.Description == "" {
				t.Errorf("name %q description %q", md.Name, md.Description)
			}
			if !reflect.DeepEqual(md.Schema, schemas.BigQuerySchema(tb)) || len(md.Schema) != len(tb.Columns) {
				t.Errorf("schema differs from BigQuerySchema")
			}
			for i, f := range md.Schema {
				if f.Name != tb.Columns[i].Name || f.Description != tb.Columns[i].Description {
					t.Errorf("field %d is %s (%q), want %s", i, f.Name, f.Description, tb.Columns[i].Name)
				}
			}
			switch {
			case tb.Partition == "" && md.TimePartitioning != nil:
				t.Errorf("partitioning %+v, want none", md.TimePartitioning)
			case tb.Partition != "" && (md.TimePartitioning == nil || md.TimePartitioning.Type != bigquery.DayPartitioningType || md.TimePartitioning.Field != tb.Partition):
				t.Errorf("partitioning %+v, want DAY on %s", md.TimePartitioning, tb.Partition)
			}
			if md.Clustering == nil || !reflect.DeepEqual(md.Clustering.Fields, tb.Cluster) {
				t.Errorf("clustering %+v, want %v", md.Clustering, tb.Cluster)
			}
		})
	}
	tr, _ := schemas.ByName(crowdchange.Transactions)
	if md := schemas.BigQueryTableMetadata(tr); md.TimePartitioning == nil || md.TimePartitioning.Field != "transaction_date" ||
		!reflect.DeepEqual(md.Clustering.Fields, []string{"id", "fundraiser_id"}) {
		t.Errorf("transactions: partitioning %+v clustering %+v", md.TimePartitioning, md.Clustering)
	}
}

// TestBigQuerySchemaSnapshots pins every table's `bq mk` schema file: testdata/bigquery/<table>.json.
func TestBigQuerySchemaSnapshots(t *testing.T) {
	want := map[string]bool{}
	for _, tb := range schemas.AllTables() {
		want[tb.Name+".json"] = true
		j, err := schemas.BigQuerySchemaJSON(tb)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, filepath.Join("bigquery", tb.Name+".json"), j)
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "bigquery"))
	if err != nil {
		t.Fatal(err)
	}
	var stale []string
	for _, e := range entries {
		if !want[e.Name()] {
			stale = append(stale, e.Name())
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("testdata/bigquery has files of no table: %s (remove them)", strings.Join(stale, ", "))
	}
}

// TestBigQuerySchemaJSONRoundTrip reads every schema file back with the client's own parser:
// what `bq mk` would create is exactly the schema the sink creates.
func TestBigQuerySchemaJSONRoundTrip(t *testing.T) {
	for _, tb := range schemas.AllTables() {
		j, err := schemas.BigQuerySchemaJSON(tb)
		if err != nil {
			t.Fatal(err)
		}
		got, err := bigquery.SchemaFromJSON(j)
		if err != nil {
			t.Fatalf("%s: SchemaFromJSON: %v", tb.Name, err)
		}
		want := schemas.BigQuerySchema(tb)
		if len(got) != len(want) {
			t.Fatalf("%s: %d fields back, want %d", tb.Name, len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(*got[i], *want[i]) {
				t.Errorf("%s field %d: read back %+v, want %+v", tb.Name, i, *got[i], *want[i])
			}
		}
	}
}
