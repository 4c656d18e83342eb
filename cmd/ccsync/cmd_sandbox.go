package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
	"github.com/ccsync/ccsync/extract/crowdtilt/crowdtilttest"
	"github.com/ccsync/ccsync/extract/donately/donatelytest"
)

// cmdSandbox serves the --source's sandbox API on --addr until interrupted.
func cmdSandbox(ctx context.Context, inv *invocation) error {
	var handler http.Handler
	var from, to time.Time
	var hint func(url string) string
	switch inv.cfg.Source {
	case config.SourceDonately:
		if inv.cfg.Donately.Account == "" {
			inv.cfg.Donately.Account = donatelytest.DefaultAccount
		}
		opts, err := inv.donatelySandboxOptions()
		if err != nil {
			return err
		}
		handler, from, to = donatelytest.New(opts), opts.From, opts.To
		hint = func(url string) string {
			return fmt.Sprintf("Donately sandbox API on %s (token %q, account %s, %d donations)\n  export %s=%s\n  ccsync --source donately --donately-account %s --api-url %s",
				url, opts.Token, opts.Account, opts.Donations, config.DonatelyTokenEnv, opts.Token, opts.Account, url)
		}
	case config.SourceCrowdtilt:
		opts, err := inv.crowdtiltSandboxOptions()
		if err != nil {
			return err
		}
		handler, from, to = crowdtilttest.New(opts), opts.From, opts.To
		hint = func(url string) string {
			return fmt.Sprintf("Crowdtilt sandbox API on %s (key %q, secret %q, %d campaigns, %d payments)\n  export %s=%s %s=%s\n  ccsync --source crowdtilt --api-url %s",
				url, opts.Key, opts.Secret, opts.Campaigns, opts.Payments, config.CrowdtiltKeyEnv, opts.Key, config.CrowdtiltSecretEnv, opts.Secret, url)
		}
	default:
		opts, err := inv.sandboxOptions()
		if err != nil {
			return err
		}
		handler, from, to = crowdchangetest.New(opts), opts.From, opts.To
		hint = func(url string) string {
			return fmt.Sprintf("sandbox API on %s (key %q, %d transactions)\n  export CROWDCHANGE_API_KEY=%s\n  ccsync --api-url %s",
				url, sandboxKey, opts.Transactions, sandboxKey, url)
		}
	}
	ln, err := net.Listen("tcp", inv.cfg.Sandbox.Addr)
	if err != nil {
		return usagef(fmt.Errorf("listening on %s: %w", inv.cfg.Sandbox.Addr, err))
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(inv.env.stdout, "%s backfill --from %s --to %s\n", hint(url), from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-errc
	return nil
}
