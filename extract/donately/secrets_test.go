package donately_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccsync/ccsync/extract/donately"
	"github.com/ccsync/ccsync/extract/extracttest"
)

// secretItems hide the secret everywhere it could be: at the top, nested in objects and lists,
// with its name in another case or written with escapes, and as the last member.
func secretItems() []json.RawMessage {
	return []json.RawMessage{
		donationJSON("dnt_top", at(1, 0, 0)),
		json.RawMessage(`{"id":"dnt_nested","created_at":"2026-03-01T01:00:01Z","meta_data":{"stripe":{"payment_intent_secret":"` + testSecret + `","kept":1}},` +
			`"ecard":[{"Payment_Intent_Secret":"` + testSecret + `"}],"amount_in_cents":100}`),
		json.RawMessage(`{"id":"dnt_escaped","payment\u005fintent_secret":"` + testSecret + `","amount_in_cents":"oops","created_at":"2026-03-01T01:00:02Z"}`),
		json.RawMessage(`{"id":"dnt_last","created_at":"2026-03-01T01:00:03Z","payment_intent_secret":{"nested":"` + testSecret + `"}}`),
		json.RawMessage(`{"payment_intent_secret":"` + testSecret + `","note":"no id: quarantined"}`),
	}
}

func TestSecretNeverLeaves(t *testing.T) {
	h := newHarness(t, func(n int, r *http.Request) extracttest.Reply {
		if n == 1 { // a truncated body that holds the secret: retried, never quoted
			b := listBody(secretItems(), 0, 5)
			return extracttest.Reply{Body: b[:bytes.Index(b, []byte(testSecret))+10]}
		}
		return extracttest.Reply{Body: listBody(secretItems(), 0, 5)}
	})
	res, err := h.client.Donations(context.Background(), donately.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(res.Records); strings.Join(got, ",") != "dnt_top,dnt_nested,dnt_escaped,dnt_last" {
		t.Fatalf("records %v", got)
	}
	if len(res.Quarantined) != 1 {
		t.Fatalf("%d quarantined, want 1", len(res.Quarantined))
	}
	var everything bytes.Buffer
	for _, r := range res.Records {
		everything.Write(r.Raw)
		typed, err := json.Marshal(r.Donation)
		if err != nil {
			t.Fatal(err)
		}
		everything.Write(typed)
		fmt.Fprintf(&everything, "%+v %#v", r, r.Donation)
		if r.Err != nil {
			everything.WriteString(r.Err.Error())
		}
		if !json.Valid(r.Raw) {
			t.Errorf("%s: Raw is not valid JSON after the secret's removal: %s", r.ID, r.Raw)
		}
		if bytes.Contains(bytes.ToLower(r.Raw), []byte("intent_secret")) || bytes.Contains(r.Raw, []byte(`\u005f`)) {
			t.Errorf("%s: Raw still has the member: %s", r.ID, r.Raw)
		}
	}
	for _, q := range res.Quarantined {
		everything.Write(q.Raw)
		everything.WriteString(q.Reason)
	}
	// An error of the API that quotes the secret.
	h2 := newHarness(t, func(int, *http.Request) extracttest.Reply {
		return extracttest.Reply{Status: 422, Body: []byte(`{"type":"invalid","message":"payment intent ` + testSecret + ` is invalid","code":"422","request_id":"req_1"}`)}
	})
	_, err = h2.client.Donations(context.Background(), donately.Filter{})
	var ae *donately.APIError
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, "payment intent [redacted] is invalid") {
		t.Fatalf("err = %v, want the API's message with the secret redacted", err)
	}
	everything.WriteString(err.Error())
	everything.WriteString(h.logText())
	everything.WriteString(h2.logText())
	if strings.Contains(everything.String(), testSecret) || strings.Contains(everything.String(), testToken) {
		t.Errorf("a secret leaked:\n%s", everything.String())
	}
	// The raw JSON is otherwise kept byte for byte.
	want := strings.Replace(string(donationJSON("dnt_top", at(1, 0, 0))), `"payment_intent_secret":"`+testSecret+`",`, "", 1)
	if string(res.Records[0].Raw) != want {
		t.Errorf("Raw of dnt_top:\n got %s\nwant %s", res.Records[0].Raw, want)
	}
	if got := string(res.Records[1].Raw); got != `{"id":"dnt_nested","created_at":"2026-03-01T01:00:01Z","meta_data":{"stripe":{"kept":1}},"ecard":[{}],"amount_in_cents":100}` {
		t.Errorf("Raw of dnt_nested: %s", got)
	}
	// The mistyped amount of dnt_escaped is named, and the rest of the record kept.
	esc := res.Records[2]
	if esc.Err == nil || !strings.Contains(esc.Err.Error(), "amount_in_cents") || esc.CreatedAt.IsZero() {
		t.Errorf("dnt_escaped: Err %v, CreatedAt %v", esc.Err, esc.CreatedAt)
	}
}

// TestRemoveSecretsGolden runs the API reference's donation (seed 004) in a list answer through
// the client, and compares the record's Raw with testdata/donation.golden.json: the reference's
// bytes less the secret's member.
func TestRemoveSecretsGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "donation.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "donation.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	body := append(append([]byte(`{"object":"list","data":[`), bytes.TrimSpace(in)...), `],"summary":{"total_count":1,"count":1,"has_more":false},"params":{"offset":0}}`...)
	h := newHarness(t, func(int, *http.Request) extracttest.Reply { return extracttest.Reply{Body: body} })
	res, err := h.client.Donations(context.Background(), donately.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 {
		t.Fatalf("%d records", len(res.Records))
	}
	r := res.Records[0]
	if got := string(r.Raw); got != string(bytes.TrimSpace(want)) {
		t.Errorf("Raw:\n%s\nwant (testdata/donation.golden.json):\n%s", got, want)
	}
	if r.Err != nil {
		t.Errorf("Err = %v", r.Err)
	}
	d := r.Donation
	if d.ID != "dnt_9f8e7d6c5b4a" || *d.AmountInCents != 5000 || *d.Currency != "usd" || *d.Status != "completed" ||
		*d.CampaignID != "cmp_1a2b3c4d5e6f" || *d.PersonID != "per_a1b2c3d4e5f6" || *d.Recurring || *d.Anonymous ||
		*d.Comment != "Keep up the great work!" || d.OnBehalfOf != nil || *d.DonationType != "card" || *d.Origin != "form" ||
		*d.Notes != "Internal note" || d.PaypalOrderID != nil || d.SubscriptionID() != "sub_xxx" || d.RecurringFrequency() != "monthly" ||
		*d.Subscription.RecurringStartDay != 1 || d.Subscription.RecurringStopDay != nil || d.FundraiserID() != "fun_xxx" ||
		*d.Fundraiser.Type != "individual" || d.Form.ID != "frm_xxx" || *d.Form.Title != "Main Form" ||
		string(d.Ecard) != `{ "template": "birthday" }` || string(d.MetaData) != `{ "source": "gala" }` ||
		r.CreatedAt.Format("2006-01-02T15:04:05Z") != "2026-03-01T14:30:00Z" || !r.UpdatedAt.Equal(r.CreatedAt) {
		t.Errorf("typed donation: %+v", d)
	}
}
