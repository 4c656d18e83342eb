package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/load"
	"github.com/ccsync/ccsync/load/pipeline"
	"github.com/ccsync/ccsync/load/verify"
	"github.com/ccsync/ccsync/schemas"
)

// apiClient builds the API client: against the in-process sandbox with --sandbox, else the
// configured API. It checks the key with one request before any work, so that a wrong key stops
// the run within seconds and before anything is written.
func (inv *invocation) apiClient(ctx context.Context, extra ...extract.Option) (*crowdchange.Client, error) {
	if inv.cfg.Sandbox.Enabled {
		url, err := inv.startSandbox()
		if err != nil {
			return nil, err
		}
		inv.cfg.API.URL = url
		inv.cfg.API.Key = config.Secret(sandboxKey)
	}
	if err := inv.cfg.API.Validate(); err != nil {
		return nil, usagef(err)
	}
	opts := []extract.Option{extract.WithVersion(version)}
	if inv.bar != nil {
		opts = append(opts, extract.WithObserver(inv.bar.BackingOff))
	}
	opts = append(opts, extra...)
	c, err := crowdchange.NewClient(inv.cfg.API, inv.log.WithField("component", "extract"), opts...)
	if err != nil {
		return nil, usagef(err)
	}
	checkCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.Check(checkCtx); err != nil {
		return nil, fmt.Errorf("checking the API key against %s: %w", inv.cfg.API.URL, err)
	}
	return c, nil
}

const sandboxKey = "sandbox-key"

// sandboxOptions turns the sandbox configuration into the sandbox's options.
func (inv *invocation) sandboxOptions() (crowdchangetest.Options, error) {
	s := inv.cfg.Sandbox
	hostile := crowdchangetest.Hostile{PageCap: s.PageCap, IgnorePage: s.IgnorePage, Rate: s.Hostile, Canary: s.Canary}
	for _, name := range strings.Split(s.Tricks, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		tr, err := crowdchangetest.ParseTrick(name)
		if err != nil {
			return crowdchangetest.Options{}, usagef(fmt.Errorf("sandbox-tricks: %w", err))
		}
		hostile.Tricks = append(hostile.Tricks, tr)
	}
	if err := hostile.Validate(); err != nil {
		return crowdchangetest.Options{}, usagef(err)
	}
	from, to := inv.sandboxRange()
	return crowdchangetest.Options{
		Seed:           s.Seed,
		Transactions:   s.Transactions,
		From:           from,
		To:             to,
		APIKey:         sandboxKey,
		IncludeExample: s.Example,
		Faults:         crowdchangetest.Faults{Rate: s.Faults},
		RPS:            s.RPS,
		Now:            inv.env.now,
		Hostile:        hostile,
	}, nil
}

// sandboxRange is the sandbox's data range [from, to): --sandbox-from..--sandbox-to, by default
// the last twelve months up to yesterday.
func (inv *invocation) sandboxRange() (from, to time.Time) {
	s := inv.cfg.Sandbox
	today := inv.env.now().UTC().Truncate(24 * time.Hour)
	from, to = s.From, s.To
	if from.IsZero() {
		from = today.AddDate(-1, 0, 0)
	}
	if to.IsZero() {
		to = today.AddDate(0, 0, -1)
	}
	return from, to.AddDate(0, 0, 1)
}

// startSandbox starts the in-process sandbox on a loopback port for the rest of the invocation
// and returns its URL.
func (inv *invocation) startSandbox() (string, error) {
	opts, err := inv.sandboxOptions()
	if err != nil {
		return "", err
	}
	_, hs := crowdchangetest.Start(opts)
	inv.onClose(hs.Close)
	inv.log.WithFields(map[string]any{
		"url": hs.URL, "transactions": opts.Transactions, "from": opts.From.Format(time.DateOnly),
		"to": opts.To.AddDate(0, 0, -1).Format(time.DateOnly), "faults": opts.Faults.Rate,
	}).Info("sandbox API started")
	return hs.URL, nil
}

