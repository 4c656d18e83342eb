package extract_test

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // America/Toronto without relying on the system's zone files

	"github.com/ccsync/ccsync/extract"
)

func utc(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, time.UTC)
}

// span is a compact [start, end) for expectations.
type span struct{ start, end time.Time }

func TestPlanDateWindows(t *testing.T) {
	toronto, err := time.LoadLocation("America/Toronto")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		from, to time.Time
		size     time.Duration
		want     []span
	}{
		{
			name: "whole days",
			from: utc(2024, 1, 1, 0, 0, 0), to: utc(2024, 1, 4, 0, 0, 0), size: 24 * time.Hour,
			want: []span{
				{utc(2024, 1, 1, 0, 0, 0), utc(2024, 1, 2, 0, 0, 0)},
				{utc(2024, 1, 2, 0, 0, 0), utc(2024, 1, 3, 0, 0, 0)},
				{utc(2024, 1, 3, 0, 0, 0), utc(2024, 1, 4, 0, 0, 0)},
			},
		},
		{
			name: "last window truncated at to",
			from: utc(2024, 1, 1, 0, 0, 0), to: utc(2024, 1, 2, 1, 0, 0), size: 24 * time.Hour,
			want: []span{
				{utc(2024, 1, 1, 0, 0, 0), utc(2024, 1, 2, 0, 0, 0)},
				{utc(2024, 1, 2, 0, 0, 0), utc(2024, 1, 2, 1, 0, 0)},
			},
		},
		{
			name: "range shorter than one window",
			from: utc(2024, 1, 1, 0, 0, 0), to: utc(2024, 1, 1, 0, 0, 1), size: 24 * time.Hour,
			want: []span{{utc(2024, 1, 1, 0, 0, 0), utc(2024, 1, 1, 0, 0, 1)}},
		},
		{
			name: "aligned to an odd from, not to midnight",
			from: utc(2024, 5, 1, 10, 17, 3), to: utc(2024, 5, 1, 13, 0, 0), size: 90 * time.Minute,
			want: []span{
				{utc(2024, 5, 1, 10, 17, 3), utc(2024, 5, 1, 11, 47, 3)},
				{utc(2024, 5, 1, 11, 47, 3), utc(2024, 5, 1, 13, 0, 0)},
			},
		},
		{
			name: "leap day is a window of its own",
			from: utc(2024, 2, 28, 0, 0, 0), to: utc(2024, 3, 1, 0, 0, 0), size: 24 * time.Hour,
			want: []span{
				{utc(2024, 2, 28, 0, 0, 0), utc(2024, 2, 29, 0, 0, 0)},
				{utc(2024, 2, 29, 0, 0, 0), utc(2024, 3, 1, 0, 0, 0)},
			},
		},
		{
			name: "no leap day in 2023",
			from: utc(2023, 2, 28, 0, 0, 0), to: utc(2023, 3, 1, 0, 0, 0), size: 24 * time.Hour,
			want: []span{{utc(2023, 2, 28, 0, 0, 0), utc(2023, 3, 1, 0, 0, 0)}},
		},
		{
			name: "DST change in a local zone does not move UTC windows",
			from: time.Date(2024, 3, 9, 19, 0, 0, 0, toronto),  // 2024-03-10 00:00 UTC
			to:   time.Date(2024, 3, 11, 20, 0, 0, 0, toronto), // 2024-03-12 00:00 UTC (EDT)
			size: 24 * time.Hour,
			want: []span{
				{utc(2024, 3, 10, 0, 0, 0), utc(2024, 3, 11, 0, 0, 0)},
				{utc(2024, 3, 11, 0, 0, 0), utc(2024, 3, 12, 0, 0, 0)},
			},
		},
		{
			name: "one-second windows",
			from: utc(2024, 12, 31, 23, 59, 58), to: utc(2025, 1, 1, 0, 0, 0), size: time.Second,
			want: []span{
				{utc(2024, 12, 31, 23, 59, 58), utc(2024, 12, 31, 23, 59, 59)},
				{utc(2024, 12, 31, 23, 59, 59), utc(2025, 1, 1, 0, 0, 0)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := extract.PlanDateWindows(tt.from, tt.to, tt.size)
			if err != nil {
				t.Fatal(err)
			}
			if len(ws) != len(tt.want) {
				t.Fatalf("got %d windows %v, want %d", len(ws), ws, len(tt.want))
			}
			for i, w := range ws {
				if w.Stream != extract.StreamDate || w.Account != "" || !w.Start.Equal(tt.want[i].start) || !w.End.Equal(tt.want[i].end) {
					t.Errorf("window %d = %v, want date %v..%v", i, w, tt.want[i].start, tt.want[i].end)
				}
				if w.Start.Location() != time.UTC || w.End.Location() != time.UTC {
					t.Errorf("window %d is not in UTC: %v", i, w)
				}
				if err := w.Validate(); err != nil {
					t.Errorf("window %d: %v", i, err)
				}
			}
		})
	}
}

