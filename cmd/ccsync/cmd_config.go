package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/ccsync/ccsync/config"
)

// cmdConfig prints the effective configuration (defaults, then the file, the environment and the
// flags), every setting with its value, secrets redacted.
func cmdConfig(ctx context.Context, inv *invocation) error {
	tw := tabwriter.NewWriter(inv.env.stdout, 0, 0, 2, ' ', 0)
	for _, kv := range config.Effective(inv.cfg, "") {
		fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
	}
	return tw.Flush()
}
