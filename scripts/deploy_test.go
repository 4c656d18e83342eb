// Package scripts holds the deployment and benchmark scripts. Its only Go file is this test of
// deploy.sh: it checks every command a dry run prints (against a golden file too), and runs the
// script against fake gcloud and bq that record their calls. It needs neither gcloud nor a network.
package scripts

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/deploy_dry_run.golden from the script's output")

// apiKey is the value of CROWDCHANGE_API_KEY in the tests: it must never appear in any output.
const apiKey = "some-secret-value"

const goldenFile = "testdata/deploy_dry_run.golden"

// result is one run of deploy.sh.
type result struct {
	stdout, stderr string
	code           int
	calls          [][]string // the fake gcloud's and bq's calls, each its argv
	env            string     // the environments the fakes saw
	stdin          string     // what `gcloud secrets versions add` read on stdin
}

// tools is what PATH offers deploy.sh.
type tools int

const (
	// failingTools: gcloud, bq and git that record their call and fail. A dry run must call none.
	failingTools tools = iota
	// noTools: nothing but dirname.
	noTools
	// cloudNothing: gcloud and bq that record calls and succeed, where no resource exists yet.
	cloudNothing
	// cloudEverything: the same where every resource already exists.
	cloudEverything
)

// fake records its argv (one line, arguments separated by \x1f) and environment, keeps what it
// reads on stdin for `gcloud secrets versions add`, answers `gcloud auth list`, and says whether
// a resource (and an enabled secret version) exists from FAKE_EXISTS. A dry run finds FAKE_FAIL=1: every call fails.
const fake = `#!/bin/sh
tool=$(basename "$0")
printf '%s\037' "$tool" "$@" >> "$FAKE_DIR/calls"
printf '\n' >> "$FAKE_DIR/calls"
env >> "$FAKE_DIR/env"
[ "$FAKE_FAIL" = 1 ] && exit 1
case "$tool $*" in
"gcloud auth list"*) echo tester@example.com ;;
"gcloud secrets versions add"*) cat >> "$FAKE_DIR/stdin" ;;
"gcloud secrets versions list"*) [ "$FAKE_EXISTS" = 1 ] && echo 1 ;;
*" describe "* | "bq "*" show "*) [ "$FAKE_EXISTS" = 1 ] ;;
esac
`

// runDeploy runs `bash deploy.sh args...` with only the given environment (plus PATH and HOME)
// and the tools t offers on PATH.
func runDeploy(t *testing.T, args []string, env map[string]string, offered tools) result {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed to test deploy.sh: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	path := bin
	vars := []string{"HOME=" + dir, "LC_ALL=C", "FAKE_DIR=" + dir}
	switch offered {
	case noTools:
		dirname, err := exec.LookPath("dirname")
		if err != nil {
			t.Fatalf("dirname: %v", err)
		}
		if err := os.Symlink(dirname, filepath.Join(bin, "dirname")); err != nil {
			t.Fatal(err)
		}
	default:
		for _, tool := range []string{"gcloud", "bq", "git"} {
			if err := os.WriteFile(filepath.Join(bin, tool), []byte(fake), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		path += string(os.PathListSeparator) + "/usr/bin" + string(os.PathListSeparator) + "/bin"
		switch offered {
		case failingTools:
			vars = append(vars, "FAKE_FAIL=1")
		case cloudEverything:
			vars = append(vars, "FAKE_EXISTS=1")
		}
	}

	cmd := exec.Command(bash, append([]string{"deploy.sh"}, args...)...)
	cmd.Env = append(vars, "PATH="+path)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running deploy.sh: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "calls")); err == nil {
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			r.calls = append(r.calls, strings.Split(strings.TrimSuffix(line, "\x1f"), "\x1f"))
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "env")); err == nil {
		r.env = string(b)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "stdin")); err == nil {
		r.stdin = string(b)
	}
	return r
}

