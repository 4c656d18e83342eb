package donatelytest_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract/donately/donatelytest"
)

// BenchmarkNew generates the data of a sandbox the size `make run` uses.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		donatelytest.New(donatelytest.Options{Seed: 1, Donations: 20000, From: rangeFrom, To: rangeTo})
	}
}

// BenchmarkListPage serves one page of 100 donations of one day out of 20 000.
func BenchmarkListPage(b *testing.B) {
	s := donatelytest.New(donatelytest.Options{Seed: 1, Donations: 20000, From: rangeFrom, To: rangeTo,
		Now: func() time.Time { return settled }})
	day := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	req := httptest.NewRequest(http.MethodGet, "/v2/donations?limit=100&created[gt]="+strconv.FormatInt(day.Unix()-1, 10)+
		"&created[lt]="+strconv.FormatInt(day.AddDate(0, 0, 1).Unix(), 10), nil)
	req.SetBasicAuth(donatelytest.DefaultToken, "")
	req.Header.Set(donatelytest.AccountHeader, donatelytest.DefaultAccount)
	req.Header.Set(donatelytest.VersionHeader, donatelytest.Version2022)
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
