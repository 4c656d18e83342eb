package crowdchangetest

import (
	"bytes"
	"strings"
	"testing"
)

// parseObject splits an object into its members with their values verbatim, and encode gives
// compact input back byte for byte.
func TestParseObject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		keys     []string
		vals     []string
		compact  bool // encode gives the input back
	}{
		{"empty", `{}`, nil, nil, true},
		{"scalars", `{"a":1,"b":-2.5e3,"c":true,"d":null,"e":"x"}`, []string{"a", "b", "c", "d", "e"},
			[]string{`1`, `-2.5e3`, `true`, `null`, `"x"`}, true},
		{"nested", `{"a":{"b":[1,{"c":"}]"}],"d":{}},"e":[]}`, []string{"a", "e"},
			[]string{`{"b":[1,{"c":"}]"}],"d":{}}`, `[]`}, true},
		{"escapes", `{"a\"b":"q\"\\","c\\":"\u00e9\\\""}`, []string{`a"b`, `c\`}, []string{`"q\"\\"`, `"\u00e9\\\""`}, true},
		{"raw bytes", "{\"a\":\"Jo\xff\xfen\xc3\",\"b\":\"中文🎉\"}", []string{"a", "b"}, []string{"\"Jo\xff\xfen\xc3\"", `"中文🎉"`}, true},
		{"whitespace", " { \"a\" : 1 ,\n\t\"b\" : [ 1 , 2 ] } ", []string{"a", "b"}, []string{`1`, `[ 1 , 2 ]`}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseObject([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			var keys, vals []string
			for _, m := range o {
				keys, vals = append(keys, m.key), append(vals, string(m.val))
			}
			if strings.Join(keys, "|") != strings.Join(tc.keys, "|") || strings.Join(vals, "|") != strings.Join(tc.vals, "|") {
				t.Errorf("members %q = %q", keys, vals)
			}
			if tc.compact && !bytes.Equal(o.encode(), []byte(tc.in)) {
				t.Errorf("encode gives %s", o.encode())
			}
		})
	}
	for _, bad := range []string{``, `[]`, `"x"`, `{`, `{"a"`, `{"a":`, `{"a":"x`, `{"a":{"b":1}`, `{1:2}`, `{"a" 1}`} {
		if o, err := parseObject([]byte(bad)); err == nil {
			t.Errorf("parseObject(%q) = %v, want an error", bad, o)
		}
	}
}

// Editing a member leaves the others verbatim; removing one keeps the order of the rest.
func TestObjectEdit(t *testing.T) {
	t.Parallel()
	in := `{"id":7,"amount":{"donation":50,"currency":"USD"},"x":null}`
	o, err := parseObject([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if err := o.edit("amount", func(a jsonObject) error { return a.replace("donation", quote("fifty")) }); err != nil {
		t.Fatal(err)
	}
	if got, want := string(o.without("id").encode()), `{"amount":{"donation":"fifty","currency":"USD"},"x":null}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if err := o.edit("x", func(jsonObject) error { return nil }); err == nil {
		t.Error("editing a null member succeeded")
	}
	if err := o.replace("missing", []byte("1")); err == nil {
		t.Error("replacing a missing member succeeded")
	}
}
