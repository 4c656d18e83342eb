package donately_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/donately"
)

// One day of donations from a local stand-in for the API: the window [Mar 1, Mar 2) is asked as
// created[gt] = Feb 28 23:59:59 and created[lt] = Mar 2, and the payment intent secret never
// reaches the record.
func Example() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		fmt.Printf("API asked for %s offset=%s created[gt]=%s created[lt]=%s\n",
			r.URL.Path, q.Get("offset"), q.Get("created[gt]"), q.Get("created[lt]"))
		fmt.Fprint(w, `{"object":"list","data":[`+
			`{"object":"donation","id":"dnt_9f8e7d6c5b4a","amount_in_cents":5000,"currency":"usd","payment_intent_secret":"pi_xxx_secret_yyy",`+
			`"subscription":{"id":"sub_xxx","recurring_frequency":"monthly"},"created_at":"2026-03-01T00:00:00Z","updated_at":"2026-03-01T00:00:00Z"}],`+
			`"summary":{"total_count":1,"count":1,"has_more":false},"params":{"offset":0,"limit":100}}`)
	}))
	defer api.Close()

	client, err := donately.NewClient(
		config.Donately{URL: api.URL, Token: "example-token", Account: "act_ba7d12ab27bb"},
		config.API{}, // the shared rate limit, timeout, attempts and backoff: defaults
		nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	res, err := client.Donations(context.Background(), donately.Filter{Field: donately.FieldCreated, After: day, Before: day.AddDate(0, 0, 1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Records {
		d := r.Donation
		fmt.Println(r.ID, *d.AmountInCents, *d.Currency, d.RecurringFrequency(), r.CreatedAt.Format(time.RFC3339))
		fmt.Println(string(r.Raw))
	}
	fmt.Printf("%d page, %d request\n", res.Pages, client.Stats().Requests)
	// Output:
	// API asked for /v2/donations offset=0 created[gt]=2026-02-28T23:59:59Z created[lt]=2026-03-02T00:00:00Z
	// dnt_9f8e7d6c5b4a 5000 usd monthly 2026-03-01T00:00:00Z
	// {"object":"donation","id":"dnt_9f8e7d6c5b4a","amount_in_cents":5000,"currency":"usd","subscription":{"id":"sub_xxx","recurring_frequency":"monthly"},"created_at":"2026-03-01T00:00:00Z","updated_at":"2026-03-01T00:00:00Z"}
	// 1 page, 1 request
}
