package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// fakeSource is an environment and a file system in memory.
type fakeSource struct {
	env   map[string]string
	files map[string]string
}

func (f fakeSource) source() Source {
	return Source{
		Getenv: func(k string) (string, bool) { v, ok := f.env[k]; return v, ok },
		ReadFile: func(name string) ([]byte, error) {
			if s, ok := f.files[name]; ok {
				return []byte(s), nil
			}
			return nil, fmt.Errorf("open %s: %w", name, fs.ErrNotExist)
		},
	}
}

func parse(t *testing.T, verb string, args []string, src fakeSource) (*Config, map[string]bool, error) {
	t.Helper()
	c := &Config{}
	c.SetDefaults()
	fset := pflag.NewFlagSet(verb, pflag.ContinueOnError)
	fset.SetOutput(io.Discard)
	Register(fset, c, verb)
	if err := fset.Parse(args); err != nil {
		return nil, nil, err
	}
	provided, err := Resolve(fset, c, src.source())
	return c, provided, err
}

func TestPrecedenceFlagsOverEnvOverFile(t *testing.T) {
	file := "duckdb: from-file.duckdb\nrate: 7\nwindow: 12h\nbq-dataset: file_ds\n"
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantPath string
		wantRate float64
		wantWin  time.Duration
	}{
		{"file only", nil, nil, "from-file.duckdb", 7, 12 * time.Hour},
		{"env beats file", nil, map[string]string{"CCSYNC_DUCKDB": "from-env.duckdb", "CCSYNC_RATE": "9"}, "from-env.duckdb", 9, 12 * time.Hour},
		{"flag beats env", []string{"--duckdb", "from-flag.duckdb", "--window", "1h"}, map[string]string{"CCSYNC_DUCKDB": "from-env.duckdb"}, "from-flag.duckdb", 7, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = v
			}
			c, provided, err := parse(t, "backfill", tt.args, fakeSource{env: env, files: map[string]string{DefaultFile: file}})
			if err != nil {
				t.Fatal(err)
			}
			if c.DuckDB.Path != tt.wantPath || c.API.Rate != tt.wantRate || c.Run.Window != tt.wantWin {
				t.Errorf("got duckdb=%q rate=%v window=%v, want %q %v %v", c.DuckDB.Path, c.API.Rate, c.Run.Window, tt.wantPath, tt.wantRate, tt.wantWin)
			}
			if !provided["duckdb"] || provided["burst"] {
				t.Errorf("provided = %v: want duckdb provided, burst not", provided)
			}
			if c.BigQuery.Dataset != "file_ds" {
				t.Errorf("bq-dataset = %q, want file_ds", c.BigQuery.Dataset)
			}
		})
	}
}

func TestDefaultsWithoutAnySource(t *testing.T) {
	c, _, err := parse(t, "backfill", nil, fakeSource{})
	if err != nil {
		t.Fatal(err)
	}
	if c.DuckDB.Path != "./ccsync.duckdb" || c.Run.Window != 24*time.Hour || c.Run.Concurrency != 4 || c.API.Region != "us" || c.Warehouse.Kind != "duckdb" {
		t.Errorf("unexpected defaults: %+v %+v", c.DuckDB, c.Run)
	}
}

func TestFileErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"unknown key", "duckdb: x\nwarehose: bigquery\n", `unknown key "warehose"`},
		{"bad value", "concurrency: many\n", "concurrency"},
		{"api key refused", "api-key: hunter2\n", "api-key"},
		{"nested value", "duckdb:\n  path: x\n", "duckdb: want a single value"},
		{"not yaml", "duckdb: [\n", "config file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parse(t, "backfill", nil, fakeSource{files: map[string]string{"my.yaml": tt.file}, env: map[string]string{"CCSYNC_CONFIG": "my.yaml"}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(fmt.Sprint(err), "hunter2") {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
}

func TestBadEnvValueNamesTheVariable(t *testing.T) {
	_, _, err := parse(t, "backfill", nil, fakeSource{env: map[string]string{"CCSYNC_WINDOW": "a day"}})
	if err == nil || !strings.Contains(err.Error(), "CCSYNC_WINDOW") {
		t.Fatalf("err = %v, want it to name CCSYNC_WINDOW", err)
	}
}

