package extract

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"3", 3 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"99999999999999999999999", 365 * 24 * time.Hour, true},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"Sat, 01 Jun 2024 12:00:30 GMT", 30 * time.Second, true},
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// The backoff's ceiling doubles from the base up to the maximum; the jitter scales it.
func TestBackoff(t *testing.T) {
	tests := []struct {
		name string
		rand float64
		want []time.Duration // after attempts 1, 2, ...
	}{
		{"ceiling (rand at its top)", 1, []time.Duration{100, 200, 400, 800, 1000, 1000, 1000}},
		{"half", 0.5, []time.Duration{50, 100, 200, 400, 500, 500, 500}},
		{"zero", 0, []time.Duration{0, 0, 0, 0, 0, 0, 0}},
		{"out of range is clamped", 7, []time.Duration{100, 200, 400, 800, 1000, 1000, 1000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := NewRetryTransport(http.DefaultTransport, RetryConfig{
				BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second, Rand: func() float64 { return tt.rand },
			})
			for i, w := range tt.want {
				if got := rt.backoff(i + 1); got != w*time.Millisecond {
					t.Errorf("backoff(%d) = %v, want %v", i+1, got, w*time.Millisecond)
				}
			}
			if got := rt.backoff(1000); got > time.Second {
				t.Errorf("backoff(1000) = %v overflowed the cap", got)
			}
		})
	}
}