// connect builds the --source's API client (checking the key) and opens the warehouse, which
// closes with the invocation; a run verb creates its tables under the PII policy pii. For verify,
// the client pages differently from the extraction.
func (inv *invocation) connect(ctx context.Context, verifying bool, pii schemas.Policy) (platform, sink, error) {
	client, err := inv.platform(ctx, verifying)
	if err != nil {
		return nil, nil, err
	}
	sink, err := inv.openSink(ctx, pii)
	if err != nil {
		return nil, nil, err
	}
	inv.onClose(func() {
		if err := sink.Close(); err != nil {
			inv.log.WithError(err).Warn("closing the warehouse")
		}
	})
	if d, ok := client.(changeDetector); ok {
		wh, err := verify.WarehouseOf(sink)
		if err != nil {
			return nil, nil, err
		}
		d.CompareWith(wh)
	}
	return client, sink, nil
}

// openSink opens the configured warehouse: for writing in the run verbs (backfill, sync), which
// first remove the batch directories killed runs left in --temp-dir, and create the tables under
// the PII policy pii; read-only in the others.
func (inv *invocation) openSink(ctx context.Context, pii schemas.Policy) (sink, error) {
	if inv.writesWarehouse() {
		inv.removeStaleBatches()
	}
	switch inv.cfg.Warehouse.Kind {
	case config.WarehouseDuckDB:
		return inv.openDuckDB(ctx, inv.writesWarehouse(), load.WithDuckDBPII(pii))
	case config.WarehouseBigQuery:
		if err := inv.cfg.BigQuery.Validate(); err != nil {
			return nil, usagef(err)
		}
		// The client retries 5xx until its context ends: an outage must not hang the run's start.
		openCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		b, err := load.OpenBigQuery(openCtx, inv.cfg.BigQuery, inv.log.WithField("component", "load"), load.WithGetenv(inv.env.src.Getenv), load.WithBigQueryPII(pii))
		if err != nil {
			return nil, fmt.Errorf("opening the BigQuery dataset %s:%s: %w", inv.cfg.BigQuery.Project, inv.cfg.BigQuery.Dataset, err)
		}
		return b, nil
	}
	return nil, usagef(fmt.Errorf("warehouse %q is not supported", inv.cfg.Warehouse.Kind))
}

// writesWarehouse tells whether the verb writes the warehouse: only the run verbs create and
// change it (and `query --write`, which opens it itself).
func (inv *invocation) writesWarehouse() bool { return inv.verb == "backfill" || inv.verb == "sync" }

// openDuckDB opens the DuckDB warehouse: for writing (creating the file when it is missing,
// unless load.MustExist is among opts), or read-only, when it must exist already; a reading verb
// never creates a file. Either waits up to --duckdb-lock-wait while another process holds the
// file.
func (inv *invocation) openDuckDB(ctx context.Context, write bool, opts ...load.DuckDBOption) (*load.DuckDB, error) {
	cfg, log := inv.cfg.DuckDB, inv.log.WithField("component", "load")
	var d *load.DuckDB
	var err error
	if write {
		d, err = load.OpenDuckDB(ctx, cfg, log, opts...)
	} else {
		d, err = load.OpenDuckDBReadOnly(ctx, cfg, log, opts...)
	}
	switch {
	case errors.Is(err, load.ErrNoWarehouse):
		return nil, usagef(fmt.Errorf("no DuckDB warehouse at %s; run backfill or sync first, or check --duckdb", cfg.Path))
	case err != nil:
		return nil, fmt.Errorf("opening the DuckDB warehouse %s: %w", cfg.Path, err)
	}
	return d, nil
}

// removeStaleBatches removes the batch directories under --temp-dir whose run is gone (killed):
// a live run's, locked by its process, are left alone. A failure only warns: the run does not
// depend on it.
func (inv *invocation) removeStaleBatches() {
	log := inv.log.WithField("component", "load")
	if _, err := load.RemoveStaleBatches(inv.cfg.Run.TempDir, log); err != nil {
		log.WithError(err).Warn("removing the batch directories of killed runs")
	}
}

// sink is an open warehouse as the verbs use it: the run loop's view, and closing.
type sink interface {
	pipeline.Sink
	Close() error
}
