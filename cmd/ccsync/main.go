// Command ccsync copies every CrowdChange transaction into a warehouse: an embedded DuckDB file by
// default, Google BigQuery in production. `ccsync --help` lists the verbs, the global flags and the
// exit codes; `ccsync <verb> --help` the verb's usage, its flags and the exit codes.
//
// This package is wiring: it builds the configuration, the logger and the clients, then calls a
// plain function per verb (one file per verb: cmd_backfill.go, cmd_status.go, ...). Errors are
// mapped to exit codes in one place (exitcodes.go).
//
// The command line is cobra's: a root command whose persistent flags are the settings of every
// verb (config.RegisterGlobal), one sub-command per verb whose flags are the verb's own settings
// (config.RegisterVerb). Flags may come before or after the verb and among its arguments; `--`
// ends them (`ccsync query -- 'SQL'`). `ccsync completion bash|zsh|fish` prints a shell completion
// script, `ccsync version` and `ccsync --version` the version. Cobra prints neither errors nor
// usage itself: execute prints each error once, on stderr, and returns its exit code; help goes to
// stderr, completion scripts and the version to stdout.
//
// On a terminal, backfill and sync draw a progress line that fits the terminal's width, measured
// at every redraw (progress.go).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
		width:    terminalWidth(os.Stderr),
	})
	stop()
	os.Exit(code)
}

// env is what a run gets from the process: output streams, configuration sources, the clock and
// whether a person is watching, on a terminal how wide. Tests build their own.
type env struct {
	stdout, stderr io.Writer
	src            config.Source
	now            func() time.Time
	terminal       bool
	// width measures the columns of the terminal that stderr is, at each call (nil or 0:
	// unknown); the progress bar fits in it.
	width func() int
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

// errNoVerb is a command line without a verb.
var errNoVerb = errors.New("no verb")

// execute runs one command line and returns its exit code.
func execute(ctx context.Context, args []string, e env) int {
	cfg := &config.Config{}
	cfg.SetDefaults() // before the flags are defined, so that --help shows the defaults
	code := exitOK    // what --help, --version and completion end with
	root := newRootCommand(cfg, e, func(cmd *cobra.Command, v verb, positional []string) {
		code = runVerb(cmd.Context(), v, cmd.Flags(), cfg, positional, withoutVerb(cmd, args), e)
	})
	// Never nil: cobra would read os.Args.
	root.SetArgs(append([]string{}, args...))
	cmd, err := root.ExecuteContextC(ctx)
	switch {
	case errors.Is(err, errNoVerb):
		if len(args) > 0 {
			fmt.Fprintf(e.stderr, "ccsync: no verb in %q\n\n", strings.Join(args, " "))
		}
		printRootHelp(e.stderr, root)
		return exitUsage
	case err != nil:
		// Cobra's own: an unknown verb or flag, a bad flag value, a missing flag value.
		fmt.Fprintf(e.stderr, "%s: %v\n", cmd.CommandPath(), err)
		return exitUsage
	}
	return code
}

// withoutVerb is the verb's whole command line args less the verb itself (for the run log), as
// cobra finds it (a flag's value that reads like the verb stays).
func withoutVerb(cmd *cobra.Command, args []string) []string {
	_, rest, _ := cmd.Root().Find(args)
	return rest
}

// runVerb resolves the configuration of a verb whose flags cobra parsed, runs the verb and returns
// its exit code, having printed its error if any.
func runVerb(ctx context.Context, v verb, flags *pflag.FlagSet, cfg *config.Config, positional, argv []string, e env) int {
	inv, err := newInvocation(v, flags, cfg, positional, argv, e)
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

// newRootCommand builds the command tree: the root with the global flags, bound to cfg, and one
// sub-command per verb with its own flags; run is called with the verb cobra found and parsed.
func newRootCommand(cfg *config.Config, e env, run func(cmd *cobra.Command, v verb, positional []string)) *cobra.Command {
	root := &cobra.Command{
		Use:           "ccsync",
		Short:         "copy every CrowdChange transaction into a warehouse (DuckDB or BigQuery)",
		Version:       version,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE:          func(*cobra.Command, []string) error { return errNoVerb },
	}
	root.SetOut(e.stdout) // completion scripts (and what the shell asks them), the version
	root.SetErr(e.stderr)
	root.SetVersionTemplate("ccsync {{.Version}}\n")
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) { printHelp(e.stderr, cmd) })
	root.SetUsageFunc(func(cmd *cobra.Command) error { printHelp(e.stderr, cmd); return nil })
	root.SetFlagErrorFunc(flagError)
	root.PersistentFlags().SortFlags = false
	config.RegisterGlobal(root.PersistentFlags(), cfg)
	addHelpFlag(root)

	for _, v := range verbs {
		cmd := &cobra.Command{
			Use:   v.name,
			Short: v.synopsis,
			Args:  cobra.ArbitraryArgs,
			RunE: func(cmd *cobra.Command, positional []string) error {
				run(cmd, v, positional)
				return nil // the verb's error is printed and mapped by runVerb
			},
		}
		cmd.Flags().SortFlags = false
		config.RegisterVerb(cmd.Flags(), cfg, v.name)
		addHelpFlag(cmd)
		root.AddCommand(cmd)
	}
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "print the version",
		Args:  cobra.NoArgs,
		Run:   func(*cobra.Command, []string) { fmt.Fprintln(e.stdout, "ccsync", version) },
	})
	return root
}

