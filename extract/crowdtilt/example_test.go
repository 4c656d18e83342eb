package crowdtilt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract/crowdtilt"
)

// One campaign's payments from a local stand-in for the API that answers the seed's own payment
// (its "Create a payment" example): amounts in cents become exact decimals, both date layouts are
// read, the card's token never reaches the record, and the users come embedded.
func Example() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("API asked for %s page=%s per_page=%s\n", r.URL.Path, r.URL.Query().Get("page"), r.URL.Query().Get("per_page"))
		fmt.Fprint(w, `{"pagination":{"page":1,"entries_on_this_page":1,"total_pages":1,"total_entries":1,"per_page":100},"payments":[`+
			`{"admin_fee_amount":40,"amount":3000,"campaign":{"admin":{"id":"USR38","email":"user@gmail.com","firstname":null,`+
			`"creation_date":"2013-03-19T03:29:34.605286000Z","modification_date":"2013-03-19T03:29:34.605286000Z"},`+
			`"id":"CMPDE8","title":"Halloween Awesome Fest","tilt_amount":300000},`+
			`"card":{"card_type":"VISA card","expiration_month":"07","expiration_year":2023,"id":"CCP2A","last_four":"1111",`+
			`"uri":"/v1/users/USR55/cards/CCP2AE","user":{"id":"USR55","email":"payer@gmail.com"}},`+
			`"creation_date":"2013-03-19T03:38:38.736326000Z","id":"CON7C9","metadata":{},"modification_date":"2013-03-19T03:38:41Z",`+
			`"status":"authorized","uri":"/v1/campaigns/CMPDE8/payments/CON7C9",`+
			`"user":{"id":"USR55","email":"payer@gmail.com","creation_date":"2013-03-19T03:29:34.605286000Z",`+
			`"modification_date":"2013-03-19T03:29:34.605286000Z"},"user_fee_amount":100}]}`)
	}))
	defer api.Close()

	client, err := crowdtilt.NewClient(config.Crowdtilt{URL: api.URL, Key: "example-key", Secret: "example-secret"}, config.API{}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := client.Payments(context.Background(), "CMPDE8")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Records {
		p := r.Payment
		fmt.Println(r.ID, *p.Status, crowdtilt.DecimalString(*p.Amount), crowdtilt.Currency, "+ fee", crowdtilt.DecimalString(*p.UserFeeAmount),
			"by", p.UserID(), "to", r.CampaignID)
		fmt.Println(r.CreationDate.Format(time.RFC3339Nano), r.ModificationDate.Format(time.RFC3339Nano))
		var card json.RawMessage
		_ = json.Unmarshal(r.Raw, &struct {
			Card *json.RawMessage `json:"card"`
		}{&card})
		fmt.Println(string(card))
		for _, u := range crowdtilt.EmbeddedUsers(r) {
			fmt.Println(u.ID, "reference:", u.IsReference())
		}
	}
	fmt.Printf("%d page, %d request\n", res.Pages, client.Stats().Requests)
	// Output:
	// API asked for /v1/campaigns/CMPDE8/payments page=1 per_page=100
	// CON7C9 authorized 30.00 USD + fee 1.00 by USR55 to CMPDE8
	// 2013-03-19T03:38:38.736326Z 2013-03-19T03:38:41Z
	// {"card_type":"VISA card","expiration_month":"07","expiration_year":2023,"last_four":"1111","user":{"id":"USR55","email":"payer@gmail.com"}}
	// USR55 reference: false
	// USR55 reference: false
	// USR38 reference: false
	// 1 page, 1 request
}
