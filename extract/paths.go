package extract

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// pathKind says what a source's JSON-path → column map knows about a path.
type pathKind uint8

const (
	unknownPath   pathKind = iota
	containerPath          // an object or array on the way to leaves: a prefix of mapped paths
	leafPath               // a mapped leaf: the whole value lives in one column
)

// PathClassifier classifies the known leaf paths of a record and every prefix of one: it finds the
// leaves of a record that are not known (UnknownPaths). A path is from the record, its keys
// joined by ".", array elements written "[]": "purchased_items.apparel.items[].price".
type PathClassifier map[string]pathKind

// ClassifyPaths builds the classifier of the known leaf paths: transform's of a JSON-path → column
// map (the leaves that have a home), Decoder's of a model (the leaves it has a field for).
func ClassifyPaths(leaves []string) PathClassifier {
	known := PathClassifier{}
	for _, p := range leaves {
		for i := 0; i < len(p); i++ {
			if p[i] == '.' || p[i] == '[' {
				if _, ok := known[p[:i]]; !ok {
					known[p[:i]] = containerPath
				}
			}
		}
		known[p] = leafPath
	}
	return known
}

// UnknownLeaves are the leaves of a record's JSON that are not among its source's known leaves,
// as the client found them while decoding the record (a Decoder made with the leaves given by
// WithKnownLeaves).
type UnknownLeaves struct {
	// Paths are what PathClassifier.UnknownPaths of the known leaves returns for the record:
	// sorted, each once; nil for none.
	Paths []string
	// Found says whether the client looked for them: when it is false, Paths is nil and says
	// nothing.
	Found bool
}

// maxDepth bounds the nesting UnknownPaths follows; a transaction is about seven levels deep.
const maxDepth = 1000

// UnknownPaths returns the JSON paths of the leaves of a record that are not among the leaves c
// was made of: array indexes written as "[]", sorted, each once. A leaf is a scalar (null
// included), or an empty object or array. A mapped leaf is taken whole (a custom question's
// content may be any JSON value), a null or an empty object or array at a path the map knows as an
// object or array is fine, and any other value at a path the map does not know as a leaf is
// reported at its path (or at the paths of its own leaves). It fails if raw is not a JSON object;
// its errors never contain values.
func (c PathClassifier) UnknownPaths(raw []byte) ([]string, error) {
	w := walker{known: c, data: raw, path: make([]byte, 0, 256)}
	w.space()
	if w.i >= len(w.data) || w.data[w.i] != '{' {
		return nil, errors.New("unknown fields: not a JSON object")
	}
	if err := w.value(0); err != nil {
		return nil, fmt.Errorf("unknown fields: %w", err)
	}
	w.space()
	if w.i != len(w.data) {
		return nil, fmt.Errorf("unknown fields: invalid JSON: data after the object at byte %d", w.i)
	}
	if len(w.unknown) == 0 {
		return nil, nil
	}
	slices.Sort(w.unknown)
	return w.unknown, nil
}

// walker is a validating single-pass JSON scanner that follows the path of every value.
type walker struct {
	known   PathClassifier
	data    []byte
	i       int
	path    []byte
	unknown []string
	seen    map[string]struct{}
}

func (w *walker) syntax(what string) error {
	return fmt.Errorf("invalid JSON: %s at byte %d", what, w.i)
}