// addHelpFlag defines -h/--help on cmd before cobra does, so that its help lists it as a switch
// ("-h, --help") like the other switches rather than pflag's "--help[=true|false]".
func addHelpFlag(cmd *cobra.Command) {
	help := false
	f := cmd.Flags().VarPF((*helpSwitch)(&help), "help", "h", "help for "+cmd.Name())
	f.NoOptDefVal = "true"
}

// helpSwitch is a bool flag value that pflag prints as a plain switch.
type helpSwitch bool

func (v *helpSwitch) String() string { return strconv.FormatBool(bool(*v)) }
func (v *helpSwitch) Type() string   { return "bool" } // cobra reads it with GetBool
func (v *helpSwitch) Set(s string) error {
	b, err := strconv.ParseBool(s)
	*v = helpSwitch(b)
	return err
}

// flagError words a flag cobra could not parse. An unknown flag reads as it always has (Go's flag
// package's words) and names the verbs it belongs to; a bad value names the flag, as the
// environment's and the config file's errors name theirs.
func flagError(cmd *cobra.Command, err error) error {
	var notExist *pflag.NotExistError
	var invalid *pflag.InvalidValueError
	switch {
	case errors.As(err, &notExist):
		name := notExist.GetSpecifiedName()
		if typed := notExist.GetSpecifiedShortnames(); typed != "" {
			name = typed // -write: pflag reads one dash as shorthands
			if cmd.Flags().Lookup(name) != nil {
				return fmt.Errorf("flag provided but not defined: -%s (long flags take two dashes: --%s)", name, name)
			}
		}
		msg := "flag provided but not defined: -" + name
		if owners := verbsWithFlag(name); len(owners) > 0 {
			msg += fmt.Sprintf(" (--%s is a flag of %s)", name, strings.Join(owners, ", "))
		}
		return errors.New(msg)
	case errors.As(err, &invalid):
		return fmt.Errorf("--%s: %w", invalid.GetFlag().Name, errors.Unwrap(invalid))
	}
	return err
}

// verbsWithFlag lists the verbs that take the flag name as their own.
func verbsWithFlag(name string) []string {
	for _, s := range config.Settings() {
		if s.Name == name {
			return s.Verbs
		}
	}
	return nil
}

