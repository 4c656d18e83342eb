package pipeline

import (
	"testing"

	"github.com/ccsync/ccsync/extract"
	"github.com/sirupsen/logrus"
)

// The summary's rate line and the run-ended line's rate fields say what an adaptive limiter did,
// and nothing for a limiter that does not adapt; the summary says nothing either while the rate
// was never cut.
func TestRateReport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		rate       extract.RateStats
		wantLine   string
		wantFields logrus.Fields
	}{
		{"fixed limiter", extract.RateStats{}, "", nil},
		{"never cut", extract.RateStats{Adaptive: true, Ceiling: 20, Limit: 20},
			"", logrus.Fields{"rate": 20.0, "rate_ceiling": 20.0, "rate_cuts": 0, "rate_restores": 0, "rate_baseline_429": 0.0}},
		{"settled below the ceiling", extract.RateStats{Adaptive: true, Ceiling: 1000, Limit: 19.6371, Cuts: 2},
			"19.64 requests/s at the end, of --rate 1000 (cut 2 times on 429, back up 0 times; 0.0% of answers 429 whatever the rate)",
			logrus.Fields{"rate": 19.64, "rate_ceiling": 1000.0, "rate_cuts": 2, "rate_restores": 0, "rate_baseline_429": 0.0}},
		{"random 429s", extract.RateStats{Adaptive: true, Ceiling: 2000, Limit: 2000, Cuts: 3, Restores: 3, Baseline: 0.0812345},
			"2000 requests/s at the end, of --rate 2000 (cut 3 times on 429, back up 3 times; 8.1% of answers 429 whatever the rate)",
			logrus.Fields{"rate": 2000.0, "rate_ceiling": 2000.0, "rate_cuts": 3, "rate_restores": 3, "rate_baseline_429": 0.0812}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := rateLine(tt.rate); got != tt.wantLine {
				t.Errorf("rateLine = %q, want %q", got, tt.wantLine)
			}
			got := rateFields(tt.rate)
			if len(got) != len(tt.wantFields) {
				t.Fatalf("rateFields = %v, want %v", got, tt.wantFields)
			}
			for k, v := range tt.wantFields {
				if got[k] != v {
					t.Errorf("rateFields[%q] = %v (%T), want %v (%T)", k, got[k], got[k], v, v)
				}
			}
		})
	}
}