func TestKeysOfOtherVerbsAreAcceptedInTheFile(t *testing.T) {
	// max-lag belongs to status; a shared file must not break backfill.
	c, _, err := parse(t, "backfill", nil, fakeSource{files: map[string]string{DefaultFile: "max-lag: 48h\nlookback: 3d\n"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Run.MaxLag != 36*time.Hour {
		t.Errorf("backfill applied status's max-lag: %v", c.Run.MaxLag)
	}
}

func TestAPIKeySources(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		files   map[string]string
		want    string
		wantErr string
	}{
		{"env", nil, map[string]string{APIKeyEnv: "k-env\n"}, nil, "k-env", ""},
		{"file beats env", []string{"--api-key-file", "key.txt"}, map[string]string{APIKeyEnv: "k-env"}, map[string]string{"key.txt": " k-file \n"}, "k-file", ""},
		{"missing file", []string{"--api-key-file", "nope.txt"}, nil, nil, "", "api-key-file"},
		{"empty file", []string{"--api-key-file", "key.txt"}, nil, map[string]string{"key.txt": "\n"}, "", "is empty"},
		{"none", nil, nil, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := parse(t, "backfill", tt.args, fakeSource{env: tt.env, files: tt.files})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.API.Key.Reveal() != tt.want {
				t.Errorf("key = %q, want %q", c.API.Key.Reveal(), tt.want)
			}
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2")
	c := Config{API: API{Key: s}}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, c, c, s, s)} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("printed the secret: %s", out)
		}
	}
	b, _ := json.Marshal(c)
	if strings.Contains(string(b), "hunter2") {
		t.Errorf("JSON has the secret: %s", b)
	}
	for _, kv := range Effective(&c, "backfill") {
		if strings.Contains(kv[1], "hunter2") {
			t.Errorf("Effective has the secret: %v", kv)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Error("Reveal lost the value")
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct {
		region, url, want, wantErr string
	}{
		{"us", "", "https://api.crowdchange.co", ""},
		{"ca", "", "https://api.crowdchange.ca", ""},
		{"dev", "", "https://api.crowdchange.dev", ""},
		{"eu", "", "", "region"},
		{"us", "http://127.0.0.1:8080/", "http://127.0.0.1:8080", ""},
		{"us", "http://[::1]:8080", "http://[::1]:8080", ""},
		{"us", "http://localhost:1", "http://localhost:1", ""},
		{"us", "http://api.example.com", "", "plain http is refused"},
		{"us", "http://10.0.0.1", "", "plain http is refused"},
		{"us", "https://api.example.com", "https://api.example.com", ""},
		{"us", "ftp://x", "", "scheme"},
		{"us", "/relative", "", "absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.region+" "+tt.url, func(t *testing.T) {
			got, err := API{Region: tt.region, URL: tt.url}.BaseURL()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestValidateNamesTheKey(t *testing.T) {
	tests := []struct {
		name string
		mod  func(c *Config)
		want string
	}{
		{"window not seconds", func(c *Config) { c.Run.Window = 1500 * time.Millisecond }, "window"},
		{"concurrency", func(c *Config) { c.Run.Concurrency = 0 }, "concurrency"},
		{"by", func(c *Config) { c.Run.By = "month" }, "by"},
		{"payout account", func(c *Config) { c.Run.PayoutAccount = "me" }, "payout-account"},
		{"page size", func(c *Config) { c.API.PageSize = 500 }, "page_size"},
		{"warehouse", func(c *Config) { c.Warehouse.Kind = "snowflake" }, "warehouse"},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, "log-format"},
		{"faults", func(c *Config) { c.Sandbox.Faults = 1.5 }, "sandbox-faults"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{API: API{Key: "k"}}
			c.SetDefaults()
			tt.mod(c)
			err := errors.Join(c.API.Validate(), c.Run.Validate(), c.Warehouse.Validate(), c.Log.Validate(), c.Sandbox.Validate())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name %q", err, tt.want)
			}
		})
	}
}

func TestParseDurationAndShard(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "15m": 15 * time.Minute, "36h": 36 * time.Hour, "0d": 0} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, _ := ParseDuration(FormatDuration(want)); back != want {
			t.Errorf("FormatDuration(%v) does not parse back", want)
		}
	}
	for _, bad := range []string{"", "x", "-1d", "1w"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q): want an error", bad)
		}
	}
	for in, want := range map[string]Shard{"0/1": {0, 1}, "2/4": {2, 4}, "": {}} {
		got, err := ParseShard(in)
		if err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"4/4", "-1/2", "a/b", "1", "0/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q): want an error", bad)
		}
	}
}

// The default ./ccsync.yaml is optional; a file named by --config or CCSYNC_CONFIG must exist, and
// an empty one is fine.
func TestConfigFileMustExistWhenNamed(t *testing.T) {
	if _, _, err := parse(t, "backfill", nil, fakeSource{}); err != nil {
		t.Errorf("no default file: %v", err)
	}
	_, _, err := parse(t, "backfill", []string{"--config", "nope.yaml"}, fakeSource{})
	if err == nil || !strings.Contains(err.Error(), "config file") {
		t.Errorf("a missing --config file: err = %v", err)
	}
	if _, _, err := parse(t, "backfill", nil, fakeSource{env: map[string]string{"CCSYNC_CONFIG": "empty.yaml"}, files: map[string]string{"empty.yaml": ""}}); err != nil {
		t.Errorf("an empty file: %v", err)
	}
}