// A leap year of daily windows covers the range exactly: contiguous, no overlap, 366 windows.
func TestPlanDateWindowsCoversRange(t *testing.T) {
	from, to := utc(2024, 1, 1, 0, 0, 0), utc(2025, 1, 1, 0, 0, 0)
	for _, size := range []time.Duration{24 * time.Hour, 7 * 24 * time.Hour, 3600 * time.Second, 13 * time.Hour} {
		ws, err := extract.PlanDateWindows(from, to, size)
		if err != nil {
			t.Fatal(err)
		}
		if size == 24*time.Hour && len(ws) != 366 {
			t.Errorf("2024 has %d daily windows, want 366", len(ws))
		}
		if !ws[0].Start.Equal(from) || !ws[len(ws)-1].End.Equal(to) {
			t.Errorf("size %v: windows span %v..%v, want %v..%v", size, ws[0].Start, ws[len(ws)-1].End, from, to)
		}
		for i := 1; i < len(ws); i++ {
			if !ws[i].Start.Equal(ws[i-1].End) {
				t.Fatalf("size %v: window %d starts at %v, the previous ends at %v", size, i, ws[i].Start, ws[i-1].End)
			}
			if d := ws[i].End.Sub(ws[i].Start); d > size || d <= 0 {
				t.Fatalf("size %v: window %d lasts %v", size, i, d)
			}
		}
	}
}

func TestPlanDateWindowsErrors(t *testing.T) {
	from := utc(2024, 1, 1, 0, 0, 0)
	tests := []struct {
		name     string
		from, to time.Time
		size     time.Duration
		want     string
	}{
		{"to equals from", from, from, time.Hour, "not after"},
		{"to before from", from, from.Add(-time.Hour), time.Hour, "not after"},
		{"zero size", from, from.Add(time.Hour), 0, "whole number of seconds"},
		{"negative size", from, from.Add(time.Hour), -time.Hour, "whole number of seconds"},
		{"sub-second size", from, from.Add(time.Hour), 500 * time.Millisecond, "whole number of seconds"},
		{"fractional seconds", from, from.Add(time.Hour), 1500 * time.Millisecond, "whole number of seconds"},
		{"from not a whole second", from.Add(time.Millisecond), from.Add(time.Hour), time.Minute, "whole seconds"},
		{"to not a whole second", from, from.Add(time.Hour + time.Nanosecond), time.Minute, "whole seconds"},
		{"too many windows", from, from.AddDate(1, 0, 0), time.Second, "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := extract.PlanDateWindows(tt.from, tt.to, tt.size)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, %v; want an error containing %q", ws, err, tt.want)
			}
		})
	}
}