// words splits one printed command line the way the shell would: bare words, '...' and \x.
func words(line string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\'':
			quoted = false
		case quoted:
			cur.WriteByte(c)
		case c == '\'':
			quoted, inWord = true, true
		case c == '\\':
			if i+1 == len(line) {
				return nil, fmt.Errorf("trailing backslash in %q", line)
			}
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == ' ':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.IndexByte("\"$`*?;&<>()[]{}~#!\t\n", c) >= 0:
			return nil, fmt.Errorf("unquoted %q in %q", c, line)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in %q", line)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

// commands are the printed commands (the "+ " lines), split into words; every other line must be
// a "#" comment.
func commands(t *testing.T, stdout string) [][]string {
	t.Helper()
	var out [][]string
	for _, line := range strings.Split(strings.TrimRight(stdout, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "+ "):
			w, err := words(strings.TrimPrefix(line, "+ "))
			if err != nil {
				t.Errorf("a printed command could not be pasted: %v", err)
				continue
			}
			out = append(out, w)
		case strings.HasPrefix(line, "#"):
		default:
			t.Errorf("line is neither a command (+ ) nor a comment (#): %q", line)
		}
	}
	return out
}

// find returns the index and words of the only command starting with prefix.
func find(t *testing.T, cmds [][]string, prefix ...string) (int, []string) {
	t.Helper()
	at, found := -1, []string(nil)
	for i, c := range cmds {
		if len(c) >= len(prefix) && slices.Equal(c[:len(prefix)], prefix) {
			if found != nil {
				t.Errorf("two commands start with %q", strings.Join(prefix, " "))
			}
			at, found = i, c
		}
	}
	if found == nil {
		t.Errorf("no command starts with %q", strings.Join(prefix, " "))
	}
	return at, found
}

// flagValue is the value of --name=value in cmd, or "" and false.
func flagValue(cmd []string, name string) (string, bool) {
	var v string
	n := 0
	for _, w := range cmd {
		if rest, ok := strings.CutPrefix(w, name+"="); ok {
			v = rest
			n++
		}
	}
	return v, n == 1
}

// wantFlags checks that cmd has each --name=value of want exactly once.
func wantFlags(t *testing.T, cmd []string, want map[string]string) {
	t.Helper()
	for name, v := range want {
		got, ok := flagValue(cmd, name)
		if !ok || got != v {
			t.Errorf("%s: %s=%q, want %q (command: %q)", strings.Join(cmd[:min(len(cmd), 4)], " "), name, got, v, cmd)
		}
	}
}

// envVars reads gcloud's --set-env-vars value, with its optional ^D^ separator.
func envVars(t *testing.T, v string) map[string]string {
	t.Helper()
	sep := ","
	if strings.HasPrefix(v, "^") {
		end := strings.Index(v[1:], "^")
		if end < 0 {
			t.Fatalf("bad separator in --set-env-vars=%q", v)
		}
		sep, v = v[1:end+1], v[end+2:]
	}
	out := map[string]string{}
	for _, kv := range strings.Split(v, sep) {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("--set-env-vars: %q is not KEY=VALUE", kv)
		}
		if _, dup := out[k]; dup {
			t.Errorf("--set-env-vars sets %s twice", k)
		}
		out[k] = val
	}
	return out
}

// deployment is what a dry run must deploy.
type deployment struct {
	project, region, dataset, bqLocation, apiRegion, job, repo, sa, secret string
	schedule, timeZone, tasks, taskTimeout, maxRetries, memory, cpu, tag   string
	args                                                                   string
	extraEnv                                                               map[string]string
	keyGiven                                                               bool
}

func defaults() deployment {
	return deployment{
		project: "my-project", region: "us-central1", dataset: "crowdchange", bqLocation: "US",
		apiRegion: "us", job: "ccsync-sync", repo: "ccsync", sa: "ccsync-runner",
		secret: "crowdchange-api-key", schedule: "30 2 * * *", timeZone: "Etc/UTC", tasks: "1",
		taskTimeout: "3h", maxRetries: "1", memory: "2Gi", cpu: "1", tag: "0123456789ab",
		args: "sync", keyGiven: true,
	}
}

