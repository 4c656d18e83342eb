package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchangetest"
	"github.com/ccsync/ccsync/load"
)

// apiClient builds the API client: against the in-process sandbox with --sandbox, else the
// configured API. It checks the key with one request before any work, so that a wrong key stops
// the run within seconds and before anything is written.
func (inv *invocation) apiClient(ctx context.Context) (*extract.Client, error) {
	if inv.cfg.Sandbox.Enabled {
		inv.cfg.API.URL = inv.startSandbox()
		inv.cfg.API.Key = config.Secret(sandboxKey)
	}
	if err := inv.cfg.API.Validate(); err != nil {
		return nil, usagef(err)
	}
	opts := []extract.Option{extract.WithVersion(version)}
	if inv.bar != nil {
		opts = append(opts, extract.WithObserver(inv.bar.backingOff))
	}
	c, err := extract.NewClient(inv.cfg.API, inv.log.WithField("component", "extract"), opts...)
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
func (inv *invocation) sandboxOptions() crowdchangetest.Options {
	s := inv.cfg.Sandbox
	today := inv.env.now().UTC().Truncate(24 * time.Hour)
	from, to := s.From, s.To
	if from.IsZero() {
		from = today.AddDate(-1, 0, 0)
	}
	if to.IsZero() {
		to = today.AddDate(0, 0, -1)
	}
	return crowdchangetest.Options{
		Seed:           s.Seed,
		Transactions:   s.Transactions,
		From:           from,
		To:             to.AddDate(0, 0, 1),
		APIKey:         sandboxKey,
		IncludeExample: s.Example,
		Faults:         crowdchangetest.Faults{Rate: s.Faults},
		RPS:            s.RPS,
		Now:            inv.env.now,
	}
}

// startSandbox starts the in-process sandbox on a loopback port for the rest of the invocation
// and returns its URL.
func (inv *invocation) startSandbox() string {
	opts := inv.sandboxOptions()
	_, hs := crowdchangetest.Start(opts)
	inv.onClose(hs.Close)
	inv.log.WithFields(map[string]any{
		"url": hs.URL, "transactions": opts.Transactions, "from": opts.From.Format(time.DateOnly),
		"to": opts.To.AddDate(0, 0, -1).Format(time.DateOnly), "faults": opts.Faults.Rate,
	}).Info("sandbox API started")
	return hs.URL
}

// connect builds the API client (checking the key) and opens the warehouse, which closes with the
// invocation.
func (inv *invocation) connect(ctx context.Context) (*extract.Client, Sink, error) {
	client, err := inv.apiClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	sink, err := inv.openSink(ctx)
	if err != nil {
		return nil, nil, err
	}
	inv.onClose(func() {
		if err := sink.Close(); err != nil {
			inv.log.WithError(err).Warn("closing the warehouse")
		}
	})
	return client, sink, nil
}

// openSink opens the configured warehouse.
func (inv *invocation) openSink(ctx context.Context) (Sink, error) {
	switch inv.cfg.Warehouse.Kind {
	case config.WarehouseDuckDB:
		d, err := load.OpenDuckDB(ctx, inv.cfg.DuckDB, inv.log.WithField("component", "load"))
		if err != nil {
			return nil, fmt.Errorf("opening the DuckDB warehouse %s: %w", inv.cfg.DuckDB.Path, err)
		}
		return d, nil
	case config.WarehouseBigQuery:
		if err := inv.cfg.BigQuery.Validate(); err != nil {
			return nil, usagef(err)
		}
		// The client retries 5xx until its context ends: an outage must not hang the run's start.
		openCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		b, err := load.OpenBigQuery(openCtx, inv.cfg.BigQuery, inv.log.WithField("component", "load"), load.WithGetenv(inv.env.src.Getenv))
		if err != nil {
			return nil, fmt.Errorf("opening the BigQuery dataset %s:%s: %w", inv.cfg.BigQuery.Project, inv.cfg.BigQuery.Dataset, err)
		}
		return b, nil
	}
	return nil, usagef(fmt.Errorf("warehouse %q is not supported", inv.cfg.Warehouse.Kind))
}
