package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/load"
)

// cmdQuery runs SQL on the DuckDB warehouse and prints the result. The warehouse is opened
// read-only (DuckDB refuses any change, and runs writing it are not held up) unless --write; in
// either case it must exist: query never creates it.
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
	d, err := openQueryWarehouse(ctx, inv)
	if err != nil {
		return err
	}
	defer d.Close()
	rows, err := d.Query(ctx, inv.args[0])
	if errors.Is(err, load.ErrReadOnly) {
		return usagef(fmt.Errorf("query: %w; pass --write to change it", err))
	}
	if err != nil {
		return usagef(fmt.Errorf("query: %w", err))
	}
	defer rows.Close()
	_, err = writeRows(inv.env.stdout, rows, format)
	return err
}

// openQueryWarehouse opens the warehouse for query: read-only, or with --write for writing, but
// never creating the file.
func openQueryWarehouse(ctx context.Context, inv *invocation) (*load.DuckDB, error) {
	var opts []load.DuckDBOption
	if inv.cfg.DuckDB.Write {
		opts = append(opts, load.MustExist())
	}
	d, err := inv.openDuckDB(ctx, inv.cfg.DuckDB.Write, opts...)
	if err != nil {
		return nil, usagef(err)
	}
	return d, nil
}
