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
				if w.Start.Nanosecond() != 0 || w.End.Nanosecond() != 0 {
					t.Errorf("window %d is not of whole seconds: %v", i, w)
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

// A window names itself in logs by its stream, its account and its range, a whole UTC day of an
// account by its date.
func TestWindowString(t *testing.T) {
	day := utc(2024, 2, 29, 0, 0, 0)
	tests := []struct {
		w    extract.Window
		want string
	}{
		{extract.Window{Stream: extract.StreamDate, Start: day, End: day.Add(extract.Day)}, "date 2024-02-29T00:00:00Z..2024-03-01T00:00:00Z"},
		{extract.Window{Stream: "created", Start: day.In(time.FixedZone("X", 3600)), End: day.Add(time.Hour)}, "created 2024-02-29T00:00:00Z..2024-02-29T01:00:00Z"},
		{extract.Window{Stream: "payout", Account: "user", Start: day, End: day.Add(extract.Day)}, "payout user 2024-02-29"},
		{extract.Window{Stream: "payout", Account: "user", Start: day, End: day.Add(time.Hour)}, "payout user 2024-02-29T00:00:00Z..2024-02-29T01:00:00Z"},
	}
	for _, tt := range tests {
		if got := tt.w.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
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
