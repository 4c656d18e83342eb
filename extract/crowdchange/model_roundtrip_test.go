package crowdchange_test

import (
	"bytes"

	"encoding/json"
	"os"
	"testing"

	"github.com/ccsync/ccsync/extract/crowdchange"
)

// The model decodes the API's example response and encodes it back to the same JSON: every field of
// the example is covered, null and zero stay distinct, and money keeps its literal.
func TestModelRoundTripsExample(t *testing.T) {
	b, err := os.ReadFile("crowdchangetest/testdata/transactions_page_example.json")
	if err != nil {
		t.Fatal(err)
	}
	var page crowdchange.Page
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	for _, raw := range page.Data {
		var tx crowdchange.Transaction
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&tx); err != nil {
			t.Fatalf("decoding with unknown fields disallowed: %v", err)
		}
		out, err := json.Marshal(tx)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		_ = json.Unmarshal(raw, &a)
		_ = json.Unmarshal(out, &b)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("round trip differs:\n%s\n%s", ja, jb)
		}
	}
}
