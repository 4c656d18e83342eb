package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/ccsync/ccsync/extract/crowdchangetest"
)

// cmdSandbox serves the sandbox API on --addr until interrupted.
func cmdSandbox(ctx context.Context, inv *invocation) error {
	opts, err := inv.sandboxOptions()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", inv.cfg.Sandbox.Addr)
	if err != nil {
		return usagef(fmt.Errorf("listening on %s: %w", inv.cfg.Sandbox.Addr, err))
	}
	srv := &http.Server{Handler: crowdchangetest.New(opts), ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(inv.env.stdout, "sandbox API on %s (key %q, %d transactions %s..%s)\n  export CROWDCHANGE_API_KEY=%s\n  ccsync --api-url %s backfill --from %s --to %s\n",
		url, sandboxKey, opts.Transactions, opts.From.Format(time.DateOnly), opts.To.AddDate(0, 0, -1).Format(time.DateOnly),
		sandboxKey, url, opts.From.Format(time.DateOnly), opts.To.AddDate(0, 0, -1).Format(time.DateOnly))
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
