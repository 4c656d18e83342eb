package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts every setting's environment variable.
const EnvPrefix = "CCSYNC_"

// APIKeyEnv is the only environment variable the API key is read from (besides --api-key-file).
const APIKeyEnv = "CROWDCHANGE_API_KEY"

// setting is one configurable value: its name (flag, YAML key, env var), the verbs that accept it
// (nil: every verb), and where it lives in Config.
type setting struct {
	name  string
	verbs []string
	usage string
	value func(c *Config) pflag.Value
}

// Env is the setting's environment variable.
func envName(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

var (
	rangeVerbs   = []string{"backfill", "verify"}
	extractVerbs = []string{"backfill", "sync", "verify"}
	loadVerbs    = []string{"backfill", "sync"}
)

// registry lists every setting, in the order --help shows them.
var registry = []setting{
	{name: "config", usage: "YAML config file (default ./ccsync.yaml when present)", value: func(c *Config) pflag.Value { return (*stringValue)(&c.File) }},
	{name: "source", usage: "the platform to copy from: crowdchange, donately or crowdtilt", value: func(c *Config) pflag.Value { return (*stringValue)(&c.Source) }},
	{name: "donately-account", usage: "Donately: the account to read (act_...; sent as Donately-Account)", value: func(c *Config) pflag.Value { return (*stringValue)(&c.Donately.Account) }},
	// API
	{name: "api-url", usage: "API base URL (overrides --region; plain http only to a loopback address)", value: func(c *Config) pflag.Value { return (*stringValue)(&c.API.URL) }},
	{name: "region", usage: "API region: us, ca or dev", value: func(c *Config) pflag.Value { return (*stringValue)(&c.API.Region) }},
	{name: "api-key-file", usage: "file holding the API key or token (else " + APIKeyEnv + ", or " + DonatelyTokenEnv + " with --source donately), or key:secret with --source crowdtilt (else " + CrowdtiltKeyEnv + " and " + CrowdtiltSecretEnv + ")", value: func(c *Config) pflag.Value { return (*stringValue)(&c.API.KeyFile) }},
	{name: "rate", usage: "requests per second to the API at most (lower while the API's 429s show a lower limit)", value: func(c *Config) pflag.Value { return (*floatValue)(&c.API.Rate) }},
	{name: "burst", usage: "request burst to the API", value: func(c *Config) pflag.Value { return (*intValue)(&c.API.Burst) }},
	{name: "page-size", usage: "transactions per API page (limit, 1..100)", value: func(c *Config) pflag.Value { return (*intValue)(&c.API.PageSize) }},
	{name: "api-timeout", usage: "timeout of one API request", value: func(c *Config) pflag.Value { return (*durationValue)(&c.API.Timeout) }},
	{name: "max-attempts", usage: "attempts of one API request, retries included", value: func(c *Config) pflag.Value { return (*intValue)(&c.API.MaxAttempts) }},
	{name: "backoff-base", usage: "first backoff between attempts when the API sends no Retry-After (doubles, with jitter)", value: func(c *Config) pflag.Value { return (*durationValue)(&c.API.BackoffBase) }},
	{name: "backoff-max", usage: "longest backoff between attempts when the API sends no Retry-After", value: func(c *Config) pflag.Value { return (*durationValue)(&c.API.BackoffMax) }},
	// Warehouse
	{name: "warehouse", usage: "warehouse: duckdb or bigquery", value: func(c *Config) pflag.Value { return (*stringValue)(&c.Warehouse.Kind) }},
	{name: "duckdb", usage: "DuckDB database file", value: func(c *Config) pflag.Value { return (*stringValue)(&c.DuckDB.Path) }},
	{name: "duckdb-threads", usage: "DuckDB threads (0: DuckDB's default, one per core)", value: func(c *Config) pflag.Value { return (*intValue)(&c.DuckDB.Threads) }},
	{name: "duckdb-memory-limit", usage: "DuckDB memory_limit such as 2GB", value: func(c *Config) pflag.Value { return (*stringValue)(&c.DuckDB.MemoryLimit) }},
	{name: "bq-project", usage: "BigQuery project", value: func(c *Config) pflag.Value { return (*stringValue)(&c.BigQuery.Project) }},
	{name: "bq-dataset", usage: "BigQuery dataset", value: func(c *Config) pflag.Value { return (*stringValue)(&c.BigQuery.Dataset) }},
	{name: "bq-location", usage: "BigQuery location", value: func(c *Config) pflag.Value { return (*stringValue)(&c.BigQuery.Location) }},
	{name: "bq-endpoint", usage: "BigQuery endpoint URL, no authentication (or BIGQUERY_EMULATOR_HOST)", value: func(c *Config) pflag.Value { return (*stringValue)(&c.BigQuery.Endpoint) }},
	{name: "bq-credentials", usage: "service account key file (default: Application Default Credentials)", value: func(c *Config) pflag.Value { return (*stringValue)(&c.BigQuery.Credentials) }},
	{name: "bq-poll-interval", usage: "how often a BigQuery load job's state is read until it is done", value: func(c *Config) pflag.Value { return (*durationValue)(&c.BigQuery.PollInterval) }},
	{name: "bq-staging-bucket", usage: "Cloud Storage bucket to stage batches' Parquet files in before loading (default: upload with the load job)", value: func(c *Config) pflag.Value { return (*stringValue)(&c.BigQuery.StagingBucket) }},
	{name: "bq-policy-tag", verbs: loadVerbs, usage: "BigQuery policy tag (a Data Catalog taxonomy path) attached to every PII column kept or hashed, when a table or column is created", value: func(c *Config) pflag.Value { return (*stringValue)(&c.BigQuery.PolicyTag) }},
	{name: "duckdb-lock-wait", usage: "how long opening the DuckDB file waits while another process holds it (0: no wait)", value: func(c *Config) pflag.Value { return (*durationValue)(&c.DuckDB.LockWait) }},
	// PII policy
	{name: "pii-default", verbs: extractVerbs, usage: "what becomes of every PII column without an override: keep, hash (keyed HMAC-SHA256) or drop", value: func(c *Config) pflag.Value { return (*stringValue)(&c.PII.Default) }},
	{name: "pii-columns", verbs: extractVerbs, usage: "per-column PII overrides: table.column=keep, hash or drop, comma-separated (in the config file, also a map)", value: func(c *Config) pflag.Value { return (*stringValue)(&c.PII.Columns) }},
	{name: "pii-key-file", verbs: extractVerbs, usage: "file holding the key of the PII hash and of donor_key (else " + PIIKeyEnv + ")", value: func(c *Config) pflag.Value { return (*stringValue)(&c.PII.KeyFile) }},
	// Logging
	{name: "log-format", usage: "log format: auto (text on a terminal, else JSON), text or json", value: func(c *Config) pflag.Value { return (*stringValue)(&c.Log.Format) }},
	{name: "log-level", usage: "log level: debug, info, warn or error", value: func(c *Config) pflag.Value { return (*stringValue)(&c.Log.Level) }},
	// Sandbox
	{name: "sandbox", usage: "run against an in-process sandbox API (what make run does)", value: func(c *Config) pflag.Value { return (*boolValue)(&c.Sandbox.Enabled) }},
	{name: "sandbox-seed", usage: "sandbox: seed of the generated data and faults", value: func(c *Config) pflag.Value { return (*int64Value)(&c.Sandbox.Seed) }},
	{name: "sandbox-transactions", usage: "sandbox: number of generated transactions", value: func(c *Config) pflag.Value { return (*intValue)(&c.Sandbox.Transactions) }},
	{name: "sandbox-from", usage: "sandbox: first day of generated transactions (default: a year ago)", value: func(c *Config) pflag.Value { return (*dateValue)(&c.Sandbox.From) }},
	{name: "sandbox-to", usage: "sandbox: last day of generated transactions (default: yesterday)", value: func(c *Config) pflag.Value { return (*dateValue)(&c.Sandbox.To) }},
	{name: "sandbox-rps", usage: "sandbox: its own rate limit in requests per second (0: none)", value: func(c *Config) pflag.Value { return (*floatValue)(&c.Sandbox.RPS) }},
	{name: "sandbox-faults", usage: "sandbox: fraction of answers faulted (429, 5xx, truncated, slow)", value: func(c *Config) pflag.Value { return (*floatValue)(&c.Sandbox.Faults) }},
	{name: "sandbox-example", usage: "sandbox: also serve the API's example transaction", value: func(c *Config) pflag.Value { return (*boolValue)(&c.Sandbox.Example) }},
	{name: "sandbox-page-cap", usage: "sandbox: cap every page at this many transactions whatever the limit (0: no cap)", value: func(c *Config) pflag.Value { return (*intValue)(&c.Sandbox.PageCap) }},
	{name: "sandbox-ignore-page", usage: "sandbox: answer page 1 whatever page is asked", value: func(c *Config) pflag.Value { return (*boolValue)(&c.Sandbox.IgnorePage) }},
	{name: "sandbox-hostile", usage: "sandbox: fraction of transactions mangled with a trick (invalid UTF-8, mistyped or ISO fields, no id)", value: func(c *Config) pflag.Value { return (*floatValue)(&c.Sandbox.Hostile) }},
	{name: "sandbox-tricks", usage: "sandbox: the tricks to draw from, comma-separated (default: all of invalid-utf8, mistyped, iso-date, money-string, int-string, no-id, bad-id)", value: func(c *Config) pflag.Value { return (*stringValue)(&c.Sandbox.Tricks) }},
	{name: "sandbox-canary", usage: "sandbox: a string planted in every mangled transaction (to check that no output leaks row values)", value: func(c *Config) pflag.Value { return (*stringValue)(&c.Sandbox.Canary) }},
	{name: "addr", verbs: []string{"sandbox"}, usage: "address to listen on", value: func(c *Config) pflag.Value { return (*stringValue)(&c.Sandbox.Addr) }},
	// Run
	{name: "from", verbs: rangeVerbs, usage: "first day of the range (YYYY-MM-DD, UTC)", value: func(c *Config) pflag.Value { return (*dateValue)(&c.Run.From) }},
	{name: "to", verbs: rangeVerbs, usage: "last day of the range, inclusive (YYYY-MM-DD, UTC)", value: func(c *Config) pflag.Value { return (*dateValue)(&c.Run.To) }},
	{name: "by", verbs: []string{"backfill"}, usage: "stream: date (transaction dates) or payout (payout dates)", value: func(c *Config) pflag.Value { return (*stringValue)(&c.Run.By) }},
	{name: "payout-account", verbs: []string{"backfill", "sync"}, usage: "payout stream accounts: global, user or both", value: func(c *Config) pflag.Value { return (*stringValue)(&c.Run.PayoutAccount) }},
	{name: "window", verbs: []string{"backfill", "sync"}, usage: "date stream window size", value: func(c *Config) pflag.Value { return (*durationValue)(&c.Run.Window) }},
	{name: "concurrency", verbs: extractVerbs, usage: "windows fetched at once", value: func(c *Config) pflag.Value { return (*intValue)(&c.Run.Concurrency) }},
	{name: "force", verbs: []string{"backfill"}, usage: "re-extract committed windows (appends new versions)", value: func(c *Config) pflag.Value { return (*boolValue)(&c.Run.Force) }},
	{name: "shard", verbs: []string{"backfill"}, usage: "only this shard i/n of the windows (default: CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT)", value: func(c *Config) pflag.Value { return (*shardValue)(&c.Run.Shard) }},
	{name: "batch-windows", verbs: loadVerbs, usage: "commit a batch after this many windows", value: func(c *Config) pflag.Value { return (*intValue)(&c.Run.Batch.MaxWindows) }},
	{name: "batch-transactions", verbs: loadVerbs, usage: "commit a batch after this many transactions (with --warehouse bigquery the default is 100000)", value: func(c *Config) pflag.Value { return (*intValue)(&c.Run.Batch.MaxTransactions) }},
	{name: "batch-interval", verbs: loadVerbs, usage: "commit a batch at least this often", value: func(c *Config) pflag.Value { return (*durationValue)(&c.Run.Batch.MaxAge) }},
	{name: "temp-dir", verbs: loadVerbs, usage: "directory for batches' Parquet files (default: the system's)", value: func(c *Config) pflag.Value { return (*stringValue)(&c.Run.TempDir) }},
	{name: "lookback", verbs: []string{"sync"}, usage: "sync: re-read this much before the date watermark", value: func(c *Config) pflag.Value { return (*durationValue)(&c.Run.Lookback) }},
	{name: "lag", verbs: []string{"sync"}, usage: "sync: stop this long before now", value: func(c *Config) pflag.Value { return (*durationValue)(&c.Run.Lag) }},
	{name: "start", verbs: []string{"sync"}, usage: "sync: first day on an empty warehouse (YYYY-MM-DD)", value: func(c *Config) pflag.Value { return (*dateValue)(&c.Run.Start) }},
	{name: "max-lag", verbs: []string{"status"}, usage: "status: exit 4 when the date watermark lags more than this", value: func(c *Config) pflag.Value { return (*durationValue)(&c.Run.MaxLag) }},
	{name: "table", verbs: []string{"schema"}, usage: "schema: only this table (with bigquery-json: the JSON array `bq mk --table` takes)", value: func(c *Config) pflag.Value { return (*stringValue)(&c.Output.Table) }},
	{name: "format", verbs: []string{"query", "status", "schema", "config"}, usage: "output format (query: table, csv, json; status: table, json; schema: sql, bigquery-json)", value: func(c *Config) pflag.Value { return (*stringValue)(&c.Output.Format) }},
	{name: "write", verbs: []string{"query"}, usage: "query: open the warehouse for writing (read-only otherwise)", value: func(c *Config) pflag.Value { return (*boolValue)(&c.DuckDB.Write) }},
}

func (s setting) accepts(verb string) bool {
	if s.verbs == nil || verb == "config" {
		return true // `ccsync config` shows every setting
	}
	for _, v := range s.verbs {
		if v == verb {
			return true
		}
	}
	return false
}

// Register defines on fs every setting the verb accepts (the global ones and the verb's own),
// bound to c: one flat set, for a command line without sub-commands. Call c.SetDefaults first so
// that --help shows the defaults.
func Register(fs *pflag.FlagSet, c *Config, verb string) {
	RegisterGlobal(fs, c)
	RegisterVerb(fs, c, verb)
}

// RegisterGlobal defines on fs the settings every verb accepts (the root command's persistent
// flags), bound to c.
func RegisterGlobal(fs *pflag.FlagSet, c *Config) {
	for _, s := range registry {
		if s.verbs == nil {
			s.define(fs, c)
		}
	}
}

// RegisterVerb defines on fs the verb's own settings (those of only some verbs; `config` takes
// every one of them), bound to c.
func RegisterVerb(fs *pflag.FlagSet, c *Config, verb string) {
	for _, s := range registry {
		if s.verbs != nil && s.accepts(verb) {
			s.define(fs, c)
		}
	}
}

// define adds the setting's flag to fs. A true/false setting is a switch: --force alone is
// --force=true.
func (s setting) define(fs *pflag.FlagSet, c *Config) {
	v := s.value(c)
	f := fs.VarPF(v, s.name, "", s.usage)
	if v.Type() == "bool" {
		f.NoOptDefVal = "true"
	}
}

// Setting describes one setting for documentation.
type Setting struct {
	Name, Env, Usage, Default string
	Verbs                     []string
}

// Settings lists every setting with its environment variable and default.
func Settings() []Setting {
	var c Config
	c.SetDefaults()
	out := make([]Setting, 0, len(registry))
	for _, s := range registry {
		out = append(out, Setting{Name: s.name, Env: envName(s.name), Usage: s.usage, Default: s.value(&c).String(), Verbs: s.verbs})
	}
	return out
}

// Source is where settings come from besides flags.
type Source struct {
	// Getenv looks up an environment variable.
	Getenv func(string) (string, bool)
	// ReadFile reads a file (the config file, the API key file).
	ReadFile func(string) ([]byte, error)
}

// OS is the process's environment and file system.
func OS() Source { return Source{Getenv: os.LookupEnv, ReadFile: os.ReadFile} }

// DefaultFile is the config file read when --config is not given and it exists.
const DefaultFile = "ccsync.yaml"

// Resolve completes the flags of fs (already parsed; with cobra, the verb's command's Flags(), which
// hold the root's persistent flags too) with the environment and the config file:
// every flag not set on the command line takes its value from CCSYNC_<NAME> if set, else from the
// file's key <name> if present. Unknown keys in the file and bad values are errors naming the key.
// Then it reads the --source's API credentials (readKey). It returns
// the names of the settings given by any source (the others keep their defaults).
func Resolve(fs *pflag.FlagSet, c *Config, src Source) (map[string]bool, error) {
	known := map[string]bool{}
	for _, s := range registry {
		known[s.name] = true
	}
	set := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) {
		if known[f.Name] {
			set[f.Name] = true
		}
	})
	provided := map[string]bool{}
	for k := range set {
		provided[k] = true
	}

	// --config itself may come from the environment.
	if !set["config"] {
		if v, ok := src.Getenv(envName("config")); ok {
			c.File = v
		}
	}
	file := map[string]string{}
	name := c.File
	if name == "" {
		name = DefaultFile
	}
	// The default file is optional; a file named by --config must exist.
	if b, err := src.ReadFile(name); err == nil {
		if file, err = parseYAML(b, name); err != nil {
			return nil, err
		}
	} else if c.File != "" {
		return nil, fmt.Errorf("config file: %w", err)
	}

	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if set[f.Name] || f.Name == "config" || !known[f.Name] {
			return // given on the command line, or not a setting (such as --help)
		}
		env := envName(f.Name)
		if v, ok := src.Getenv(env); ok {
			provided[f.Name] = true
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
			return
		}
		if v, ok := file[f.Name]; ok {
			provided[f.Name] = true
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", c.fileName(), f.Name, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := c.PII.ReadKey(src); err != nil {
		return nil, err
	}
	return provided, c.readKey(src)
}