// checkDeployment checks every command of a dry run against d.
func checkDeployment(t *testing.T, stdout string, d deployment) {
	t.Helper()
	cmds := commands(t, stdout)
	email := d.sa + "@" + d.project + ".iam.gserviceaccount.com"
	member := "serviceAccount:" + email
	image := d.region + "-docker.pkg.dev/" + d.project + "/" + d.repo + "/ccsync"
	ds := d.project + ":" + d.dataset

	// APIs.
	apisAt, apis := find(t, cmds, "gcloud", "services", "enable")
	for _, api := range []string{"run", "cloudscheduler", "artifactregistry", "secretmanager", "bigquery", "cloudbuild", "iam"} {
		if !slices.Contains(apis, api+".googleapis.com") {
			t.Errorf("API %s.googleapis.com not enabled: %q", api, apis)
		}
	}
	wantFlags(t, apis, map[string]string{"--project": d.project})

	// Artifact Registry and Cloud Build.
	repoAt, repo := find(t, cmds, "gcloud", "artifacts", "repositories", "create", d.repo)
	wantFlags(t, repo, map[string]string{"--repository-format": "docker", "--location": d.region, "--project": d.project})
	buildAt, build := find(t, cmds, "gcloud", "builds", "submit", ".")
	wantFlags(t, build, map[string]string{
		"--config": "scripts/cloudbuild.yaml", "--ignore-file": "scripts/gcloudignore",
		"--substitutions": "_IMAGE=" + image + ",_TAG=" + d.tag, "--project": d.project,
	})

	// The secret: created, then a version from stdin, the value never shown.
	secretAt, _ := find(t, cmds, "gcloud", "secrets", "create", d.secret)
	versionAt := -1
	for i, c := range cmds {
		if slices.Contains(c, "versions") && slices.Contains(c, "add") {
			versionAt = i
			want := []string{"printf", "%s", "<redacted>", "|", "gcloud", "secrets", "versions", "add", d.secret, "--data-file=-", "--project=" + d.project}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("secret version add = %q, want %q", c, want)
			}
		}
	}
	if d.keyGiven && versionAt < 0 {
		t.Error("CROWDCHANGE_API_KEY is set but no secret version is added")
	}
	if !d.keyGiven && versionAt >= 0 {
		t.Error("CROWDCHANGE_API_KEY is not set but a secret version is added")
	}
	if versionAt >= 0 && versionAt < secretAt {
		t.Error("the secret version is added before the secret is created")
	}

	// The dataset.
	dsAt, mk := find(t, cmds, "bq", "--project_id="+d.project, "--location="+d.bqLocation, "mk", "--dataset")
	if mk != nil && mk[len(mk)-1] != ds {
		t.Errorf("bq mk --dataset makes %q, want %q", mk[len(mk)-1], ds)
	}

	// The service account and its roles: dataEditor on the dataset only, jobUser on the project,
	// secretAccessor on the secret, run.invoker on the job.
	saAt, _ := find(t, cmds, "gcloud", "iam", "service-accounts", "create", d.sa)
	dataAt, data := find(t, cmds, "bq", "--project_id="+d.project, "add-iam-policy-binding")
	wantFlags(t, data, map[string]string{"--member": member, "--role": "roles/bigquery.dataEditor"})
	if data != nil && data[len(data)-1] != ds {
		t.Errorf("roles/bigquery.dataEditor is granted on %q, want the dataset %q", data[len(data)-1], ds)
	}
	jobUserAt, jobUser := find(t, cmds, "gcloud", "projects", "add-iam-policy-binding", d.project)
	wantFlags(t, jobUser, map[string]string{"--member": member, "--role": "roles/bigquery.jobUser"})
	accessorAt, accessor := find(t, cmds, "gcloud", "secrets", "add-iam-policy-binding", d.secret)
	wantFlags(t, accessor, map[string]string{"--member": member, "--role": "roles/secretmanager.secretAccessor", "--project": d.project})
	invokerAt, invoker := find(t, cmds, "gcloud", "run", "jobs", "add-iam-policy-binding", d.job)
	wantFlags(t, invoker, map[string]string{"--member": member, "--role": "roles/run.invoker", "--region": d.region, "--project": d.project})
	for _, c := range cmds {
		if slices.Contains(c, "--role=roles/bigquery.dataEditor") && c[0] != "bq" {
			t.Errorf("roles/bigquery.dataEditor granted other than on the dataset: %q", c)
		}
	}

	// The Cloud Run Job.
	jobAt, job := find(t, cmds, "gcloud", "run", "jobs", "deploy", d.job)
	wantFlags(t, job, map[string]string{
		"--image": image + ":" + d.tag, "--region": d.region, "--project": d.project,
		"--service-account": email, "--set-secrets": "CROWDCHANGE_API_KEY=" + d.secret + ":latest",
		"--args": d.args, "--tasks": d.tasks, "--task-timeout": d.taskTimeout,
		"--max-retries": d.maxRetries, "--memory": d.memory, "--cpu": d.cpu,
	})
	if v, ok := flagValue(job, "--set-env-vars"); ok {
		want := map[string]string{
			"CCSYNC_WAREHOUSE": "bigquery", "CCSYNC_BQ_PROJECT": d.project, "CCSYNC_BQ_DATASET": d.dataset,
			"CCSYNC_BQ_LOCATION": d.bqLocation, "CCSYNC_REGION": d.apiRegion, "CCSYNC_LOG_FORMAT": "json",
		}
		for k, v := range d.extraEnv {
			want[k] = v
		}
		if got := envVars(t, v); !reflect.DeepEqual(got, want) {
			t.Errorf("job environment = %v, want %v", got, want)
		}
	} else {
		t.Errorf("gcloud run jobs deploy has no single --set-env-vars: %q", job)
	}

	// The scheduler.
	schedAt, sched := find(t, cmds, "gcloud", "scheduler", "jobs", "create", "http", d.job+"-nightly")
	wantFlags(t, sched, map[string]string{
		"--location": d.region, "--schedule": d.schedule, "--time-zone": d.timeZone,
		"--uri":         "https://run.googleapis.com/v2/projects/" + d.project + "/locations/" + d.region + "/jobs/" + d.job + ":run",
		"--http-method": "POST", "--oauth-service-account-email": email, "--project": d.project,
	})

	// Order: what a command needs is made before it.
	for _, o := range []struct {
		what          string
		before, after int
	}{
		{"APIs before the secret", apisAt, secretAt},
		{"secret before its accessor", secretAt, accessorAt},
		{"dataset before its binding", dsAt, dataAt},
		{"service account before the dataset binding", saAt, dataAt},
		{"service account before the project binding", saAt, jobUserAt},
		{"repository before the build", repoAt, buildAt},
		{"build before the job", buildAt, jobAt},
		{"secret accessor before the job", accessorAt, jobAt},
		{"job before its invoker binding", jobAt, invokerAt},
		{"job before the scheduler", jobAt, schedAt},
	} {
		if o.before < 0 || o.after < 0 || o.before > o.after {
			t.Errorf("order: %s (commands %d and %d)", o.what, o.before, o.after)
		}
	}

	// How to run it once and read its logs.
	for _, want := range []string{
		"gcloud run jobs execute " + d.job + " --region=" + d.region + " --project=" + d.project + " --wait",
		"gcloud logging read 'resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"" + d.job + "\"'",
	} {
		if !strings.Contains(stdout, "#   "+want) {
			t.Errorf("the output does not end with %q", want)
		}
	}
}

