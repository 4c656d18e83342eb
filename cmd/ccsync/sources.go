package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdtilt"
	"github.com/ccsync/ccsync/extract/crowdtilt/crowdtilttest"
	"github.com/ccsync/ccsync/extract/donately"
	"github.com/ccsync/ccsync/extract/donately/donatelytest"
	"github.com/ccsync/ccsync/load/pipeline"
	"github.com/ccsync/ccsync/load/verify"
	transformcrowdchange "github.com/ccsync/ccsync/transform/crowdchange"
	transformcrowdtilt "github.com/ccsync/ccsync/transform/crowdtilt"
	transformdonately "github.com/ccsync/ccsync/transform/donately"
)

// platform is the --source as the run loop and verify see it.
type platform interface {
	pipeline.Source
	verify.Source
}

var (
	_ platform = (*transformcrowdchange.Source)(nil)
	_ platform = (*transformdonately.Source)(nil)
	_ platform = (*transformcrowdtilt.Source)(nil)
)

// changeDetector is a platform that appends a version of a record only when it changed since
// its current version in the warehouse (Crowdtilt): connect hands it the warehouse.
type changeDetector interface {
	CompareWith(wh verify.Warehouse)
}

var _ changeDetector = (*transformcrowdtilt.Source)(nil)

// source is the --source the invocation runs against.
func (inv *invocation) source() string { return inv.cfg.Source }

// platform builds the --source's client, checked with one request, and its source.
func (inv *invocation) platform(ctx context.Context, verifying bool) (platform, error) {
	opts := []extract.Option{extract.WithVersion(version)}
	if inv.bar != nil {
		opts = append(opts, extract.WithObserver(inv.bar.BackingOff))
	}
	switch inv.cfg.Source {
	case config.SourceDonately:
		c, err := inv.donatelyClient(ctx, opts...)
		if err != nil {
			return nil, err
		}
		return transformdonately.NewSource(c), nil
	case config.SourceCrowdtilt:
		c, err := inv.crowdtiltClient(opts...)
		if err != nil {
			return nil, err
		}
		return transformcrowdtilt.NewSource(c, inv.log.WithField("component", "extract")), nil
	default:
		if verifying {
			// verify pages the API differently from backfill and sync (another page size, and
			// until an empty page whatever the pages' lengths and the count say), so that a
			// paging bug of the extraction shows up as a difference instead of being repeated.
			inv.cfg.API.PageSize = verify.PageSize(inv.cfg.API.PageSize)
			opts = append(opts, extract.WithPaging(extract.PagingUntilEmpty))
		}
		// The client finds each transaction's unknown fields while it decodes it.
		opts = append(opts, extract.WithKnownLeaves(transformcrowdchange.KnownLeaves()))
		c, err := inv.apiClient(ctx, opts...)
		if err != nil {
			return nil, err
		}
		return transformcrowdchange.NewSource(c), nil
	}
}

// donatelyClient builds the Donately client: against the in-process Donately sandbox with
// --sandbox, else the configured API; one request checks the token and the account first.
func (inv *invocation) donatelyClient(ctx context.Context, opts ...extract.Option) (*donately.Client, error) {
	cfg := &inv.cfg.Donately
	if inv.cfg.Sandbox.Enabled {
		if cfg.Account == "" {
			cfg.Account = donatelytest.DefaultAccount
		}
		opts, err := inv.donatelySandboxOptions()
		if err != nil {
			return nil, err
		}
		_, hs := donatelytest.Start(opts)
		inv.onClose(hs.Close)
		inv.log.WithFields(map[string]any{
			"url": hs.URL, "donations": opts.Donations, "from": opts.From.Format(time.DateOnly),
			"to": opts.To.AddDate(0, 0, -1).Format(time.DateOnly), "faults": opts.Faults.Rate,
		}).Info("Donately sandbox API started")
		cfg.URL, cfg.Token = hs.URL, config.Secret(donatelytest.DefaultToken)
	}
	if err := cfg.Validate(); err != nil {
		return nil, usagef(err)
	}
	c, err := donately.NewClient(*cfg, inv.cfg.API, inv.log.WithField("component", "extract"), opts...)
	if err != nil {
		return nil, usagef(err)
	}
	checkCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.Check(checkCtx); err != nil {
		return nil, fmt.Errorf("checking the Donately token and account against %s: %w", cfg.URL, err)
	}
	return c, nil
}

