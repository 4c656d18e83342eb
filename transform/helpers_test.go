package transform_test

import (
	"flag"
	"time"

	"github.com/ccsync/ccsync/transform"
)

// testMeta stamps the rows of every test.
var testMeta = transform.Meta{
	RunID:       "run-1",
	BatchID:     "batch-1",
	ExtractedAt: time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC),
}

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")