func TestDeployDryRun(t *testing.T) {
	key := map[string]string{"CROWDCHANGE_API_KEY": apiKey}
	base := []string{"--project", "my-project", "--image-tag", "0123456789ab", "--dry-run"}
	custom := defaults()
	custom.region, custom.dataset, custom.bqLocation, custom.apiRegion = "northamerica-northeast1", "cc_prod", "northamerica-northeast1", "ca"
	custom.job, custom.schedule, custom.timeZone = "cc-nightly", "0 4 * * 1-5", "America/Toronto"
	custom.tasks, custom.taskTimeout, custom.maxRetries, custom.memory, custom.cpu = "3", "90m", "0", "4Gi", "2"
	custom.extraEnv = map[string]string{"CCSYNC_LOOKBACK": "14d", "CCSYNC_LOG_LEVEL": "debug"}
	withStart := defaults()
	withStart.args = "sync,--start=2024-01-01"
	fromEnv := defaults()
	fromEnv.project, fromEnv.timeZone, fromEnv.schedule, fromEnv.keyGiven = "env-project", "America/Toronto", "15 3 * * *", false
	comma := defaults()
	comma.extraEnv = map[string]string{"CCSYNC_PAYOUT_ACCOUNT": "global", "NOTE": "a,b"}
	placeholder := defaults()
	placeholder.project = "PROJECT_ID"

	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		tools      tools
		wantCode   int
		deployment *deployment
		golden     bool
		wantStdout []string
		wantStderr []string
	}{
		{name: "defaults", args: base, env: key, deployment: ptr(defaults()), golden: true},
		{
			name: "custom schedule, time zone, tasks and more",
			args: append(slices.Clone(base), "--region", "northamerica-northeast1", "--dataset=cc_prod",
				"--bq-location", "northamerica-northeast1", "--api-region", "ca", "--job-name", "cc-nightly",
				"--schedule", "0 4 * * 1-5", "--time-zone", "America/Toronto", "--tasks", "3",
				"--task-timeout", "90m", "--max-retries", "0", "--memory", "4Gi", "--cpu", "2",
				"--env", "CCSYNC_LOOKBACK=14d", "--env=CCSYNC_LOG_LEVEL=debug"),
			env: key, deployment: &custom, wantStdout: []string{"# note: --tasks 3: ccsync sync does not shard"},
		},
		{name: "--start on the first deploy", args: append(slices.Clone(base), "--start", "2024-01-01"), env: key, deployment: &withStart},
		{
			name: "settings from the environment, no API key",
			args: []string{"--image-tag", "0123456789ab", "--dry-run"},
			env: map[string]string{"CLOUDSDK_CORE_PROJECT": "env-project", "CCSYNC_DEPLOY_TIME_ZONE": "America/Toronto",
				"CCSYNC_DEPLOY_SCHEDULE": "15 3 * * *"},
			deployment: &fromEnv,
			wantStdout: []string{"# CROWDCHANGE_API_KEY is not set"},
		},
		{
			name: "a comma in an --env value", args: append(slices.Clone(base), "--env", "CCSYNC_PAYOUT_ACCOUNT=global", "--env", "NOTE=a,b"),
			env: key, deployment: &comma, wantStdout: []string{"'--set-env-vars=^@^CCSYNC_WAREHOUSE=bigquery@"},
		},
		{name: "no project: a placeholder in a dry run", args: []string{"--image-tag", "0123456789ab", "--dry-run"}, env: key, deployment: &placeholder},
		{name: "--help", args: []string{"--help"}, env: key, wantStdout: []string{"usage: scripts/deploy.sh", "--time-zone TZ", "CROWDCHANGE_API_KEY"}},
		{name: "-h after other flags", args: []string{"--project", "p-123456", "-h"}, env: key, wantStdout: []string{"usage: scripts/deploy.sh"}},
		{name: "unknown flag", args: append(slices.Clone(base), "--bogus", "x"), env: key, wantCode: 2, wantStderr: []string{"unknown flag --bogus", "--help"}},
		{name: "flag without its value", args: []string{"--dry-run", "--project"}, env: key, wantCode: 2, wantStderr: []string{"--project needs a value"}},
		{name: "positional argument", args: append(slices.Clone(base), "now"), env: key, wantCode: 2, wantStderr: []string{"unexpected argument now"}},
		{name: "bad API region", args: append(slices.Clone(base), "--api-region", "eu"), env: key, wantCode: 2, wantStderr: []string{"--api-region eu: want us, ca or dev"}},
		{name: "bad start date", args: append(slices.Clone(base), "--start", "2024-13-01"), env: key, wantCode: 2, wantStderr: []string{"--start 2024-13-01: want a date YYYY-MM-DD"}},
		{name: "bad tasks", args: append(slices.Clone(base), "--tasks", "0"), env: key, wantCode: 2, wantStderr: []string{"--tasks 0: want a positive integer"}},
		{name: "bad schedule", args: append(slices.Clone(base), "--schedule", "nightly"), env: key, wantCode: 2, wantStderr: []string{"--schedule nightly: want a cron schedule"}},
		{
			name: "the API key as --env is refused", args: append(slices.Clone(base), "--env", "CROWDCHANGE_API_KEY="+apiKey),
			env: key, wantCode: 2, wantStderr: []string{"--env CROWDCHANGE_API_KEY: the API key comes only from the secret"},
		},
		{
			name: "--env may not replace the job's own settings", args: append(slices.Clone(base), "--env", "CCSYNC_WAREHOUSE=duckdb"),
			env: key, wantCode: 2, wantStderr: []string{"--env CCSYNC_WAREHOUSE: set by the script itself"},
		},
		{
			name: "without --dry-run, gcloud is required", args: []string{"--project", "my-project", "--image-tag", "0123456789ab"},
			env: key, tools: noTools, wantCode: 1, wantStderr: []string{"gcloud is not on PATH"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runDeploy(t, tc.args, tc.env, tc.tools)
			if r.code != tc.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.wantCode, r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, apiKey) {
				t.Errorf("the API key appears in the output:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			}
			if len(r.calls) != 0 {
				t.Errorf("commands were run: %q", r.calls)
			}
			for _, want := range tc.wantStdout {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			for _, want := range tc.wantStderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if tc.wantCode != 0 && r.stdout != "" && !slices.Contains(tc.args, "--help") {
				t.Errorf("a failed run printed commands:\n%s", r.stdout)
			}
			if tc.deployment != nil {
				if !strings.Contains(r.stdout, "\n# dry run: nothing is run, not even a describe") {
					t.Error("the dry run does not say, in a # comment, that it runs nothing and assumes nothing exists")
				}
				if r.stderr != "" {
					t.Errorf("stderr is not empty:\n%s", r.stderr)
				}
				checkDeployment(t, r.stdout, *tc.deployment)
			}
			if tc.golden {
				compareGolden(t, r.stdout)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func compareGolden(t *testing.T, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("reading the golden output (go test ./scripts/ -run TestDeployDryRun -update writes it): %v", err)
	}
	if got != string(want) {
		t.Errorf("dry-run output differs from %s (rerun with -update if the change is meant):\n%s", goldenFile, lineDiff(string(want), got))
	}
}

// lineDiff lists the lines that differ, for a readable failure.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// TestBuildFiles checks that the files the build command names exist and name each other.
func TestBuildFiles(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"cloudbuild.yaml", []string{"--file=scripts/Dockerfile", "--build-arg=VERSION=${_TAG}", "--tag=${_IMAGE}:${_TAG}", "- ${_IMAGE}:${_TAG}", "\n- .\n"}},
		{"Dockerfile", []string{
			"FROM golang:1.26-bookworm AS build", "COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .",
			`-trimpath -tags netgo,osusergo`, `-ldflags "-s -w -linkmode external -extldflags -static -X main.version=${VERSION}"`,
			"FROM gcr.io/distroless/static-debian12:nonroot", `ENTRYPOINT ["/ccsync"]`, `CMD ["sync"]`, "WORKDIR /home/nonroot",
		}},
		{"gcloudignore", []string{"*.duckdb", "/bin/", "*.test"}},
		{"Dockerfile.dockerignore", []string{"*.duckdb", "/bin/", ".git"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			s := strings.ReplaceAll(string(b), "      - ", "- ") // YAML list items, unindented
			for _, want := range tc.want {
				if !strings.Contains(s, want) {
					t.Errorf("%s lacks %q", tc.file, want)
				}
			}
		})
	}
}

// TestDeployRun runs deploy.sh for real against fake gcloud and bq: the commands it prints are the
// ones it runs, it creates what is missing and updates what exists, and the API key reaches
// `gcloud secrets versions add` on stdin and nothing else.
func TestDeployRun(t *testing.T) {
	args := []string{"--project", "my-project", "--image-tag", "0123456789ab", "--time-zone", "America/Toronto"}
	key := map[string]string{"CROWDCHANGE_API_KEY": apiKey}
	created := []string{
		"gcloud secrets create", "bq --project_id=my-project --location=US mk", "gcloud iam service-accounts create",
		"gcloud artifacts repositories create", "gcloud scheduler jobs create",
	}
	tests := []struct {
		name        string
		env         map[string]string
		tools       tools
		wantCode    int
		wantCreated bool
		wantStdin   string
		wantStderr  string
		wantRan     []string // commands that must have run (prefixes)
		wantNotRan  []string
	}{
		{
			name: "nothing exists", env: key, tools: cloudNothing, wantCreated: true, wantStdin: apiKey,
			wantRan: []string{"gcloud run jobs deploy ccsync-sync", "gcloud scheduler jobs create http ccsync-sync-nightly"},
		},
		{
			name: "everything exists", env: key, tools: cloudEverything, wantStdin: apiKey,
			wantRan:    []string{"gcloud run jobs deploy ccsync-sync", "gcloud scheduler jobs update http ccsync-sync-nightly"},
			wantNotRan: []string{"gcloud scheduler jobs create"},
		},
		{
			name: "no API key, the secret holds a version", tools: cloudEverything,
			wantRan:    []string{"gcloud run jobs deploy ccsync-sync"},
			wantNotRan: []string{"gcloud secrets versions add"},
		},
		{
			name: "no API key and no secret", tools: cloudNothing, wantCode: 1,
			wantStderr: "secret crowdchange-api-key does not exist yet: run again with CROWDCHANGE_API_KEY set",
			wantNotRan: []string{"gcloud builds submit", "gcloud run jobs deploy"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runDeploy(t, args, tc.env, tc.tools)
			if r.code != tc.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.wantCode, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantStderr, r.stderr)
			}
			for where, s := range map[string]string{"stdout": r.stdout, "stderr": r.stderr, "a command's environment": r.env, "a command's arguments": fmt.Sprint(r.calls)} {
				if strings.Contains(s, apiKey) {
					t.Errorf("the API key appears in %s", where)
				}
			}
			if r.stdin != tc.wantStdin {
				t.Errorf("gcloud secrets versions add read %d bytes on stdin, want the key's %d", len(r.stdin), len(tc.wantStdin))
			}

			// What ran, less the questions (auth, describe, show, list), is what was printed.
			var ran []string
			for _, c := range r.calls {
				line := strings.Join(c, " ")
				if strings.HasPrefix(line, "gcloud auth list") || slices.Contains(c, "describe") ||
					(c[0] == "bq" && slices.Contains(c, "show")) || strings.HasPrefix(line, "gcloud secrets versions list") {
					continue
				}
				ran = append(ran, line)
			}
			var printed []string
			for _, c := range commands(t, r.stdout) {
				if i := slices.Index(c, "|"); i >= 0 {
					c = c[i+1:] // printf %s '<redacted>' | gcloud ...: gcloud ran, reading stdin
				}
				printed = append(printed, strings.Join(c, " "))
			}
			if !slices.Equal(ran, printed) {
				t.Errorf("the commands run differ from the commands printed:\nran:\n  %s\nprinted:\n  %s", strings.Join(ran, "\n  "), strings.Join(printed, "\n  "))
			}
			for _, prefix := range created {
				didCreate := slices.ContainsFunc(ran, func(s string) bool { return strings.HasPrefix(s, prefix) })
				if didCreate != tc.wantCreated {
					t.Errorf("%s: ran %v, want %v", prefix, didCreate, tc.wantCreated)
				}
			}
			for _, prefix := range tc.wantRan {
				if !slices.ContainsFunc(ran, func(s string) bool { return strings.HasPrefix(s, prefix) }) {
					t.Errorf("%q did not run", prefix)
				}
			}
			for _, prefix := range tc.wantNotRan {
				if slices.ContainsFunc(ran, func(s string) bool { return strings.HasPrefix(s, prefix) }) {
					t.Errorf("%q ran", prefix)
				}
			}
			if tc.wantCode == 0 {
				d := defaults()
				d.timeZone = "America/Toronto"
				if tc.tools == cloudNothing {
					checkDeployment(t, r.stdout, d)
				}
			}
		})
	}
}
