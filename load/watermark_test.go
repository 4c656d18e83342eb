package load

import (
	"testing"
	"time"
)

// mar is day n of March 2024, UTC; hr is hour n of March 1st.
func mar(n int) time.Time { return time.Date(2024, 3, n, 0, 0, 0, 0, time.UTC) }
func hr(n int) time.Time  { return mar(1).Add(time.Duration(n) * time.Hour) }

func dateCP(start, end time.Time) Checkpoint {
	return Checkpoint{Source: "crowdchange", Stream: StreamDate, WindowStart: start, WindowEnd: end}
}

func payoutCP(account string, start, end time.Time) Checkpoint {
	return Checkpoint{Source: "crowdchange", Stream: StreamPayout, PayoutAccount: account, WindowStart: start, WindowEnd: end}
}

func TestWatermark(t *testing.T) {
	tests := []struct {
		name    string
		cps     []Checkpoint
		stream  string
		account string
		want    time.Time
		wantOK  bool
	}{
		{"none", nil, StreamDate, "", time.Time{}, false},
		{"one window", []Checkpoint{dateCP(mar(1), mar(2))}, StreamDate, "", mar(2), true},
		{"contiguous", []Checkpoint{dateCP(mar(1), mar(2)), dateCP(mar(2), mar(3)), dateCP(mar(3), mar(4))}, StreamDate, "", mar(4), true},
		{"out of order", []Checkpoint{dateCP(mar(3), mar(4)), dateCP(mar(1), mar(2)), dateCP(mar(2), mar(3))}, StreamDate, "", mar(4), true},
		{"gap stops the prefix", []Checkpoint{dateCP(mar(1), mar(2)), dateCP(mar(3), mar(4))}, StreamDate, "", mar(2), true},
		{"gap filled later", []Checkpoint{dateCP(mar(1), mar(2)), dateCP(mar(3), mar(4)), dateCP(mar(2), mar(3))}, StreamDate, "", mar(4), true},
		{"prefix starts at the earliest window", []Checkpoint{dateCP(mar(5), mar(6)), dateCP(mar(6), mar(7))}, StreamDate, "", mar(7), true},
		{"overlapping and repeated (lookback)", []Checkpoint{dateCP(mar(1), mar(8)), dateCP(mar(2), mar(9)), dateCP(mar(2), mar(9)), dateCP(mar(3), mar(4))}, StreamDate, "", mar(9), true},
		{"window contained in an earlier one", []Checkpoint{dateCP(mar(1), mar(5)), dateCP(mar(2), mar(3))}, StreamDate, "", mar(5), true},
		{"different window sizes", []Checkpoint{dateCP(hr(0), hr(6)), dateCP(hr(6), hr(24)), dateCP(mar(2), mar(4)), dateCP(mar(4), mar(4).Add(time.Hour))}, StreamDate, "", mar(4).Add(time.Hour), true},
		{"one-hour gap in hours", []Checkpoint{dateCP(hr(0), hr(1)), dateCP(hr(2), hr(3))}, StreamDate, "", hr(1), true},
		{"empty windows ignored", []Checkpoint{dateCP(mar(1), mar(1)), dateCP(mar(3), mar(2))}, StreamDate, "", time.Time{}, false},
		{"other streams ignored", []Checkpoint{payoutCP("global", mar(1), mar(9)), dateCP(mar(1), mar(2))}, StreamDate, "", mar(2), true},
		{"payout accounts are separate", []Checkpoint{payoutCP("global", mar(1), mar(2)), payoutCP("user", mar(1), mar(5)), payoutCP("global", mar(2), mar(3))}, StreamPayout, "global", mar(3), true},
		{"payout user", []Checkpoint{payoutCP("global", mar(1), mar(2)), payoutCP("user", mar(1), mar(5))}, StreamPayout, "user", mar(5), true},
		{"payout account absent", []Checkpoint{payoutCP("global", mar(1), mar(2))}, StreamPayout, "user", time.Time{}, false},
		{"non-UTC input", []Checkpoint{dateCP(mar(1).In(time.FixedZone("X", -5*3600)), mar(2).In(time.FixedZone("Y", 3600)))}, StreamDate, "", mar(2), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Watermark(tt.cps, tt.stream, tt.account)
			if ok != tt.wantOK || !got.Equal(tt.want) {
				t.Errorf("Watermark = %v, %t; want %v, %t", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestCovered(t *testing.T) {
	daily := []Checkpoint{dateCP(mar(1), mar(2)), dateCP(mar(2), mar(3)), dateCP(mar(4), mar(5))} // gap on day 3
	tests := []struct {
		name       string
		cps        []Checkpoint
		stream     string
		account    string
		start, end time.Time
		want       bool
	}{
		{"nothing committed", nil, StreamDate, "", mar(1), mar(2), false},
		{"exact window", daily, StreamDate, "", mar(1), mar(2), true},
		{"two windows", daily, StreamDate, "", mar(1), mar(3), true},
		{"inside a window (smaller window size)", daily, StreamDate, "", hr(6), hr(12), true},
		{"across a window boundary", daily, StreamDate, "", hr(12), hr(36), true},
		{"over the gap", daily, StreamDate, "", mar(2), mar(5), false},
		{"in the gap", daily, StreamDate, "", mar(3), mar(4), false},
		{"partly in the gap", daily, StreamDate, "", mar(3).Add(-time.Hour), mar(3).Add(time.Hour), false},
		{"after the gap", daily, StreamDate, "", mar(4), mar(5), true},
		{"before everything", daily, StreamDate, "", mar(1).Add(-time.Hour), mar(2), false},
		{"past the end", daily, StreamDate, "", mar(4), mar(6), false},
		{"bigger window than committed ones", daily, StreamDate, "", mar(1), mar(8), false},
		{"weekly window made of daily ones", []Checkpoint{dateCP(mar(1), mar(2)), dateCP(mar(2), mar(3)), dateCP(mar(3), mar(4)), dateCP(mar(4), mar(5)), dateCP(mar(5), mar(6)), dateCP(mar(6), mar(7)), dateCP(mar(7), mar(8))}, StreamDate, "", mar(1), mar(8), true},
		{"daily window inside a weekly one", []Checkpoint{dateCP(mar(1), mar(8))}, StreamDate, "", mar(3), mar(4), true},
		{"out of order and overlapping", []Checkpoint{dateCP(mar(3), mar(6)), dateCP(mar(1), mar(4)), dateCP(mar(2), mar(3))}, StreamDate, "", mar(1), mar(6), true},
		{"empty range", nil, StreamDate, "", mar(2), mar(2), true},
		{"another stream's windows", []Checkpoint{payoutCP("global", mar(1), mar(9))}, StreamDate, "", mar(1), mar(2), false},
		{"payout account", []Checkpoint{payoutCP("global", mar(1), mar(2)), payoutCP("user", mar(2), mar(3))}, StreamPayout, "global", mar(1), mar(2), true},
		{"other payout account", []Checkpoint{payoutCP("global", mar(1), mar(2)), payoutCP("user", mar(2), mar(3))}, StreamPayout, "global", mar(2), mar(3), false},
		{"payout account needed", []Checkpoint{payoutCP("global", mar(1), mar(2))}, StreamPayout, "", mar(1), mar(2), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Covered(tt.cps, tt.stream, tt.account, tt.start, tt.end); got != tt.want {
				t.Errorf("Covered(%v, %v) = %t, want %t", tt.start, tt.end, got, tt.want)
			}
		})
	}
}