func (c *Config) fileName() string {
	if c.File == "" {
		return DefaultFile
	}
	return c.File
}

// readKey reads the --source's API credentials: the CrowdChange key into c.API.Key (from
// --api-key-file, else CROWDCHANGE_API_KEY), the Donately token into c.Donately.Token
// (Donately.ReadToken), or the Crowdtilt key and secret into c.Crowdtilt (Crowdtilt.ReadCredentials).
// Donately and Crowdtilt share --api-url and --api-key-file with CrowdChange: readKey copies them
// into their sections.
func (c *Config) readKey(src Source) error {
	switch c.Source {
	case SourceDonately:
		if c.API.URL != "" {
			c.Donately.URL = c.API.URL
		}
		c.Donately.TokenFile = c.API.KeyFile
		return c.Donately.ReadToken(src)
	case SourceCrowdtilt:
		if c.API.URL != "" {
			c.Crowdtilt.URL = c.API.URL
		}
		c.Crowdtilt.KeyFile = c.API.KeyFile
		return c.Crowdtilt.ReadCredentials(src)
	}
	if c.API.KeyFile != "" {
		key, err := readKeyFile(src, c.API.KeyFile)
		if err != nil {
			return err
		}
		c.API.Key = Secret(key)
		return nil
	}
	readEnvSecret(src, APIKeyEnv, &c.API.Key)
	return nil
}

