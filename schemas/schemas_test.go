package schemas_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ccsync/ccsync/schemas"
	"github.com/ccsync/ccsync/schemas/crowdchange"
	_ "github.com/ccsync/ccsync/schemas/crowdtilt"
	_ "github.com/ccsync/ccsync/schemas/donately" // every source's tables are registered
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with the file at path (relative to testdata/), or rewrites the file with
// -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	path = filepath.Join("testdata", path)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./schemas -update` to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the schema gives (run `go test ./schemas -update` and review the diff):\n%s", path, firstDiff(string(got), string(want)))
	}
}

// firstDiff shows the first line that differs.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, gl, wl)
		}
	}
	return "(no line differs)"
}

var (
	snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	internal  = regexp.MustCompile(`^_[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
)

func TestNames(t *testing.T) {
	tables := map[string]bool{}
	for _, tb := range schemas.AllTables() {
		if !snakeCase.MatchString(tb.Name) {
			t.Errorf("table %q is not snake_case", tb.Name)
		}
		if tables[tb.Name] {
			t.Errorf("table %s is declared twice", tb.Name)
		}
		tables[tb.Name] = true
		if tb.Description == "" {
			t.Errorf("table %s has no description", tb.Name)
		}
		if len(tb.Columns) == 0 {
			t.Errorf("table %s has no columns", tb.Name)
		}
		seen := map[string]bool{}
		for _, c := range tb.Columns {
			if !snakeCase.MatchString(c.Name) && !internal.MatchString(c.Name) {
				t.Errorf("%s.%s is neither snake_case nor _snake_case", tb.Name, c.Name)
			}
			// BigQuery compares column names case-insensitively; snake_case makes that moot.
			if seen[strings.ToLower(c.Name)] {
				t.Errorf("%s.%s is declared twice", tb.Name, c.Name)
			}
			seen[strings.ToLower(c.Name)] = true
			if strings.TrimSpace(c.Description) == "" {
				t.Errorf("%s.%s has no description", tb.Name, c.Name)
			}
			if c.Type < schemas.Int64 || c.Type > schemas.Date {
				t.Errorf("%s.%s has unknown type %v", tb.Name, c.Name, c.Type)
			}
			if c.Repeated && c.Required {
				t.Errorf("%s.%s is both repeated and required (a repeated column is never null anyway)", tb.Name, c.Name)
			}
		}
	}
	for _, tb := range schemas.SourceDataTables() {
		if tables[tb.CurrentView()] {
			t.Errorf("view %s has the name of a table", tb.CurrentView())
		}
	}
}

func TestPartitionAndCluster(t *testing.T) {
	for _, tb := range schemas.AllTables() {
		if tb.Kind == schemas.Data && tb.Partition == "" {
			t.Errorf("data table %s is not partitioned", tb.Name)
		}
		if c, ok := tb.Column(tb.Partition); tb.Kind == schemas.Data && ok && c.Derived != schemas.RecordDate {
			t.Errorf("data table %s is partitioned by %q, not its record's date", tb.Name, tb.Partition)
		}
		if tb.Partition != "" {
			c, ok := tb.Column(tb.Partition)
			switch {
			case !ok:
				t.Errorf("%s is partitioned by %s, which it does not have", tb.Name, tb.Partition)
			case c.Type != schemas.Date || c.Repeated:
				t.Errorf("%s is partitioned by %s, a %v column (repeated %t); want a DATE", tb.Name, tb.Partition, c.Type, c.Repeated)
			}
		}
		if len(tb.Cluster) == 0 || len(tb.Cluster) > 4 {
			t.Errorf("%s has %d clustering columns, want 1 to 4", tb.Name, len(tb.Cluster))
		}
		seen := map[string]bool{}
		for _, name := range tb.Cluster {
			c, ok := tb.Column(name)
			switch {
			case !ok:
				t.Errorf("%s is clustered by %s, which it does not have", tb.Name, name)
			case c.Repeated:
				t.Errorf("%s is clustered by %s, a repeated column (BigQuery refuses it)", tb.Name, name)
			case seen[name]:
				t.Errorf("%s is clustered by %s twice", tb.Name, name)
			}
			seen[name] = true
		}
	}
}

func TestDataTableKeys(t *testing.T) {
	type want struct {
		name     string
		typ      schemas.Type
		required bool
	}
	version := []want{{schemas.ColRunID, schemas.String, true}, {schemas.ColBatchID, schemas.String, true}, {schemas.ColExtractedAt, schemas.Timestamp, true}}
	for _, tb := range crowdchange.DataTables() {
		keys := []want{{"transaction_id", schemas.Int64, true}, {"transaction_date", schemas.Date, false}}
		if tb.Name == crowdchange.Transactions {
			keys = []want{{"id", schemas.Int64, true}, {"transaction_date", schemas.Date, false}}
		}
		for _, w := range append(keys, version...) {
			c, ok := tb.Column(w.name)
			if !ok {
				t.Errorf("data table %s has no column %s", tb.Name, w.name)
				continue
			}
			if c.Type != w.typ || c.Required != w.required || c.Repeated {
				t.Errorf("%s.%s is %v (required %t, repeated %t), want %v required %t", tb.Name, w.name, c.Type, c.Required, c.Repeated, w.typ, w.required)
			}
		}
	}
	for _, tb := range schemas.BookkeepingTables() {
		if tb.Kind != schemas.Bookkeeping {
			t.Errorf("%s is in BookkeepingTables with kind %v", tb.Name, tb.Kind)
		}
		if _, ok := tb.Column(schemas.ColBatchID); ok {
			t.Errorf("bookkeeping table %s has a version column", tb.Name)
		}
	}
	if _, ok := schemas.ByName(schemas.Checkpoints); !ok {
		t.Errorf("no table %s", schemas.Checkpoints)
	}
	if _, ok := schemas.ByName(schemas.Runs); !ok {
		t.Errorf("no table %s", schemas.Runs)
	}
}

func TestPathMapHomesExist(t *testing.T) {
	m := crowdchange.PathMap()
	if len(m) == 0 {
		t.Fatal("PathMap is empty")
	}
	for i, p := range m {
		tb, ok := schemas.ByName(p.Table)
		if !ok {
			t.Errorf("%s lives in table %s, which does not exist", p.JSONPath, p.Table)
			continue
		}
		if tb.Kind != schemas.Data {
			t.Errorf("%s lives in %s, a bookkeeping table", p.JSONPath, p.Table)
		}
		c, ok := tb.Column(p.Column)
		if !ok {
			t.Errorf("%s lives in %s.%s, which does not exist", p.JSONPath, p.Table, p.Column)
			continue
		}
		if list := strings.HasSuffix(p.JSONPath, "[]"); list != c.Repeated {
			t.Errorf("%s (a list: %t) lives in %s.%s (repeated: %t)", p.JSONPath, list, p.Table, p.Column, c.Repeated)
		}
		if got, ok := crowdchange.HomeOf(p.JSONPath); !ok || got != p {
			t.Errorf("HomeOf(%s) = %+v, %t; want %+v", p.JSONPath, got, ok, p)
		}
		if i > 0 && m[i-1].JSONPath >= p.JSONPath {
			t.Errorf("PathMap is not sorted by path at %s", p.JSONPath)
		}
	}
}

// TestDuckDBSnapshot pins the DuckDB DDL of every table and view: a change to the schema shows
// up as a reviewed diff of testdata/duckdb.sql.
func TestDuckDBSnapshot(t *testing.T) {
	var b strings.Builder
	for _, tb := range schemas.AllTables() {
		fmt.Fprintf(&b, "-- %s\n%s;\n\n", tb.Description, tb.DuckDBCreate())
	}
	for _, tb := range crowdchange.DataTables() {
		fmt.Fprintf(&b, "CREATE OR REPLACE VIEW %s AS\n%s;\n\n", schemas.QuoteIdent(tb.CurrentView()), schemas.CurrentViewSQL(tb, schemas.QuoteIdent))
	}
	golden(t, "duckdb.sql", []byte(b.String()))
}

// A source whose table name another source (or the shared tables) already uses, or that declares
// a name twice, is refused at registration: nothing is registered.
func TestRegisterSourceRefusesATableNameTwice(t *testing.T) {
	table := func(name string) schemas.Table {
		return schemas.Table{Name: name, Kind: schemas.Data, Description: "A table.", Rows: []schemas.RowSource{{Each: "", Leaves: []schemas.Leaf{{Path: "id", Column: "id"}}}},
			Columns: append([]schemas.Column{{Name: "id", Type: schemas.String, Required: true, Description: "ID."}}, schemas.VersionColumns("a record")...)}
	}
	flattenings := func(names ...string) []schemas.Flattening {
		var fs []schemas.Flattening
		for _, n := range names {
			fs = append(fs, schemas.Flattening{Record: "record", Key: "id", Tables: []schemas.Table{table(n)}})
		}
		return fs
	}
	tests := []struct {
		name  string
		names []string // one flattening of one table each
	}{
		{"another source's table", []string{crowdchange.Transactions}},
		{"a shared table", []string{schemas.QuarantineTable}},
		{"twice in the source", []string{"twice_table", "twice_table"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "already declared") {
					t.Errorf("RegisterSource: panic %v, want one saying the table is already declared", r)
				}
				if _, ok := schemas.SourceNamed("dup_test_source"); ok {
					t.Error("the refused source was registered")
				}
				if _, ok := schemas.ByName("twice_table"); ok {
					t.Error("a table of the refused source was registered")
				}
			}()
			schemas.RegisterSource(schemas.SourceInfo{Name: "dup_test_source", Streams: []schemas.Stream{{Name: "s"}},
				Flattenings: flattenings(tt.names...)})
		})
	}
}
