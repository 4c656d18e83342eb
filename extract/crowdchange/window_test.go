package crowdchange_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/extract/crowdchange"
)

func TestPlanPayoutWindows(t *testing.T) {
	both := []string{crowdchange.AccountGlobal, crowdchange.AccountUser}
	tests := []struct {
		name     string
		from, to time.Time
		accounts []string
		want     []string // Window.String()
	}{
		{
			name: "one day, both accounts", from: utc(2024, 1, 1, 0, 0, 0), to: utc(2024, 1, 1, 0, 0, 0), accounts: both,
			want: []string{"payout global 2024-01-01", "payout user 2024-01-01"},
		},
		{
			name: "inclusive range over the leap day", from: utc(2024, 2, 28, 0, 0, 0), to: utc(2024, 3, 1, 0, 0, 0),
			accounts: []string{crowdchange.AccountUser},
			want:     []string{"payout user 2024-02-28", "payout user 2024-02-29", "payout user 2024-03-01"},
		},
		{
			name: "times of day are ignored", from: utc(2024, 1, 1, 23, 59, 59), to: utc(2024, 1, 2, 0, 0, 1),
			accounts: []string{crowdchange.AccountUser, crowdchange.AccountGlobal},
			want:     []string{"payout user 2024-01-01", "payout global 2024-01-01", "payout user 2024-01-02", "payout global 2024-01-02"},
		},
		{
			name: "dates are UTC dates", from: time.Date(2024, 1, 1, 20, 0, 0, 0, time.FixedZone("EST", -5*3600)),
			to: time.Date(2024, 1, 1, 20, 0, 0, 0, time.FixedZone("EST", -5*3600)), accounts: []string{crowdchange.AccountGlobal},
			want: []string{"payout global 2024-01-02"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := crowdchange.PlanPayoutWindows(tt.from, tt.to, tt.accounts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range ws {
				got = append(got, w.String())
				if err := crowdchange.ValidateWindow(w); err != nil {
					t.Errorf("%v: %v", w, err)
				}
				if w.End.Sub(w.Start) != 24*time.Hour || w.Start.Location() != time.UTC {
					t.Errorf("%v: start %v end %v, want a UTC day", w, w.Start, w.End)
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestPlanPayoutWindowsErrors(t *testing.T) {
	d := utc(2024, 1, 2, 0, 0, 0)
	tests := []struct {
		name     string
		from, to time.Time
		accounts []string
		want     string
	}{
		{"to before from", d, d.Add(-time.Second), []string{"user"}, "before"},
		{"no account", d, d, nil, "no payout account"},
		{"unknown account", d, d, []string{"users"}, `"users" is not`},
		{"empty account", d, d, []string{""}, "is not"},
		{"repeated account", d, d, []string{"user", "user"}, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := crowdchange.PlanPayoutWindows(tt.from, tt.to, tt.accounts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, %v; want an error containing %q", ws, err, tt.want)
			}
		})
	}
}

func TestWindowValidate(t *testing.T) {
	day := utc(2024, 1, 1, 0, 0, 0)
	tests := []struct {
		name string
		w    extract.Window
		want string // "" for valid
	}{
		{"date ok", extract.Window{Stream: extract.StreamDate, Start: day, End: day.Add(time.Second)}, ""},
		{"payout ok", extract.Window{Stream: crowdchange.StreamPayout, Account: "global", Start: day, End: day.AddDate(0, 0, 1)}, ""},
		{"zero window", extract.Window{}, "unknown stream"},
		{"unknown stream", extract.Window{Stream: "refunds", Start: day, End: day.Add(time.Hour)}, "unknown stream"},
		{"date empty", extract.Window{Stream: extract.StreamDate, Start: day, End: day}, "after start"},
		{"date reversed", extract.Window{Stream: extract.StreamDate, Start: day, End: day.Add(-time.Hour)}, "after start"},
		{"date unset", extract.Window{Stream: extract.StreamDate, End: day}, "must be set"},
		{"date sub-second", extract.Window{Stream: extract.StreamDate, Start: day, End: day.Add(1500 * time.Millisecond)}, "whole seconds"},
		{"date with account", extract.Window{Stream: extract.StreamDate, Account: "user", Start: day, End: day.Add(time.Hour)}, "account"},
		{"payout bad account", extract.Window{Stream: crowdchange.StreamPayout, Account: "x", Start: day, End: day.AddDate(0, 0, 1)}, "account"},
		{"payout not midnight", extract.Window{Stream: crowdchange.StreamPayout, Account: "user", Start: day.Add(time.Hour), End: day.Add(25 * time.Hour)}, "00:00 UTC"},
		{"payout two days", extract.Window{Stream: crowdchange.StreamPayout, Account: "user", Start: day, End: day.AddDate(0, 0, 2)}, "24h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := crowdchange.ValidateWindow(tt.w)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