// parseYAML reads a flat YAML mapping of setting names to scalar values.
func parseYAML(b []byte, name string) (map[string]string, error) {
	var raw map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) { // EOF: an empty file
		return nil, fmt.Errorf("config file %s: %w", name, err)
	}
	known := map[string]bool{}
	for _, s := range registry {
		known[s.name] = true
	}
	out := map[string]string{}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		v := raw[k]
		switch {
		case k == "api-key" || k == "api_key" || k == "key":
			errs = append(errs, fmt.Errorf("config file %s: %s: the API key is read only from %s or --api-key-file", name, k, APIKeyEnv))
		case k == "config":
			errs = append(errs, fmt.Errorf("config file %s: config: not allowed in a config file", name))
		case !known[k]:
			errs = append(errs, fmt.Errorf("config file %s: unknown key %q", name, k))
		default:
			switch v := v.(type) {
			case map[string]any:
				if k != "pii-columns" {
					errs = append(errs, fmt.Errorf("config file %s: %s: want a single value", name, k))
					break
				}
				out[k] = piiColumnsOfYAML(v)
			case []any:
				errs = append(errs, fmt.Errorf("config file %s: %s: want a single value", name, k))
			case nil:
			case time.Time:
				out[k] = v.UTC().Format(time.DateOnly)
			default:
				out[k] = fmt.Sprint(v)
			}
		}
	}
	return out, errors.Join(errs...)
}

