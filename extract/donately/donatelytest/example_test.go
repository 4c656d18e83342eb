package donatelytest_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ccsync/ccsync/extract/donately/donatelytest"
)

// Start a sandbox, read one day's donations the way a 2022-12-15 client does and compare with the
// ground truth.
func ExampleStart() {
	now := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	srv, ts := donatelytest.Start(donatelytest.Options{
		Seed:      42,
		Donations: 1000,
		From:      now.AddDate(-1, 0, 0),
		To:        now,
		Now:       func() time.Time { return now },
	})
	defer ts.Close()

	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	url := fmt.Sprintf("%s/v2/donations?limit=100&created[gt]=%d&created[lt]=%d", ts.URL, day.Unix()-1, day.AddDate(0, 0, 1).Unix())
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(donatelytest.DefaultToken+":")))
	req.Header.Set(donatelytest.AccountHeader, donatelytest.DefaultAccount)
	req.Header.Set(donatelytest.VersionHeader, donatelytest.Version2022)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var page struct {
		Data    []json.RawMessage `json:"data"`
		Summary struct {
			TotalCount int `json:"total_count"`
		} `json:"summary"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		fmt.Println(err)
		return
	}
	truth := srv.Truth(day, day.AddDate(0, 0, 1))
	fmt.Println(resp.StatusCode, len(page.Data) == truth.Count, page.Summary.TotalCount == truth.Count, truth.Count > 0)
	// Output: 200 true true true
}
