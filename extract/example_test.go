package extract_test

import (
	"fmt"
	"time"

	"github.com/ccsync/ccsync/extract"
)

// Daily windows over a range that ends mid-day: the last window is cut at the end of the range.
func ExamplePlanDateWindows() {
	from := time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC)
	to := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	windows, err := extract.PlanDateWindows(from, to, 24*time.Hour)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range windows {
		fmt.Println(w)
	}
	// Output:
	// date 2024-02-28T00:00:00Z..2024-02-29T00:00:00Z
	// date 2024-02-29T00:00:00Z..2024-03-01T00:00:00Z
	// date 2024-03-01T00:00:00Z..2024-03-01T12:00:00Z
}