// newInvocation completes the flags cobra parsed with the environment and the config file,
// validates, and builds the logger.
func newInvocation(v verb, flags *pflag.FlagSet, cfg *config.Config, positional, argv []string, e env) (*invocation, error) {
	provided, err := config.Resolve(flags, cfg, e.src)
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
	if err := errors.Join(cfg.ValidateSource(), cfg.Log.Validate(), cfg.Warehouse.Validate(), cfg.DuckDB.Validate(), cfg.Sandbox.Validate(), cfg.Run.Validate()); err != nil {
		return nil, err
	}
	logger, err := newLogger(cfg.Log, e.stderr, e.terminal)
	if err != nil {
		return nil, err
	}
	var bar *terminalProgress
	if e.terminal && (v.name == "backfill" || v.name == "sync") && cfg.Log.Format != "json" {
		bar = newTerminalProgress(e.stderr, e.now, e.width)
		logger.SetOutput(bar)
	}
	runID := newRunID(e.now())
	return &invocation{
		bar:    bar,
		verb:   v.name,
		cfg:    cfg,
		args:   positional,
		argv:   argv,
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

// printHelp is every command's --help: the root's, a verb's, or another command's (completion,
// version, help).
func printHelp(w io.Writer, cmd *cobra.Command) {
	if !cmd.HasParent() {
		printRootHelp(w, cmd)
		return
	}
	if v, ok := findVerb(cmd.Name()); ok && cmd.Parent() == cmd.Root() {
		printVerbHelp(w, cmd, v)
		return
	}
	about := cmd.Long
	if about == "" {
		about = cmd.Short
	}
	fmt.Fprintf(w, "usage: %s\n\n%s\n", cmd.UseLine(), strings.TrimSpace(about))
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\ncommands:\n")
		for _, sub := range cmd.Commands() {
			if sub.IsAvailableCommand() {
				fmt.Fprintf(w, "  %-11s %s\n", sub.Name(), sub.Short)
			}
		}
	}
	if flags := cmd.LocalFlags().FlagUsages(); flags != "" {
		fmt.Fprintf(w, "\nflags:\n%s", flags)
	}
}

func printRootHelp(w io.Writer, root *cobra.Command) {
	fmt.Fprintf(w, "ccsync copies every CrowdChange transaction into a warehouse (DuckDB or BigQuery).\n\nusage: ccsync [global flags] <verb> [flags] [args]\n\nverbs:\n")
	for _, v := range verbs {
		fmt.Fprintf(w, "  %-11s %s\n", v.name, v.synopsis)
	}
	fmt.Fprintf(w, "\nother commands:\n")
	fmt.Fprintf(w, "  %-11s %s\n", "completion", "print the shell completion script: ccsync completion bash|zsh|fish")
	fmt.Fprintf(w, "  %-11s %s\n", "version", "print the version (also --version)")
	fmt.Fprintf(w, "  %-11s %s\n", "help", "help about a verb: ccsync help backfill, or ccsync backfill --help")
	fmt.Fprintf(w, "\nglobal flags (every verb; `ccsync <verb> --help` lists the verb's own):\n%s", root.PersistentFlags().FlagUsages())
	fmt.Fprintf(w, "\nThe API key comes only from %s or --api-key-file. Every flag can also be set as\nthe environment variable CCSYNC_<NAME> (dashes as underscores) or the key <name> of the YAML\nconfig file; flags win over the environment, the environment over the file. Flags may come\nbefore or after the verb; `--` ends them.\n\n%s", config.APIKeyEnv, exitCodesHelp)
}

func printVerbHelp(w io.Writer, cmd *cobra.Command, v verb) {
	fmt.Fprintf(w, "usage: %s\n\n%s.\n\nflags:\n%s", v.usage, v.synopsis, cmd.LocalFlags().FlagUsages())
	inherited := cmd.InheritedFlags()
	inherited.SortFlags = false
	fmt.Fprintf(w, "\nglobal flags (before or after the verb):\n%s", inherited.FlagUsages())
	fmt.Fprintf(w, "\nEvery flag can also be set as the environment variable CCSYNC_<NAME> or the key <name> of the config file.\n\n%s", exitCodesHelp)
}
