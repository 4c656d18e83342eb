package transform

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/ccsync/ccsync/schemas"
)

// The PII policy (schemas.Policy) as the engine applies it: a Flattening under a policy
// (Policy.Flattening) has its dropped columns removed, its hashed columns marked
// (Column.Treatment), its donor keys declared (schemas.DonorKey), and the paths of its raw JSON to
// redact (Flattening.Redact), with the keyed hash (Flattening.Hash).

// leafTreatment is what a leaf's value goes through before it is stored.
type leafTreatment uint8

const (
	storeAsIs     leafTreatment = iota
	storeHash                   // the keyed hash of the value
	storeDonorKey               // the keyed hash of the normalised e-mail, or the normalised e-mail
	storeNothing                // a donor key the policy leaves null
)

// treatmentOf is how a leaf fills column c.
func treatmentOf(c schemas.Column) leafTreatment {
	switch {
	case c.Derived == schemas.DonorKey && c.Treatment == schemas.Null:
		return storeNothing
	case c.Derived == schemas.DonorKey:
		return storeDonorKey // hashed when the engine has a key (the policy then says Hash)
	case c.Treatment == schemas.Hash:
		return storeHash
	}
	return storeAsIs
}

// treat is v as leaf l stores it; false: null.
func (e *engine) treat(l *leafPlan, v string) (string, bool) {
	switch l.treatment {
	case storeHash:
		return e.hash(v), true
	case storeDonorKey:
		n := NormalizeEmail(v)
		if n == "" {
			return "", false
		}
		if e.hash != nil {
			return e.hash(n), true
		}
		return n, true
	case storeNothing:
		return "", false
	}
	return v, true
}

// NormalizeEmail is an e-mail as a donor key reads it: trimmed and lower-cased.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// redactTree is the trie of a flattening's redactions: by member name ("[]": every element of a
// list), the treatment where a redaction ends.
type redactTree struct {
	children  map[string]*redactTree
	treatment schemas.Treatment
}

func newRedactTree(rs []schemas.Redaction) *redactTree {
	if len(rs) == 0 {
		return nil
	}
	root := &redactTree{}
	for _, r := range rs {
		n := root
		for _, seg := range pathSegments(r.Path) {
			if n.children == nil {
				n.children = map[string]*redactTree{}
			}
			child := n.children[seg]
			if child == nil {
				child = &redactTree{}
				n.children[seg] = child
			}
			n = child
		}
		if n.treatment != schemas.Drop { // drop wins over hash
			n.treatment = r.Treatment
		}
	}
	return root
}

// pathSegments splits "a.b[].c" into "a", "b", "[]", "c".
func pathSegments(p string) []string {
	var out []string
	for _, seg := range strings.Split(p, ".") {
		name, list := strings.CutSuffix(seg, "[]")
		out = append(out, name)
		if list {
			out = append(out, "[]")
		}
	}
	return out
}

// redact returns raw with the tree's redactions applied: a hashed member's value replaced by its
// keyed hash (a string's hash, or the hash of a non-string value's JSON text; null stays null),
// a dropped member removed. Members and elements the tree does not reach keep their bytes; an
// object or list on the way to a redaction is written again compactly. changed is false (and
// raw returned as it is) when nothing was redacted. raw that is not JSON is returned as it is.
func redact(raw []byte, tree *redactTree, hash func(string) string) (out []byte, changed bool) {
	if tree == nil {
		return raw, false
	}
	out, changed, err := redactValue(bytes.TrimSpace(raw), tree, hash)
	if err != nil || !changed {
		return raw, false
	}
	return out, true
}

func redactValue(v []byte, n *redactTree, hash func(string) string) ([]byte, bool, error) {
	if len(v) == 0 || n == nil || len(n.children) == 0 {
		return v, false, nil
	}
	switch v[0] {
	case '{':
		var members []member
		if err := decodeMembers(v, &members); err != nil {
			return nil, false, err
		}
		changed := false
		var b bytes.Buffer
		b.WriteByte('{')
		first := true
		for _, m := range members {
			val, drop, c, err := treatValue(m.value, n.children[m.name], hash)
			if err != nil {
				return nil, false, err
			}
			changed = changed || c
			if drop {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			b.Write(m.key)
			b.WriteByte(':')
			b.Write(val)
		}
		b.WriteByte('}')
		return b.Bytes(), changed, nil
	case '[':
		child := n.children["[]"]
		if child == nil {
			return v, false, nil
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(v, &elems); err != nil {
			return nil, false, err
		}
		changed := false
		var b bytes.Buffer
		b.WriteByte('[')
		for i, el := range elems {
			val, drop, c, err := treatValue(el, child, hash)
			if err != nil {
				return nil, false, err
			}
			changed = changed || c
			if drop {
				val = []byte("null") // an element keeps its place: the list's positions mean something
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(val)
		}
		b.WriteByte(']')
		return b.Bytes(), changed, nil
	}
	return v, false, nil
}

// treatValue is what the node n (nil: none) does to the value v of a member or element: drop it,
// replace it by its hash, or redact inside it.
func treatValue(v []byte, n *redactTree, hash func(string) string) (out []byte, drop, changed bool, err error) {
	switch {
	case n == nil:
		return v, false, false, nil
	case n.treatment == schemas.Drop:
		return nil, true, true, nil
	case n.treatment == schemas.Hash:
		if h, ok := hashValue(v, hash); ok {
			return h, false, true, nil
		}
		return v, false, false, nil
	}
	out, changed, err = redactValue(v, n, hash)
	return out, false, changed, err
}

// member is one member of an object: its key as written (a JSON string) and its value.
type member struct {
	key   []byte
	name  string
	value []byte
}

// decodeMembers reads an object's members in order.
func decodeMembers(v []byte, out *[]member) error {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		key, _ := json.Marshal(name)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return err
		}
		*out = append(*out, member{key: key, name: name, value: val})
	}
	return nil
}

// hashValue is the JSON of a value's keyed hash: a string's, or a non-string value's JSON text's;
// false for null (nothing to hash) or without a hash.
func hashValue(v []byte, hash func(string) string) ([]byte, bool) {
	v = bytes.TrimSpace(v)
	if hash == nil || len(v) == 0 || string(v) == "null" {
		return nil, false
	}
	text := string(v)
	if v[0] == '"' {
		if err := json.Unmarshal(v, &text); err != nil {
			return nil, false
		}
	}
	out, _ := json.Marshal(hash(text))
	return out, true
}

// Unredacted is the raw JSON under a policy that keeps everything: as it is.
func Unredacted(raw []byte) []byte { return raw }

// Redactor returns what the raw JSON of f's records becomes under its PII policy (f is a
// Flattening under a policy, schemas.Policy.Flattening): verify compares the API's answer, so
// redacted, with the raw JSON stored. The identity when the policy redacts nothing.
func Redactor(f schemas.Flattening) func(raw []byte) []byte {
	tree := newRedactTree(f.Redact)
	if tree == nil {
		return Unredacted
	}
	return func(raw []byte) []byte {
		out, _ := redact(raw, tree, f.Hash)
		return out
	}
}