// donatelySandboxOptions are the Donately sandbox's options from the sandbox settings.
func (inv *invocation) donatelySandboxOptions() (donatelytest.Options, error) {
	s := inv.cfg.Sandbox
	if s.PageCap > 0 || s.IgnorePage || s.Hostile > 0 || s.Tricks != "" || s.Canary != "" {
		return donatelytest.Options{}, usagef(fmt.Errorf("sandbox: the hostile settings are the CrowdChange sandbox's"))
	}
	from, to := inv.sandboxRange()
	return donatelytest.Options{
		Seed: s.Seed, Donations: s.Transactions, From: from, To: to,
		Token: donatelytest.DefaultToken, Account: inv.cfg.Donately.Account,
		Faults: donatelytest.Faults{Rate: s.Faults}, RPS: s.RPS, Now: inv.env.now,
	}, nil
}

// crowdtiltClient builds the Crowdtilt client: against the in-process Crowdtilt sandbox with
// --sandbox, else the configured API. No request checks the credentials first: the run's first
// request, the campaigns listing its plan needs, does (a refusal exits 3 before any work), so
// that a sync that finds no change costs exactly its campaign and payment pages.
func (inv *invocation) crowdtiltClient(opts ...extract.Option) (*crowdtilt.Client, error) {
	cfg := &inv.cfg.Crowdtilt
	if inv.cfg.Sandbox.Enabled {
		sopts, err := inv.crowdtiltSandboxOptions()
		if err != nil {
			return nil, err
		}
		_, hs := crowdtilttest.Start(sopts)
		inv.onClose(hs.Close)
		inv.log.WithFields(map[string]any{
			"url": hs.URL, "campaigns": sopts.Campaigns, "payments": sopts.Payments, "from": sopts.From.Format(time.DateOnly),
			"to": sopts.To.AddDate(0, 0, -1).Format(time.DateOnly), "faults": sopts.Faults.Rate,
		}).Info("Crowdtilt sandbox API started")
		cfg.URL, cfg.Key, cfg.Secret = hs.URL, config.Secret(sopts.Key), config.Secret(sopts.Secret)
	}
	if err := cfg.Validate(); err != nil {
		return nil, usagef(err)
	}
	c, err := crowdtilt.NewClient(*cfg, inv.cfg.API, inv.log.WithField("component", "extract"), opts...)
	if err != nil {
		return nil, usagef(err)
	}
	return c, nil
}

// crowdtiltSandboxOptions are the Crowdtilt sandbox's options from the sandbox settings: its
// payments are --sandbox-transactions, over --sandbox-from..--sandbox-to.
func (inv *invocation) crowdtiltSandboxOptions() (crowdtilttest.Options, error) {
	s := inv.cfg.Sandbox
	if s.PageCap > 0 || s.IgnorePage || s.Hostile > 0 || s.Tricks != "" || s.Canary != "" || s.Example {
		return crowdtilttest.Options{}, usagef(fmt.Errorf("sandbox: the hostile settings and --sandbox-example are the CrowdChange sandbox's"))
	}
	from, to := inv.sandboxRange()
	return crowdtilttest.Options{
		Seed: s.Seed, Payments: s.Transactions, Campaigns: crowdtilttest.DefaultCampaigns, From: from, To: to,
		Key: crowdtilttest.DefaultKey, Secret: crowdtilttest.DefaultSecret,
		Faults: crowdtilttest.Faults{Rate: s.Faults}, RPS: s.RPS, Now: inv.env.now,
	}, nil
}
