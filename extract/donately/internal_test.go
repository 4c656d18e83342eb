package donately

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRemoveSecrets(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		removed int
	}{
		{"none", `{"id":"dnt_1","a":[1,2,{"b":null}]}`, `{"id":"dnt_1","a":[1,2,{"b":null}]}`, 0},
		{"only member", `{"payment_intent_secret":"s"}`, `{}`, 1},
		{"first", `{"payment_intent_secret":"s","id":"x"}`, `{"id":"x"}`, 1},
		{"middle", `{"id":"x","payment_intent_secret":"s","b":2}`, `{"id":"x","b":2}`, 1},
		{"last", `{"id":"x","payment_intent_secret":"s"}`, `{"id":"x"}`, 1},
		{"white space kept around the others", "{\n  \"id\": \"x\",\n  \"payment_intent_secret\" : \"s\" ,\n  \"b\": 2\n}", "{\n  \"id\": \"x\",\n  \"b\": 2\n}", 1},
		{"first, pretty", "{\n  \"payment_intent_secret\": \"s\",\n  \"id\": \"x\"\n}", "{\n  \"id\": \"x\"\n}", 1},
		{"value is an object", `{"payment_intent_secret":{"a":[1,{"b":"}"}]},"id":"x"}`, `{"id":"x"}`, 1},
		{"nested in a list", `[{"payment_intent_secret":"s"},{"x":{"PAYMENT_INTENT_SECRET":"s","y":1}}]`, `[{},{"x":{"y":1}}]`, 2},
		{"escaped name", `{"payment_intent_secre\u0074":"s","id":"x"}`, `{"id":"x"}`, 1},
		{"as a value, not a name: kept", `{"note":"payment_intent_secret","k":["payment_intent_secret"]}`, `{"note":"payment_intent_secret","k":["payment_intent_secret"]}`, 0},
		{"longer name: kept", `{"payment_intent_secret_id":"s"}`, `{"payment_intent_secret_id":"s"}`, 0},
		{"strings with quotes and braces kept", `{"a":"x\"}{,\\","payment_intent_secret":"s\"}","b":"\\"}`, `{"a":"x\"}{,\\","b":"\\"}`, 1},
		{"duplicate members", `{"payment_intent_secret":"a","payment_intent_secret":"b"}`, `{}`, 2},
		{"empty object and list", ` { } `, ` { } `, 0},
		{"scalar", ` "payment_intent_secret" `, ` "payment_intent_secret" `, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := removeSecrets([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want || n != tt.removed {
				t.Errorf("removeSecrets(%s) = %s, %d; want %s, %d", tt.in, got, n, tt.want, tt.removed)
			}
		})
	}
	for _, bad := range []string{``, `{`, `{"payment_intent_secret":"pi_1_secret_2"`, `{"a":1}}`, `{"a" 1}`} {
		_, _, err := removeSecrets([]byte(bad))
		if err == nil {
			t.Errorf("removeSecrets(%q): no error", bad)
		} else if strings.Contains(err.Error(), "pi_1") {
			t.Errorf("error %q quotes the body", err)
		}
	}
}

// FuzzRemoveSecrets checks removeSecrets against a reference: decoding its output gives the
// decoded input less every secret member, and a body without one comes back unchanged.
func FuzzRemoveSecrets(f *testing.F) {
	for _, s := range []string{
		`{"id":"dnt_1","payment_intent_secret":"pi_1_secret_2","a":[{"Payment_Intent_Secret":1}]}`,
		"{\n \"payment_intent_secret\" : null ,\n \"b\" : [ ] }",
		`[1,"x",{"payment\u005fintent_secret":{}}]`,
		`{"a":"\"payment_intent_secret\":"}`,
		`true`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, n, err := removeSecrets(in)
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
		want, removed := withoutSecrets(decodeAny(t, in))
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

// withoutSecrets is the reference: v, decoded, less every member named like SecretMember, and how
// many members of the decoded maps it removed.
func withoutSecrets(v any) (any, int) {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		n := 0
		for k, e := range x {
			if lowerASCII(k) == SecretMember {
				n++
				continue
			}
			var m int
			out[k], m = withoutSecrets(e)
			n += m
		}
		return out, n
	case []any:
		out := make([]any, len(x))
		n := 0
		for i, e := range x {
			var m int
			out[i], m = withoutSecrets(e)
			n += m
		}
		return out, n
	}
	return v, 0
}

// FuzzDecodeRecord feeds any bytes to the lenient decoder of each list: it never panics, keeps
// the item's bytes as Raw, and when it finds an id the typed model carries it; its errors never
// quote a value.
func FuzzDecodeRecord(f *testing.F) {
	for _, s := range []string{
		`{"id":"dnt_1","amount_in_cents":5000,"currency":"usd","created_at":"2026-03-01T14:30:00Z","subscription":{"id":"sub_1"}}`,
		`{"id":"dnt_2","amount_in_cents":"50.5","recurring":"yes","created_at":1700000000,"meta_data":[1]}`,
		`{"id":"cmp_1","goal_in_cents":"100","title":7,"page_template":"x","updated_at":"2026-03-01 14:30:00"}`,
		`{"id":"per_1","email":["a"],"first_name":{"x":1},"zip_code":78701}`,
		`{"id":12}`, `{"id":""}`, `[]`, `{"id":"dnt_\u0000"}`, `{"id":"dnt_3","subscription":"sub_1","fundraiser":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, rs := range []resource{donations, campaigns, people} {
			r, err := decodeRecord(rs, raw)
			if err != nil {
				continue
			}
			if r.ID == "" || !utf8.ValidString(r.ID) || len(r.ID) > maxIDLen {
				t.Fatalf("%s: accepted id %q", rs.name, r.ID)
			}
			if !bytes.Equal(r.Raw, raw) {
				t.Fatalf("%s: Raw %q, want the item's bytes %q", rs.name, r.Raw, raw)
			}
			var typedID string
			switch {
			case r.Donation != nil:
				typedID = r.Donation.ID
			case r.Campaign != nil:
				typedID = r.Campaign.ID
			case r.Person != nil:
				typedID = r.Person.ID
			}
			if typedID != r.ID {
				t.Fatalf("%s: typed id %q, record id %q", rs.name, typedID, r.ID)
			}
			if r.Err != nil {
				msg := r.Err.Error()
				if !strings.HasPrefix(msg, "decoding the "+rs.kind+": ") {
					t.Fatalf("%s: error %q", rs.name, msg)
				}
				checkNoValueQuoted(t, msg, raw)
			}
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

// lowerASCII lowers ASCII letters only: the API's names compare that way, not with Unicode folding.
func lowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}