// Effective lists every setting the verb accepts ("" for every setting) with its effective value
// (secrets redacted), in registry order, for `ccsync config`.
func Effective(c *Config, verb string) [][2]string {
	var out [][2]string
	for _, s := range registry {
		if verb == "" || s.accepts(verb) {
			out = append(out, [2]string{s.name, s.value(c).String()})
		}
	}
	out = append(out, [2]string{"api-key", c.API.Key.String()})
	return out
}

// pflag.Value implementations. Type names the value in --help ("--window duration").

type stringValue string

func (v *stringValue) Type() string       { return "string" }
func (v *stringValue) String() string     { return string(*v) }
func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }

type intValue int

func (v *intValue) Type() string   { return "int" }
func (v *intValue) String() string { return strconv.Itoa(int(*v)) }
func (v *intValue) Set(s string) error {
	i, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	*v = intValue(i)
	return nil
}

type int64Value int64

func (v *int64Value) Type() string   { return "int64" }
func (v *int64Value) String() string { return strconv.FormatInt(int64(*v), 10) }
func (v *int64Value) Set(s string) error {
	i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	*v = int64Value(i)
	return nil
}

type floatValue float64

func (v *floatValue) Type() string   { return "float" }
func (v *floatValue) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 64) }
func (v *floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", s)
	}
	*v = floatValue(f)
	return nil
}

