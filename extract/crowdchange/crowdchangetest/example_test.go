package crowdchangetest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/extract/crowdchange/crowdchangetest"
)

// Start a sandbox, fetch a page of one day's transactions and compare with the ground truth.
func ExampleStart() {
	now := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	srv, ts := crowdchangetest.Start(crowdchangetest.Options{
		Seed:         42,
		Transactions: 1000,
		From:         now.AddDate(-1, 0, 0),
		To:           now,
		Now:          func() time.Time { return now },
	})
	defer ts.Close()

	req, err := http.NewRequest(http.MethodGet,
		ts.URL+"/v2/private/transactions?dt_start=2024-03-01T00:00:00&dt_end=2024-03-01T23:59:59&limit=100", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	req.Header.Set("Authorization", "Bearer "+crowdchangetest.DefaultAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var page crowdchange.Page
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		fmt.Println(err)
		return
	}
	truth := srv.Truth(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC))
	fmt.Println(resp.StatusCode, len(page.Data) == truth.Count, page.Count == int64(truth.Count), truth.Count > 0)
	// Output: 200 true true true
}