// RegisterGlobal (the root command's flags) and RegisterVerb (a verb's own) split what Register
// defines for the verb, with the registry's names and usages; `config` takes every setting.
func TestRegisterGlobalAndVerbSplitTheSettings(t *testing.T) {
	usages := map[string]string{}
	for _, s := range Settings() {
		usages[s.Name] = s.Usage
	}
	names := func(register func(fs *pflag.FlagSet, c *Config)) map[string]bool {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		c := &Config{}
		c.SetDefaults()
		register(fs, c)
		out := map[string]bool{}
		fs.VisitAll(func(f *pflag.Flag) {
			out[f.Name] = true
			if f.Usage != usages[f.Name] {
				t.Errorf("--%s: usage %q, want %q", f.Name, f.Usage, usages[f.Name])
			}
		})
		return out
	}
	global := names(RegisterGlobal)
	for _, s := range Settings() {
		if global[s.Name] != (s.Verbs == nil) {
			t.Errorf("--%s global: %v, verbs %v", s.Name, global[s.Name], s.Verbs)
		}
	}
	for _, verb := range []string{"sync", "backfill", "verify", "status", "query", "schema", "sandbox", "config"} {
		all := names(func(fs *pflag.FlagSet, c *Config) { Register(fs, c, verb) })
		own := names(func(fs *pflag.FlagSet, c *Config) { RegisterVerb(fs, c, verb) })
		for name := range own {
			if global[name] {
				t.Errorf("%s: --%s is both global and the verb's", verb, name)
			}
		}
		if len(all) != len(global)+len(own) {
			t.Errorf("%s: Register defines %d flags, RegisterGlobal and RegisterVerb %d and %d", verb, len(all), len(global), len(own))
		}
		if verb == "config" && len(all) != len(Settings()) {
			t.Errorf("config takes %d of %d settings", len(all), len(Settings()))
		}
	}
}

// Flags are GNU-style: --name value or --name=value, a switch alone is true, positional arguments
// may come between them, and a bad value names the flag.
func TestFlagSyntax(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(c *Config) bool
		wantErr string
	}{
		{"switch alone", []string{"--force", "--sandbox"}, func(c *Config) bool { return c.Run.Force && c.Sandbox.Enabled }, ""},
		{"switch with a value", []string{"--force=false", "--sandbox=true"}, func(c *Config) bool { return !c.Run.Force && c.Sandbox.Enabled }, ""},
		{"values both ways", []string{"--window=6h", "--concurrency", "3", "--shard", "1/4", "--from", "2025-01-02"},
			func(c *Config) bool {
				return c.Run.Window == 6*time.Hour && c.Run.Concurrency == 3 && c.Run.Shard == Shard{1, 4} && c.Run.From.Equal(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC))
			}, ""},
		{"days", []string{"--window", "2d"}, func(c *Config) bool { return c.Run.Window == 48*time.Hour }, ""},
		{"bad duration", []string{"--window", "a day"}, nil, `"--window" flag: "a day" is not a duration`},
		{"bad switch", []string{"--force=perhaps"}, nil, `"--force" flag: "perhaps" is not true or false`},
		{"another verb's flag", []string{"--max-lag", "1h"}, nil, "unknown flag: --max-lag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := parse(t, "backfill", tt.args, fakeSource{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("%q parsed as %+v", tt.args, c.Run)
			}
		})
	}
}

// --help and the like are flags of the command line, not settings: the environment and the file
// do not reach them.
func TestResolveIgnoresFlagsThatAreNoSetting(t *testing.T) {
	c := &Config{}
	c.SetDefaults()
	fs := pflag.NewFlagSet("backfill", pflag.ContinueOnError)
	help := fs.BoolP("help", "h", false, "help")
	Register(fs, c, "backfill")
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	provided, err := Resolve(fs, c, fakeSource{env: map[string]string{"CCSYNC_HELP": "true"}}.source())
	if err != nil {
		t.Fatal(err)
	}
	if *help || provided["help"] {
		t.Errorf("CCSYNC_HELP reached --help")
	}
}

// DuckDB runs on one thread unless told otherwise; a 0 given anywhere keeps DuckDB's own default
// (a thread per core), and is not taken for "unset".
func TestDuckDBThreads(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		file string
		want int
	}{
		{"default", nil, nil, "", DefaultDuckDBThreads},
		{"flag 0", []string{"--duckdb-threads", "0"}, nil, "", 0},
		{"env 0", nil, map[string]string{"CCSYNC_DUCKDB_THREADS": "0"}, "", 0},
		{"file 0", nil, nil, "duckdb-threads: 0\n", 0},
		{"flag 4", []string{"--duckdb-threads", "4"}, nil, "", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fakeSource{env: tt.env, files: map[string]string{}}
			if tt.file != "" {
				src.files[DefaultFile] = tt.file
			}
			c, _, err := parse(t, "backfill", tt.args, src)
			if err != nil {
				t.Fatal(err)
			}
			if c.DuckDB.Threads != tt.want {
				t.Errorf("threads = %d, want %d", c.DuckDB.Threads, tt.want)
			}
		})
	}
}
