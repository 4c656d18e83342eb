package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ccsync/ccsync/load/pipeline"
	"github.com/ccsync/ccsync/schemas"
)

// cmdStatus prints the source's state (pipeline.Status): per stream the watermark, its lag behind
// now and the committed windows, and the last ten runs; it exits 4 when the watched stream's
// watermark lags more than --max-lag.
func cmdStatus(ctx context.Context, inv *invocation) error {
	format := inv.cfg.Output.Format
	if format == "" {
		format = "table"
	}
	if err := inv.cfg.Output.Validate("table", "json"); err != nil {
		return usagef(err)
	}
	sink, err := inv.openSink(ctx, schemas.Policy{}) // read-only: no table is created
	if err != nil {
		return err
	}
	defer sink.Close()
	src, ok := sink.(pipeline.StatusSource)
	if !ok {
		return usagef(fmt.Errorf("warehouse %s has no status", inv.cfg.Warehouse.Kind))
	}
	rep, err := pipeline.Status(ctx, src, inv.source(), inv.env.now(), inv.cfg.Run.MaxLag)
	if err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(inv.env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		pipeline.WriteStatus(inv.env.stdout, rep)
	}
	if rep.Lagging {
		return fmt.Errorf("%s stream: %w (%s)", strings.Join(rep.Watched, "/"), errLagging, inv.cfg.Run.MaxLag)
	}
	return nil
}
