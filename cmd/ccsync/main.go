// Command ccsync copies every CrowdChange transaction into a warehouse: an embedded DuckDB file by
// default, Google BigQuery in production. `ccsync --help` lists the verbs, the global flags and the
// exit codes.
//
// This package is wiring: it builds the configuration, the logger and the clients, then calls a
// plain function per verb (one file per verb: cmd_backfill.go, cmd_status.go, ...). Errors are
// mapped to exit codes in one place (exitcodes.go).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/term"

	"github.com/ccsync/ccsync/config"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], env{
		stdout:   os.Stdout,
		stderr:   os.Stderr,
		src:      config.OS(),
		now:      time.Now,
		terminal: term.IsTerminal(int(os.Stderr.Fd())),
	})
	stop()
	os.Exit(code)
}

// env is what a run gets from the process: output streams, configuration sources, the clock and
// whether a person is watching. Tests build their own.
type env struct {
	stdout, stderr io.Writer
	src            config.Source
	now            func() time.Time
	terminal       bool
}

// verb is one sub-command.
type verb struct {
	name     string
	synopsis string
	usage    string
	run      func(ctx context.Context, inv *invocation) error
}

var verbs = []verb{
	{name: "sync", synopsis: "nightly: the date stream from its watermark (minus --lookback) to now (minus --lag), then the payout stream to yesterday", usage: "ccsync sync [--start D] [--lookback 7d] [--lag 15m] [--payout-account global|user|both] [--concurrency N]", run: cmdSync},
	{name: "backfill", synopsis: "load a closed range of days, resumably", usage: "ccsync backfill --from D --to D [--by date|payout] [--window 24h] [--concurrency N] [--force] [--shard i/n]", run: cmdBackfill},
	{name: "verify", synopsis: "compare the API with the *_current views over a range of days", usage: "ccsync verify --from D --to D", run: cmdVerify},
	{name: "status", synopsis: "watermarks, committed windows, last runs", usage: "ccsync status [--format table|json]", run: cmdStatus},
	{name: "query", synopsis: "run SQL on the DuckDB warehouse", usage: "ccsync query 'SQL' [--format table|csv|json]", run: cmdQuery},
	{name: "schema", synopsis: "print the warehouse schema", usage: "ccsync schema [--format sql|bigquery-json]", run: cmdSchema},
	{name: "sandbox", synopsis: "serve a local CrowdChange API with generated data", usage: "ccsync sandbox [--addr 127.0.0.1:8080] [--sandbox-seed N] [--sandbox-transactions N] [--sandbox-from D --sandbox-to D] [--sandbox-rps R] [--sandbox-faults F]", run: cmdSandbox},
	{name: "config", synopsis: "print the effective configuration, secrets redacted", usage: "ccsync config", run: cmdConfig},
}

func findVerb(name string) (verb, bool) {
	for _, v := range verbs {
		if v.name == name {
			return v, true
		}
	}
	return verb{}, false
}

// invocation is one verb being run: its configuration, logger and run ID.
type invocation struct {
	verb     string
	cfg      *config.Config
	args     []string // positional arguments after the flags
	argv     []string // the verb's whole command line, for the run log
	env      env
	runID    string
	logger   *logrus.Logger
	log      *logrus.Entry
	bar      *terminalProgress // the live progress bar of backfill and sync on a terminal, else nil
	cleanups []func()
}

func (inv *invocation) onClose(f func()) { inv.cleanups = append(inv.cleanups, f) }

func (inv *invocation) close() {
	for i := len(inv.cleanups) - 1; i >= 0; i-- {
		inv.cleanups[i]()
	}
}

// execute runs one command line and returns its exit code.
func execute(ctx context.Context, args []string, e env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(e.stdout, "ccsync", version)
		return exitOK
	}
	// Global flags may come before the verb: find the verb among the arguments.
	vi := -1
	for i, a := range args {
		if _, ok := findVerb(a); ok {
			vi = i
			break
		}
	}
	if vi < 0 {
		fmt.Fprintf(e.stderr, "ccsync: no verb in %q\n\n", strings.Join(args, " "))
		printUsage(e.stderr)
		return exitUsage
	}
	v, _ := findVerb(args[vi])
	flagArgs := append(append([]string(nil), args[:vi]...), args[vi+1:]...)

	inv, err := newInvocation(v, flagArgs, e)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "ccsync %s: %v\n", v.name, err)
		return exitCode(usagef(err))
	}
	defer inv.close()

	err = v.run(ctx, inv)
	code := exitCode(err)
	if err != nil {
		inv.log.WithField("exit_code", code).Error(err.Error())
		if !inv.logsToStderrAsText() {
			// A person reading the terminal gets the reason on stderr even when logs are JSON.
			fmt.Fprintf(e.stderr, "ccsync %s: %v\n", v.name, err)
		}
	}
	return code
}