func TestPlanPayoutWindows(t *testing.T) {
	both := []string{extract.AccountGlobal, extract.AccountUser}
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
			accounts: []string{extract.AccountUser},
			want:     []string{"payout user 2024-02-28", "payout user 2024-02-29", "payout user 2024-03-01"},
		},
		{
			name: "times of day are ignored", from: utc(2024, 1, 1, 23, 59, 59), to: utc(2024, 1, 2, 0, 0, 1),
			accounts: []string{extract.AccountUser, extract.AccountGlobal},
			want:     []string{"payout user 2024-01-01", "payout global 2024-01-01", "payout user 2024-01-02", "payout global 2024-01-02"},
		},
		{
			name: "dates are UTC dates", from: time.Date(2024, 1, 1, 20, 0, 0, 0, time.FixedZone("EST", -5*3600)),
			to: time.Date(2024, 1, 1, 20, 0, 0, 0, time.FixedZone("EST", -5*3600)), accounts: []string{extract.AccountGlobal},
			want: []string{"payout global 2024-01-02"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := extract.PlanPayoutWindows(tt.from, tt.to, tt.accounts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range ws {
				got = append(got, w.String())
				if err := w.Validate(); err != nil {
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
			ws, err := extract.PlanPayoutWindows(tt.from, tt.to, tt.accounts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, %v; want an error containing %q", ws, err, tt.want)
			}
		})
	}
}

func TestWindowQueryAndString(t *testing.T) {
	tests := []struct {
		name   string
		w      extract.Window
		page   int
		limit  int
		str    string
		encode string
	}{
		{
			name: "date window: dt_end is the last second, inclusive",
			w:    extract.Window{Stream: extract.StreamDate, Start: utc(2024, 1, 1, 0, 0, 0), End: utc(2024, 1, 2, 0, 0, 0)},
			page: 1, limit: 100,
			str:    "date 2024-01-01T00:00:00Z..2024-01-02T00:00:00Z",
			encode: "direction=asc&dt_end=2024-01-01T23%3A59%3A59&dt_start=2024-01-01T00%3A00%3A00&limit=100&page=1&sort=id",
		},
		{
			name: "date window given in another zone is asked in UTC",
			w: extract.Window{Stream: extract.StreamDate, Start: time.Date(2024, 2, 29, 1, 0, 0, 0, time.FixedZone("X", 3600)),
				End: time.Date(2024, 2, 29, 2, 0, 0, 0, time.FixedZone("X", 3600))},
			page: 7, limit: 3,
			str:    "date 2024-02-29T00:00:00Z..2024-02-29T01:00:00Z",
			encode: "direction=asc&dt_end=2024-02-29T00%3A59%3A59&dt_start=2024-02-29T00%3A00%3A00&limit=3&page=7&sort=id",
		},
		{
			name: "payout window: no dates, payout_date and account",
			w:    extract.Window{Stream: extract.StreamPayout, Account: "user", Start: utc(2024, 2, 29, 0, 0, 0), End: utc(2024, 3, 1, 0, 0, 0)},
			page: 2, limit: 50,
			str:    "payout user 2024-02-29",
			encode: "direction=asc&limit=50&page=2&payout_account=user&payout_date=2024-02-29&sort=id",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.w.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := tt.w.Query(tt.page, tt.limit).Encode(); got != tt.encode {
				t.Errorf("Query().Encode() = %q\nwant %q", got, tt.encode)
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
		{"payout ok", extract.Window{Stream: extract.StreamPayout, Account: "global", Start: day, End: day.AddDate(0, 0, 1)}, ""},
		{"zero window", extract.Window{}, "unknown stream"},
		{"unknown stream", extract.Window{Stream: "refunds", Start: day, End: day.Add(time.Hour)}, "unknown stream"},
		{"date empty", extract.Window{Stream: extract.StreamDate, Start: day, End: day}, "after start"},
		{"date reversed", extract.Window{Stream: extract.StreamDate, Start: day, End: day.Add(-time.Hour)}, "after start"},
		{"date unset", extract.Window{Stream: extract.StreamDate, End: day}, "must be set"},
		{"date sub-second", extract.Window{Stream: extract.StreamDate, Start: day, End: day.Add(1500 * time.Millisecond)}, "whole seconds"},
		{"date with account", extract.Window{Stream: extract.StreamDate, Account: "user", Start: day, End: day.Add(time.Hour)}, "account"},
		{"payout bad account", extract.Window{Stream: extract.StreamPayout, Account: "x", Start: day, End: day.AddDate(0, 0, 1)}, "account"},
		{"payout not midnight", extract.Window{Stream: extract.StreamPayout, Account: "user", Start: day.Add(time.Hour), End: day.Add(25 * time.Hour)}, "00:00 UTC"},
		{"payout two days", extract.Window{Stream: extract.StreamPayout, Account: "user", Start: day, End: day.AddDate(0, 0, 2)}, "24h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.w.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestParseDay(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"2024-02-29", utc(2024, 2, 29, 0, 0, 0), false},
		{"2023-02-29", time.Time{}, true},
		{"2024-1-2", time.Time{}, true},
		{"2024-01-02T00:00:00", time.Time{}, true},
		{"", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := extract.ParseDay(tt.in)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) || (err == nil && got.Location() != time.UTC) {
			t.Errorf("ParseDay(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
