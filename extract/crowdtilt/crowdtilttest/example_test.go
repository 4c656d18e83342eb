package crowdtilttest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ccsync/ccsync/extract/crowdtilt/crowdtilttest"
)

// Start a sandbox, list its campaigns the way a client does (HTTP Basic key:secret, the largest
// page) and compare with the ground truth.
func ExampleStart() {
	now := time.Date(2026, 7, 1, 15, 0, 0, 0, time.UTC)
	srv, ts := crowdtilttest.Start(crowdtilttest.Options{Seed: 42, Campaigns: 12, Payments: 500, Now: func() time.Time { return now }})
	defer ts.Close()

	req, err := http.NewRequest(http.MethodGet, ts.URL+"/v1/campaigns?page=1&per_page=100", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	req.SetBasicAuth(crowdtilttest.DefaultKey, crowdtilttest.DefaultSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var page struct {
		Pagination struct {
			TotalEntries int `json:"total_entries"`
		} `json:"pagination"`
		Campaigns []json.RawMessage `json:"campaigns"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		fmt.Println(err)
		return
	}
	truth := srv.Truth()
	fmt.Println(resp.StatusCode, len(page.Campaigns), page.Pagination.TotalEntries == len(truth.Campaigns), truth.Count)
	// Output: 200 12 true 500
}
