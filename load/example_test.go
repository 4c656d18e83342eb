package load_test

import (
	"fmt"
	"time"

	"github.com/ccsync/ccsync/load"
)

// A stream's watermark is the end of its contiguous committed prefix: a window committed after a
// gap does not move it, and a backfill re-run skips exactly what is covered.
func ExampleWatermark() {
	day := func(d int) time.Time { return time.Date(2025, 1, d, 0, 0, 0, 0, time.UTC) }
	cps := []load.Checkpoint{
		{Source: "crowdchange", Stream: "date", WindowStart: day(1), WindowEnd: day(2)},
		{Source: "crowdchange", Stream: "date", WindowStart: day(2), WindowEnd: day(3)},
		{Source: "crowdchange", Stream: "date", WindowStart: day(4), WindowEnd: day(5)}, // after a gap: Jan 3 failed
	}
	wm, _ := load.Watermark(cps, "date", "")
	fmt.Println("watermark:", wm.Format(time.DateOnly))
	fmt.Println("Jan 1-3 covered:", load.Covered(cps, "date", "", day(1), day(3)))
	fmt.Println("Jan 3 covered:", load.Covered(cps, "date", "", day(3), day(4)))
	// Output:
	// watermark: 2025-01-03
	// Jan 1-3 covered: true
	// Jan 3 covered: false
}