func (inv *invocation) logsToStderrAsText() bool {
	_, isText := inv.logger.Formatter.(*logrus.TextFormatter)
	return isText
}

// newInvocation parses the flags (which may interleave with positional arguments), then the
// environment and the config file, validates, and builds the logger.
func newInvocation(v verb, args []string, e env) (*invocation, error) {
	cfg := &config.Config{}
	cfg.SetDefaults()
	fs := flag.NewFlagSet("ccsync "+v.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	config.Register(fs, cfg, v.name)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: %s\n\n%s.\n\nflags:\n", v.usage, v.synopsis)
		fs.PrintDefaults()
		fmt.Fprintf(e.stderr, "\nEvery flag can also be set as the environment variable CCSYNC_<NAME> or the key <name> of the config file.\n\n%s", exitCodesHelp)
	}
	var positional []string
	args0 := append([]string(nil), args...)
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...) // everything after "--" is an argument
			break
		}
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	provided, err := config.Resolve(fs, cfg, e.src)
	if err != nil {
		return nil, err
	}
	if cfg.Sandbox.Enabled && !provided["rate"] {
		// The in-process sandbox has no rate limit of its own by default: do not wait for one.
		cfg.API.Rate, cfg.API.Burst = 200, 50
	}
	if cfg.Warehouse.Kind == config.WarehouseBigQuery && !provided["batch-transactions"] {
		cfg.Run.Batch.MaxTransactions = config.BigQueryBatchTransactions
	}
	if err := errors.Join(cfg.Log.Validate(), cfg.Warehouse.Validate(), cfg.DuckDB.Validate(), cfg.Sandbox.Validate(), cfg.Run.Validate()); err != nil {
		return nil, err
	}
	logger, err := newLogger(cfg.Log, e.stderr, e.terminal)
	if err != nil {
		return nil, err
	}
	var bar *terminalProgress
	if e.terminal && (v.name == "backfill" || v.name == "sync") && cfg.Log.Format != "json" {
		bar = newTerminalProgress(e.stderr, e.now)
		logger.SetOutput(bar)
	}
	runID := newRunID(e.now())
	return &invocation{
		bar:    bar,
		verb:   v.name,
		cfg:    cfg,
		args:   positional,
		argv:   args0,
		env:    e,
		runID:  runID,
		logger: logger,
		log:    logger.WithFields(logrus.Fields{"run_id": runID, "verb": v.name}),
	}, nil
}

// newRunID is sortable by time and unique: 20261122T023000Z-1a2b3c4d.
func newRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "ccsync copies every CrowdChange transaction into a warehouse (DuckDB or BigQuery).\n\nusage: ccsync [global flags] <verb> [flags] [args]\n\nverbs:\n")
	for _, v := range verbs {
		fmt.Fprintf(w, "  %-9s %s\n", v.name, v.synopsis)
	}
	fmt.Fprintf(w, "\nglobal flags (every verb; `ccsync <verb> --help` lists the verb's own):\n")
	settings := config.Settings()
	sort.SliceStable(settings, func(i, j int) bool { return len(settings[i].Verbs) == 0 && len(settings[j].Verbs) != 0 })
	for _, s := range settings {
		if len(s.Verbs) != 0 {
			continue
		}
		def := ""
		if s.Default != "" && s.Default != "0" && s.Default != "false" {
			def = " (default " + s.Default + ")"
		}
		fmt.Fprintf(w, "  --%-21s %s%s\n", s.Name, s.Usage, def)
	}
	fmt.Fprintf(w, "\nThe API key comes only from %s or --api-key-file. Every flag can also be set as\nthe environment variable CCSYNC_<NAME> (dashes as underscores) or the key <name> of the YAML\nconfig file; flags win over the environment, the environment over the file.\n\n%s", config.APIKeyEnv, exitCodesHelp)
}
