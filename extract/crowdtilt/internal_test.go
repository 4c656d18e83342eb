package crowdtilt

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRemoveCardData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    string
		removed int
	}{
		{"none", `{"id":"CON1","a":[1,2,{"b":null}]}`, `{"id":"CON1","a":[1,2,{"b":null}]}`, 0},
		{"the seed's card", `{"id":"CON1","card":{"id":"CCP1","last_four":"1111","uri":"/v1/users/U/cards/CCP1","card_type":"VISA card"},"user":{"id":"U"}}`,
			`{"id":"CON1","card":{"last_four":"1111","card_type":"VISA card"},"user":{"id":"U"}}`, 2},
		{"an echoed number and security code", `{"card":{"id":"CCP1","number":"4111111111111111","security_code":"123","last_four":"1111"}}`,
			`{"card":{"last_four":"1111"}}`, 3},
		{"the card's user keeps its id", `{"card":{"user":{"id":"USR1","uri":"/v1/users/USR1"},"id":"CCP1"}}`,
			`{"card":{"user":{"id":"USR1","uri":"/v1/users/USR1"}}}`, 1},
		{"ids elsewhere are kept", `{"id":"CON1","campaign":{"id":"CMP1","uri":"/v1/campaigns/CMP1","number":3}}`,
			`{"id":"CON1","campaign":{"id":"CMP1","uri":"/v1/campaigns/CMP1","number":3}}`, 0},
		{"a list of cards", `{"cards":[{"id":"CCP1","last_four":"1111"},{"ID":"CCP2"}]}`, `{"cards":[{"last_four":"1111"},{}]}`, 2},
		{"names in any case", `{"Card":{"Id":"CCP1","NUMBER":"4111"},"Security_Code":"123"}`, `{"Card":{}}`, 3},
		{"escaped names", `{"c\u0061rd":{"\u0069d":"CCP1","x":1},"card\u005fnumber":"4111"}`, `{"c\u0061rd":{"x":1}}`, 2},
		{"anywhere, in metadata", `{"metadata":{"card_number":"4111111111111111","cvv":"123","ssn":"078-05-1120","bank":{"account_number":"1234567890","routing_number":"321174851","name":"x"}}}`,
			`{"metadata":{"bank":{"name":"x"}}}`, 5},
		{"white space kept around the others", "{\n  \"id\": \"x\",\n  \"card_id\" : \"s\" ,\n  \"b\": 2\n}", "{\n  \"id\": \"x\",\n  \"b\": 2\n}", 1},
		{"first, pretty", "{\n  \"card_id\": \"s\",\n  \"id\": \"x\"\n}", "{\n  \"id\": \"x\"\n}", 1},
		{"value is an object", `{"card_token":{"a":[1,{"b":"}"}]},"id":"x"}`, `{"id":"x"}`, 1},
		{"as a value, not a name: kept", `{"note":"card_number","k":["security_code"],"card":"CCP1"}`, `{"note":"card_number","k":["security_code"],"card":"CCP1"}`, 0},
		{"longer names: kept", `{"card_number_last_four":"1111","card_type":"VISA card","cardholder":{"id":"x"}}`,
			`{"card_number_last_four":"1111","card_type":"VISA card","cardholder":{"id":"x"}}`, 0},
		{"strings with quotes and braces kept", `{"a":"x\"}{,\\","cvc":"s\"}","b":"\\"}`, `{"a":"x\"}{,\\","b":"\\"}`, 1},
		{"duplicate members", `{"cvv":"a","cvv":"b"}`, `{}`, 2},
		{"a list at the top", `[{"card":{"id":"CCP1"}},{"card_id":"CCP2","x":1}]`, `[{"card":{}},{"x":1}]`, 2},
		{"empty object and list", ` { } `, ` { } `, 0},
		{"scalar", ` "card_number" `, ` "card_number" `, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := removeCardData([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want || n != tt.removed {
				t.Errorf("removeCardData(%s) = %s, %d; want %s, %d", tt.in, got, n, tt.want, tt.removed)
			}
		})
	}
	for _, bad := range []string{``, `{`, `{"card":{"id":"CCP9F8E7D"`, `{"a":1}}`, `{"a" 1}`} {
		_, _, err := removeCardData([]byte(bad))
		if err == nil {
			t.Errorf("removeCardData(%q): no error", bad)
		} else if strings.Contains(err.Error(), "CCP9") {
			t.Errorf("error %q quotes the body", err)
		}
	}
}

// FuzzRemoveCardData checks removeCardData against a reference: decoding its output gives the
// decoded input less every card data member, and a body without one comes back unchanged.
func FuzzRemoveCardData(f *testing.F) {
	for _, s := range []string{
		`{"id":"CON1","card":{"id":"CCP1","number":"4111111111111111","user":{"id":"U"}},"a":[{"Security_Code":1}]}`,
		"{\n \"card_id\" : null ,\n \"b\" : [ ] }",
		`[1,"x",{"c\u0061rd":{"id":{}}}]`,
		`{"cards":[{"id":1},[{"id":2}]],"a":"\"card_number\":"}`,
		`{"card":[{"id":1}]}`,
		`true`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, n, err := removeCardData(in)
		if !json.Valid(in) {
			if err == nil {
				t.Fatalf("invalid JSON accepted: %q", in)
			}
			return
		}
		if err != nil {
			t.Fatalf("valid JSON refused: %q: %v", in, err)
		}
		if !json.Valid(out) {
			t.Fatalf("output is not valid JSON: %q → %q", in, out)
		}
		want, removed := withoutCardData(decodeAny(t, in), "")
		if (n > 0) != (removed > 0) { // a decoded map keeps one of duplicate members: compare whether, not how many
			t.Fatalf("%q: removed %d, the reference %d", in, n, removed)
		}
		if got := decodeAny(t, out); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q → %q: decodes to %#v, want %#v", in, out, got, want)
		}
		if n == 0 && !bytes.Equal(out, in) {
			t.Fatalf("nothing removed, yet %q → %q", in, out)
		}
	})
}

