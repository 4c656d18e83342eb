package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/ccsync/ccsync/schemas"
)

// cmdSchema prints the warehouse schema: DuckDB DDL and views (sql), or BigQuery JSON schemas
// (bigquery-json). With --table, only that table; its bigquery-json output is the file
// `bq mk --table PROJECT:DATASET.TABLE schema.json` takes.
func cmdSchema(ctx context.Context, inv *invocation) error {
	format := inv.cfg.Output.Format
	if format == "" {
		format = "sql"
	}
	tables := schemas.AllTables()
	if name := inv.cfg.Output.Table; name != "" {
		t, ok := schemas.ByName(name)
		if !ok {
			return usagef(fmt.Errorf("table: %q is not a table of the warehouse", name))
		}
		tables = []schemas.Table{t}
	}
	switch format {
	case "sql":
		return writeDuckDBSchema(inv.env.stdout, tables)
	case "bigquery-json":
		return writeBigQuerySchema(inv.env.stdout, tables)
	}
	return usagef(fmt.Errorf("format: %q is not sql or bigquery-json", format))
}

func writeDuckDBSchema(w io.Writer, tables []schemas.Table) error {
	for _, t := range tables {
		fmt.Fprintf(w, "-- %s\n%s;\n\n", t.Description, t.DuckDBCreate())
	}
	for _, t := range tables {
		if t.Kind == schemas.Data {
			fmt.Fprintf(w, "CREATE OR REPLACE VIEW %s AS\n%s;\n\n", schemas.QuoteIdent(t.CurrentView()), schemas.CurrentViewSQL(t, schemas.QuoteIdent))
		}
	}
	return nil
}

// writeBigQuerySchema writes one table's JSON schema array, or, for several tables, an object of
// table name → schema array.
func writeBigQuerySchema(w io.Writer, tables []schemas.Table) error {
	if len(tables) == 1 {
		b, err := schemas.BigQuerySchemaJSON(tables[0])
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	all := make(map[string]json.RawMessage, len(tables))
	for _, t := range tables {
		b, err := schemas.BigQuerySchemaJSON(t)
		if err != nil {
			return err
		}
		all[t.Name] = b
	}
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
