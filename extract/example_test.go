package extract_test

import (
	"fmt"
	"time"

	"github.com/ccsync/ccsync/extract"
)

// Daily windows over a range that ends mid-day: the last window is cut at the end of the range,
// and each window asks the API for its last second, inclusive.
func ExamplePlanDateWindows() {
	from := time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC)
	to := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	windows, err := extract.PlanDateWindows(from, to, 24*time.Hour)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range windows {
		q := w.Query(1, 100)
		fmt.Println(w, "dt_start="+q.Get(extract.ParamDTStart), "dt_end="+q.Get(extract.ParamDTEnd))
	}
	// Output:
	// date 2024-02-28T00:00:00Z..2024-02-29T00:00:00Z dt_start=2024-02-28T00:00:00 dt_end=2024-02-28T23:59:59
	// date 2024-02-29T00:00:00Z..2024-03-01T00:00:00Z dt_start=2024-02-29T00:00:00 dt_end=2024-02-29T23:59:59
	// date 2024-03-01T00:00:00Z..2024-03-01T12:00:00Z dt_start=2024-03-01T00:00:00 dt_end=2024-03-01T11:59:59
}