func decodeAny(t *testing.T, b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
	return v
}

// withoutCardData is the reference: v, decoded, less every card data member (parent is the name
// of the member v is the value of), and how many members of the decoded maps it removed.
func withoutCardData(v any, parent string) (any, int) {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		n := 0
		for k, e := range x {
			name := asciiLower(k)
			if isSecretMember(parent, name) {
				n++
				continue
			}
			var m int
			out[k], m = withoutCardData(e, name)
			n += m
		}
		return out, n
	case []any:
		out := make([]any, len(x))
		n := 0
		for i, e := range x {
			var m int
			out[i], m = withoutCardData(e, parent)
			n += m
		}
		return out, n
	}
	return v, 0
}

// FuzzDecodeRecord feeds any bytes to the lenient decoder of each kind: it never panics, keeps
// the item's bytes as Raw, and when it finds an id the typed model carries it; its errors never
// quote a value; the hash never fails and ignores white space.
func FuzzDecodeRecord(f *testing.F) {
	for _, s := range []string{
		`{"id":"CON1","status":"charged","amount":2000,"creation_date":"2012-10-20T15:45:13.736326000Z","user":{"id":"USR1"}}`,
		`{"id":"CON2","amount":"20.5","user_fee_amount":true,"creation_date":1700000000,"metadata":[1],"card":"x"}`,
		`{"id":"CMP1","tilt_amount":"100","title":7,"stats":"x","admin":[],"modification_date":"2011-09-02 14:20:48"}`,
		`{"id":"USR1","email":["a"],"firstname":{"x":1},"is_verified":"yes please"}`,
		`{"id":12}`, `{"id":""}`, `[]`, `{"id":"USR\u0000"}`, `{"id":"a/b"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		h := ContentHash(raw)
		var pretty bytes.Buffer
		if json.Valid(raw) && json.Indent(&pretty, raw, " ", "\t") == nil && ContentHash(pretty.Bytes()) != h {
			t.Fatalf("%q: white space changes the hash", raw)
		}
		for _, kind := range []Kind{KindCampaign, KindPayment, KindUser} {
			r, err := decodeRecord(kind, raw)
			if err != nil {
				continue
			}
			if checkID(r.ID) != nil || !utf8.ValidString(r.ID) {
				t.Fatalf("%s: accepted id %q", kind, r.ID)
			}
			if !bytes.Equal(r.Raw, raw) {
				t.Fatalf("%s: Raw %q, want the item's bytes %q", kind, r.Raw, raw)
			}
			var typedID string
			switch {
			case r.Campaign != nil:
				typedID = r.Campaign.ID
			case r.Payment != nil:
				typedID = r.Payment.ID
			case r.User != nil:
				typedID = r.User.ID
			}
			if typedID != r.ID || r.Kind != kind {
				t.Fatalf("%s: typed id %q, record id %q", kind, typedID, r.ID)
			}
			if r.Err != nil {
				msg := r.Err.Error()
				if !strings.HasPrefix(msg, "decoding the "+string(kind)+": ") {
					t.Fatalf("%s: error %q", kind, msg)
				}
				checkNoValueQuoted(t, msg, raw)
			}
			_ = EmbeddedUsers(r)
		}
	})
}

// checkNoValueQuoted fails when msg holds a string value of raw longer than a few bytes that is
// not also a member name of the models (a value, not a path).
func checkNoValueQuoted(t *testing.T, msg string, raw []byte) {
	t.Helper()
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return
	}
	for k, v := range top {
		var s string
		if json.Unmarshal(v, &s) != nil || len(s) < 8 || strings.Contains(k, s) {
			continue
		}
		if strings.Contains(msg, s) {
			t.Fatalf("error %q quotes the value of %q", msg, k)
		}
	}
}

func TestRedactCardData(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"card CCP6D6E7E7C0C5C11E2BD7001E2CFE628C0 declined": "card [redacted] declined",
		"bank BAP688 refused":                               "bank [redacted] refused",
		"number 4111111111111111 is invalid":                "number [redacted] is invalid",
		"number 4111 1111 1111 1111":                        "number [redacted]",
		"amex 378282246310005.":                             "amex [redacted].",
		"not a card: 4111111111111112":                      "not a card: 4111111111111112",
		"an order 1234567890123":                            "an order 1234567890123",
		"request REQ5735A0D8601F11E2998D00347AC0CAB6":       "request REQ5735A0D8601F11E2998D00347AC0CAB6",
		"user USR7C7CE3AC795F11E2901DABD956AC4F1A":          "user USR7C7CE3AC795F11E2901DABD956AC4F1A",
		"2013-03-19T03:29:34.605286000Z":                    "2013-03-19T03:29:34.605286000Z",
	} {
		if got := redactCardData(in); got != want {
			t.Errorf("redactCardData(%q) = %q, want %q", in, got, want)
		}
	}
}

// asciiLower lowers ASCII letters only, as the API compares member names.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
