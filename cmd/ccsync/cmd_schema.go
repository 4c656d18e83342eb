package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ccsync/ccsync/schemas"
)

// cmdSchema prints the warehouse schema: DuckDB DDL and views (sql).
func cmdSchema(ctx context.Context, inv *invocation) error {
	format := inv.cfg.Output.Format
	if format == "" {
		format = "sql"
	}
	switch format {
	case "sql":
		return writeDuckDBSchema(inv.env.stdout)
	}
	return usagef(fmt.Errorf("format: %q is not sql", format))
}

func writeDuckDBSchema(w io.Writer) error {
	for _, t := range schemas.AllTables() {
		fmt.Fprintf(w, "-- %s\n%s;\n\n", t.Description, t.DuckDBCreate())
	}
	for _, t := range schemas.DataTables() {
		fmt.Fprintf(w, "CREATE OR REPLACE VIEW %s AS\n%s;\n\n", schemas.QuoteIdent(t.CurrentView()), schemas.CurrentViewSQL(t, schemas.QuoteIdent))
	}
	return nil
}