func (w *walker) space() {
	for w.i < len(w.data) {
		switch w.data[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// separator reads, after optional white space, what follows a member or an element: ','
// (another one follows: more) or closer (the object or list ends: done). It reports neither for
// anything else, and for the end of the data, leaving w.i at the offending byte.
func (w *walker) separator(closer byte) (more, done bool) {
	w.space()
	if w.i >= len(w.data) {
		return false, false
	}
	switch w.data[w.i] {
	case ',':
		w.i++
		return true, false
	case closer:
		w.i++
		return false, true
	}
	return false, false
}

// report records the current path, once.
func (w *walker) report() {
	if _, dup := w.seen[string(w.path)]; dup {
		return
	}
	if w.seen == nil {
		w.seen = map[string]struct{}{}
	}
	p := string(w.path)
	w.seen[p] = struct{}{}
	w.unknown = append(w.unknown, p)
}

// value walks the value at w.i, whose path is w.path.
func (w *walker) value(depth int) error {
	if depth > maxDepth {
		return w.syntax("nesting too deep")
	}
	kind := containerPath
	if len(w.path) > 0 {
		kind = w.known[string(w.path)]
	}
	if kind == leafPath {
		return w.skip(depth)
	}
	if w.i >= len(w.data) {
		return w.syntax("unexpected end")
	}
	switch w.data[w.i] {
	case '{':
		return w.object(depth, kind)
	case '[':
		return w.array(depth, kind)
	case 'n':
		if err := w.literal("null"); err != nil {
			return err
		}
		if kind == unknownPath {
			w.report()
		}
		return nil
	default:
		if err := w.skip(depth); err != nil {
			return err
		}
		w.report()
		return nil
	}
}

// empty steps over the opening bracket at w.i and reports whether the object or list is empty
// (closer follows, and is stepped over too): an empty one at an unknown path is a leaf, reported.
func (w *walker) empty(closer byte, kind pathKind) bool {
	w.i++
	w.space()
	if w.i < len(w.data) && w.data[w.i] == closer {
		w.i++
		if kind == unknownPath {
			w.report()
		}
		return true
	}
	return false
}

func (w *walker) object(depth int, kind pathKind) error {
	if w.empty('}', kind) {
		return nil
	}
	base := len(w.path)
	for {
		w.space()
		if w.i >= len(w.data) || w.data[w.i] != '"' {
			return w.syntax("expected a key")
		}
		start := w.i
		escaped, err := w.str()
		if err != nil {
			return err
		}
		if base > 0 {
			w.path = append(w.path, '.')
		}
		if escaped {
			var key string
			if err := json.Unmarshal(w.data[start:w.i], &key); err != nil {
				return w.syntax("bad key")
			}
			w.path = append(w.path, key...)
		} else {
			w.path = append(w.path, w.data[start+1:w.i-1]...)
		}
		w.space()
		if w.i >= len(w.data) || w.data[w.i] != ':' {
			return w.syntax("expected ':'")
		}
		w.i++
		w.space()
		if err := w.value(depth + 1); err != nil {
			return err
		}
		w.path = w.path[:base]
		more, done := w.separator('}')
		if done {
			return nil
		}
		if !more {
			return w.syntax("expected ',' or '}'")
		}
	}
}

func (w *walker) array(depth int, kind pathKind) error {
	if w.empty(']', kind) {
		return nil
	}
	base := len(w.path)
	w.path = append(w.path, "[]"...)
	for {
		w.space()
		if err := w.value(depth + 1); err != nil {
			return err
		}
		more, done := w.separator(']')
		if done {
			w.path = w.path[:base]
			return nil
		}
		if !more {
			return w.syntax("expected ',' or ']'")
		}
	}
}

// skip validates and passes over the value at w.i without looking at paths.
func (w *walker) skip(depth int) error {
	if depth > maxDepth {
		return w.syntax("nesting too deep")
	}
	if w.i >= len(w.data) {
		return w.syntax("unexpected end")
	}
	switch c := w.data[w.i]; {
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		w.i++
		w.space()
		if w.i < len(w.data) && w.data[w.i] == closer {
			w.i++
			return nil
		}
		for {
			w.space()
			if c == '{' {
				if w.i >= len(w.data) || w.data[w.i] != '"' {
					return w.syntax("expected a key")
				}
				if _, err := w.str(); err != nil {
					return err
				}
				w.space()
				if w.i >= len(w.data) || w.data[w.i] != ':' {
					return w.syntax("expected ':'")
				}
				w.i++
				w.space()
			}
			if err := w.skip(depth + 1); err != nil {
				return err
			}
			more, done := w.separator(closer)
			if done {
				return nil
			}
			if !more {
				return w.syntax("expected ',' or a closing bracket")
			}
		}
	case c == '"':
		_, err := w.str()
		return err
	case c == 't':
		return w.literal("true")
	case c == 'f':
		return w.literal("false")
	case c == 'n':
		return w.literal("null")
	case c == '-' || isDigit(c):
		return w.number()
	default:
		return w.syntax("unexpected character")
	}
}

func (w *walker) literal(lit string) error {
	end := w.i + len(lit)
	if end > len(w.data) || string(w.data[w.i:end]) != lit {
		return w.syntax("bad literal")
	}
	w.i = end
	return nil
}

// str passes over the string starting at w.i (a '"'), validating it, and says whether it had escapes.
func (w *walker) str() (escaped bool, err error) {
	w.i++
	for w.i < len(w.data) {
		c := w.data[w.i]
		switch {
		case c == '"':
			w.i++
			return escaped, nil
		case c == '\\':
			escaped = true
			w.i++
			if w.i >= len(w.data) {
				return false, w.syntax("unexpected end")
			}
			switch w.data[w.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				w.i++
			case 'u':
				w.i++
				for k := 0; k < 4; k++ {
					if w.i >= len(w.data) || !isHex(w.data[w.i]) {
						return false, w.syntax("bad escape")
					}
					w.i++
				}
			default:
				return false, w.syntax("bad escape")
			}
		case c < 0x20:
			return false, w.syntax("control character in string")
		default:
			w.i++
		}
	}
	return false, w.syntax("unterminated string")
}

// number passes over a JSON number, validating its grammar.
func (w *walker) number() error {
	d := w.data
	if w.i < len(d) && d[w.i] == '-' {
		w.i++
	}
	switch {
	case w.i < len(d) && d[w.i] == '0':
		w.i++
	case w.i < len(d) && d[w.i] >= '1' && d[w.i] <= '9':
		for w.i < len(d) && isDigit(d[w.i]) {
			w.i++
		}
	default:
		return w.syntax("bad number")
	}
	if w.i < len(d) && d[w.i] == '.' {
		w.i++
		start := w.i
		for w.i < len(d) && isDigit(d[w.i]) {
			w.i++
		}
		if w.i == start {
			return w.syntax("bad number")
		}
	}
	if w.i < len(d) && (d[w.i] == 'e' || d[w.i] == 'E') {
		w.i++
		if w.i < len(d) && (d[w.i] == '+' || d[w.i] == '-') {
			w.i++
		}
		start := w.i
		for w.i < len(d) && isDigit(d[w.i]) {
			w.i++
		}
		if w.i == start {
			return w.syntax("bad number")
		}
	}
	return nil
}

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
