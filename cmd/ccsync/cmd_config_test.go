package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccsync/ccsync/config"
)

func TestConfigVerb(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	badValue := filepath.Join(dir, "bad-value.yaml")
	for name, body := range map[string]string{
		good:     "warehouse: bigquery\nbq-project: p1\nbq-dataset: d1\nwindow: 12h\nrate: 3\n",
		bad:      "warehouse: bigquery\nbq-projet: p1\n",
		badValue: "concurrency: lots\n",
	} {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		want     []string
		wantNot  []string
		inStderr string
	}{
		{"file, env and flag", map[string]string{config.APIKeyEnv: "supersecret-key", "CCSYNC_RATE": "7"}, []string{"--config", good, "config", "--window", "6h"}, 0,
			[]string{"warehouse             bigquery", "bq-project            p1", "rate                  7", "window                6h0m0s", "api-key               [redacted]"}, []string{"supersecret-key"}, ""},
		{"unknown key", nil, []string{"--config", bad, "config"}, exitUsage, nil, nil, `unknown key "bq-projet"`},
		{"bad value", nil, []string{"--config", badValue, "config"}, exitUsage, nil, nil, "concurrency"},
		{"bad env value", map[string]string{"CCSYNC_LOOKBACK": "a week"}, []string{"config"}, exitUsage, nil, nil, "CCSYNC_LOOKBACK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cli{env: tt.env}.run(t, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(r.stdout+r.stderr, w) {
					t.Errorf("output has %q", w)
				}
			}
			if !strings.Contains(r.stderr, tt.inStderr) {
				t.Errorf("stderr lacks %q: %s", tt.inStderr, r.stderr)
			}
		})
	}
}