type boolValue bool

func (v *boolValue) Type() string   { return "bool" }
func (v *boolValue) String() string { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not true or false", s)
	}
	*v = boolValue(b)
	return nil
}

type durationValue time.Duration

func (v *durationValue) Type() string   { return "duration" }
func (v *durationValue) String() string { return FormatDuration(time.Duration(*v)) }
func (v *durationValue) Set(s string) error {
	d, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*v = durationValue(d)
	return nil
}

type dateValue time.Time

func (v *dateValue) Type() string { return "date" }
func (v *dateValue) String() string {
	t := time.Time(*v)
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}
func (v *dateValue) Set(s string) error {
	t, err := ParseDay(s)
	if err != nil {
		return err
	}
	*v = dateValue(t)
	return nil
}

type shardValue Shard

func (v *shardValue) Type() string   { return "i/n" }
func (v *shardValue) String() string { return Shard(*v).String() }
func (v *shardValue) Set(s string) error {
	sh, err := ParseShard(strings.TrimSpace(s))
	if err != nil {
		return err
	}
	*v = shardValue(sh)
	return nil
}

// ParseDay reads a UTC day, YYYY-MM-DD.
func ParseDay(s string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(s), time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date YYYY-MM-DD", s)
	}
	return t, nil
}

// ParseDuration reads a Go duration ("90m", "36h") or a number of days ("7d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration (such as 15m, 24h, 7d)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (such as 15m, 24h, 7d)", s)
	}
	return d, nil
}

// FormatDuration writes whole days as "7d", other durations the Go way.
func FormatDuration(d time.Duration) string {
	if d != 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
}
