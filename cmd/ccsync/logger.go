package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ccsync/ccsync/config"
)

// newLogger makes the one logger of a run: text on a terminal, JSON with Cloud Logging's
// `severity` and `message` keys otherwise (or as --log-format says).
func newLogger(cfg config.Log, w io.Writer, terminal bool) (*logrus.Logger, error) {
	l := logrus.New()
	l.SetOutput(w)
	level, err := logrus.ParseLevel(cfg.Level)
	if err != nil {
		return nil, fmt.Errorf("log-level: %w", err)
	}
	l.SetLevel(level)
	l.AddHook(secondsHook{})
	switch {
	case cfg.Format == "json" || (cfg.Format == "auto" && !terminal):
		l.SetFormatter(cloudLoggingFormatter{})
	default:
		l.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, TimestampFormat: time.TimeOnly, ForceColors: terminal, DisableColors: !terminal})
	}
	return l, nil
}

// cloudLoggingFormatter writes one JSON object per line in the shape Cloud Logging understands
// (https://cloud.google.com/logging/docs/structured-logging): severity, message, time, and the
// entry's fields.
type cloudLoggingFormatter struct{}

var severities = map[logrus.Level]string{
	logrus.TraceLevel: "DEBUG",
	logrus.DebugLevel: "DEBUG",
	logrus.InfoLevel:  "INFO",
	logrus.WarnLevel:  "WARNING",
	logrus.ErrorLevel: "ERROR",
	logrus.FatalLevel: "CRITICAL",
	logrus.PanicLevel: "ALERT",
}

func (cloudLoggingFormatter) Format(e *logrus.Entry) ([]byte, error) {
	m := make(map[string]any, len(e.Data)+3)
	for k, v := range e.Data {
		if err, ok := v.(error); ok {
			v = err.Error()
		}
		// Never let a field shadow the keys Cloud Logging reads.
		switch k {
		case "severity", "message", "time":
			k = "field_" + k
		}
		m[k] = v
	}
	m["severity"] = severities[e.Level]
	m["message"] = strings.TrimSuffix(e.Message, "\n")
	m["time"] = e.Time.UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("formatting log entry: %w", err)
	}
	return append(b, '\n'), nil
}

// secondsHook writes every time.Duration field in seconds, under its name with "_s" appended
// ("wait": 10m becomes "wait_s": 600): logrus would print nanoseconds in JSON.
type secondsHook struct{}

func (secondsHook) Levels() []logrus.Level { return logrus.AllLevels }

// Fire rewrites the entry's own copy of the fields (logrus duplicates them for each line).
func (secondsHook) Fire(e *logrus.Entry) error {
	for k, v := range e.Data {
		if d, ok := v.(time.Duration); ok {
			delete(e.Data, k)
			e.Data[k+"_s"] = d.Seconds()
		}
	}
	return nil
}
