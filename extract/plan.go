package extract

import (
	"time"

	"github.com/sirupsen/logrus"
)

// Plan is what one run extracts: its windows, the range they cover (for the run log) and how many
// planned windows were left out because already committed.
type Plan struct {
	Windows  []Window
	From, To time.Time
	Skipped  int
	// Fields describe the plan in the log line "run planned".
	Fields logrus.Fields
}
