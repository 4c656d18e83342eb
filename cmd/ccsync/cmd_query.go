package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/load"
)

// cmdQuery runs SQL on the DuckDB warehouse and prints the result.
func cmdQuery(ctx context.Context, inv *invocation) error {
	if len(inv.args) != 1 || strings.TrimSpace(inv.args[0]) == "" {
		return usagef(errors.New("want exactly one SQL argument: ccsync query 'SELECT ...'"))
	}
	format := inv.cfg.Output.Format
	if format == "" {
		format = "table"
	}
	if err := inv.cfg.Output.Validate("table", "csv", "json"); err != nil {
		return usagef(err)
	}
	if inv.cfg.Warehouse.Kind != config.WarehouseDuckDB {
		return usagef(errors.New("query runs on the DuckDB warehouse; query BigQuery with bq or the console"))
	}
	d, err := load.OpenDuckDB(ctx, inv.cfg.DuckDB, inv.log.WithField("component", "load"))
	if err != nil {
		return usagef(fmt.Errorf("opening the DuckDB warehouse %s: %w", inv.cfg.DuckDB.Path, err))
	}
	defer d.Close()
	rows, err := d.DB().QueryContext(ctx, inv.args[0])
	if err != nil {
		return usagef(fmt.Errorf("query: %w", err))
	}
	defer rows.Close()
	_, err = writeRows(inv.env.stdout, rows, format)
	return err
}
