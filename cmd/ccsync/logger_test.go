package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
)

// Durations in JSON logs are seconds under a name ending in _s, never nanoseconds.
func TestLogDurationsInSeconds(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := newLogger(config.Log{Level: "info", Format: format}, &buf, false)
			if err != nil {
				t.Fatal(err)
			}
			l.WithField("wait", 10*time.Minute).WithField("pages", 3).Info("retrying")
			out := buf.String()
			if strings.Contains(out, "600000000000") || !strings.Contains(out, "wait_s") || !strings.Contains(out, "600") {
				t.Fatalf("log line %q", out)
			}
			if format == "json" {
				var m map[string]any
				if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
					t.Fatal(err)
				}
				if m["wait_s"] != 600.0 || m["pages"] != 3.0 || m["wait"] != nil {
					t.Errorf("fields %v", m)
				}
			}
		})
	}
}
