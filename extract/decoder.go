package extract

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Decoding a platform's pages in one pass: Decoder is encoding/json's Unmarshal specialised, once,
// to a model type, so that a page's bytes are scanned once (validated, the records decoded, their
// unknown leaves found) instead of once for validity and again per member, per item and per
// record.
//
// It is a fast path, never a second set of rules: where a record is not one it is sure of (a
// member of the wrong JSON type, a key that matches a field only ignoring case, an escaped key, a
// key twice, an integer out of range, a type with its own UnmarshalJSON that it does not know),
// it says so and the caller decodes the record as before (json.Unmarshal, then DecodeLenient's
// field by field). What it decodes is what json.Unmarshal would: its tests and its fuzz test
// compare the two.
//
// The model's fields are written through unsafe pointers at the offsets reflect gives for the
// very type the Decoder was made for, as transform's Flattener reads them; every value written is
// of the field's type. Pointers, lists and the records' strings come from an arena per page:
// strings are substrings of one copy of the page, and the small values pointers point to and the
// elements of lists are carved from typed chunks allocated a few at a time, so that a page costs
// tens of allocations, not tens of thousands. The values of a page share those chunks: one of
// them keeps the chunks it points into alive.

// Decoder decodes JSON objects into the model type T, as encoding/json does, in one pass, and
// finds their unknown leaves on the way. It is safe for concurrent use.
type Decoder[T any] struct {
	c     *decoderCore
	root  *node
	known PathClassifier
}

// NewDecoder returns the Decoder of model T, a struct type, whose records' unknown leaves are
// those not among known (leaf paths: a source's homes, transform's JSON-path map; nil: the
// model's own Leaves). It fails when T holds a type it does not decode: anything but integers,
// strings, bools, structs (without embedded fields, or the ",string" option), pointers, slices,
// and this package's Money, DateTime, Date and JSONText, and json.RawMessage.
func NewDecoder[T any](known []string) (*Decoder[T], error) {
	c, err := coreOf(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	if known == nil {
		return &Decoder[T]{c: c, root: c.self, known: c.known}, nil
	}
	k := ClassifyPaths(known)
	return &Decoder[T]{c: c, root: buildNode(c.root, "", k), known: k}, nil
}

// Leaves are the JSON paths of the model's leaves, sorted: the paths of its fields that are not
// objects or lists, and of the elements of its lists that are not objects (array elements
// written "[]").
func (d *Decoder[T]) Leaves() []string { return slices.Clone(d.c.leaves) }

// ModelLeaves returns the leaf paths of the model type t (Decoder.Leaves), and false when no
// Decoder decodes t.
func ModelLeaves(t reflect.Type) ([]string, bool) {
	c, err := coreOf(t)
	if err != nil {
		return nil, false
	}
	return slices.Clone(c.leaves), true
}

// List is a page decoded by Decoder.DecodeList.
type List[T any] struct {
	// Members are the values of the members DecodeList was asked for, in that order, exactly as
	// sent (nil: absent).
	Members [][]byte
	// Items are the elements of the list, in order: nil when the list is null, empty when it is.
	Items []Item[T]
}

// Item is one element of a List.
type Item[T any] struct {
	// Raw is the element exactly as sent: a sub-slice of the page's body.
	Raw []byte
	// Decoded says whether the element is a JSON object that the Decoder decoded: Value is then
	// what json.Unmarshal would decode from Raw, and Unknown its leaves without a field in the
	// known leaves (sorted, each once; nil: none), as PathClassifier.UnknownPaths reports them. When
	// it is false, Value and Unknown are zero, and Raw is for the caller to decode the slow way.
	Decoded bool
	Value   T
	Unknown []string
}

// DecodeList decodes a page in one pass: body must be a JSON object whose member list is a JSON
// list (or null) of records, and whose other members are ignored but for those named in members,
// whose values are kept. It reports false, and the caller decodes the page the slow way (which
// tells why), when the body is not valid JSON or not such a page, or when a member named list or
// in members is written twice or matches only ignoring case, as encoding/json would match it. The
// items' Raw are sub-slices of body, which must not be modified while they are in use.
func (d *Decoder[T]) DecodeList(body []byte, list string, members ...string) (*List[T], bool) {
	s := newScan(d.c, d.known, body)
	out := &List[T]{Members: make([][]byte, len(members))}
	w := &s.w
	w.space()
	if w.i >= len(w.data) || w.data[w.i] != '{' {
		return nil, false
	}
	w.i++
	found := false
	for first := true; ; first = false {
		w.space()
		if first && w.i < len(w.data) && w.data[w.i] == '}' {
			w.i++
			break
		}
		key, ok := s.key()
		if !ok {
			return nil, false
		}
		w.space()
		if w.i >= len(w.data) || w.data[w.i] != ':' {
			return nil, false
		}
		w.i++
		w.space()
		switch {
		case key == list:
			if found {
				return nil, false
			}
			found = true
			if !decodeItems(s, d.root, out) {
				return nil, false
			}
		case strings.EqualFold(key, list):
			return nil, false
		default:
			start := w.i
			if w.skip(1) != nil {
				return nil, false
			}
			for k, m := range members {
				switch {
				case key == m && out.Members[k] != nil:
					return nil, false
				case key == m:
					out.Members[k] = body[start:w.i]
				case strings.EqualFold(key, m):
					return nil, false
				}
			}
		}
		w.space()
		if w.i >= len(w.data) {
			return nil, false
		}
		if w.data[w.i] == '}' {
			w.i++
			break
		}
		if w.data[w.i] != ',' {
			return nil, false
		}
		w.i++
	}
	w.space()
	if !found || w.i != len(w.data) {
		return nil, false
	}
	return out, true
}

// decodeItems decodes the list at s (null, or a list of records) into out.
func decodeItems[T any](s *scan, root *node, out *List[T]) bool {
	w := &s.w
	if w.i < len(w.data) && w.data[w.i] == 'n' {
		return w.literal("null") == nil
	}
	if w.i >= len(w.data) || w.data[w.i] != '[' {
		return false
	}
	w.i++
	w.space()
	out.Items = []Item[T]{}
	if w.i < len(w.data) && w.data[w.i] == ']' {
		w.i++
		return true
	}
	for {
		w.space()
		out.Items = append(out.Items, Item[T]{})
		it := &out.Items[len(out.Items)-1]
		start := w.i
		if w.i < len(w.data) && w.data[w.i] == '{' {
			s.unknown, s.segs, s.quiet, w.seen = s.unknown[:0], s.segs[:0], 0, nil
			it.Decoded = s.object(root, unsafe.Pointer(&it.Value), 1)
			if s.err {
				return false
			}
			if it.Decoded && len(s.unknown) > 0 {
				it.Unknown = s.sortedUnknown()
			}
		}
		if !it.Decoded {
			it.Value = *new(T)
			w.i = start
			if w.skip(1) != nil {
				return false
			}
		}
		it.Raw = w.data[start:w.i:w.i]
		if more, done := w.separator(']'); done || !more {
			return done
		}
	}
}

// decodeOne decodes the JSON object raw into *v (zero), as json.Unmarshal would; it reports
// false when it cannot be sure to (Item.Decoded), leaving *v to be zeroed by the caller.
func (c *decoderCore) decodeOne(raw []byte, v unsafe.Pointer) bool {
	s := newScan(c, c.known, raw)
	s.quiet = 1 // no one asks for the unknown leaves
	w := &s.w
	w.space()
	if w.i >= len(w.data) || w.data[w.i] != '{' {
		return false
	}
	if !s.object(c.self, v, 1) {
		return false
	}
	w.space()
	return w.i == len(w.data)
}

// decoderCore is what the Decoders of a model share: the plans of its types, its leaves.
type decoderCore struct {
	root   *plan
	plans  []*plan // every plan, by id
	leaves []string
	known  PathClassifier // of leaves
	self   *node          // the model's paths classified by its own leaves
}

// planKind is how a Go type is decoded.
type planKind uint8

const (
	intPlan planKind = iota + 1
	stringPlan
	boolPlan
	structPlan
	pointerPlan
	slicePlan
	moneyPlan      // Money: the number literal, or the number in a JSON string
	dateTimePlan   // DateTime
	datePlan       // Date
	jsonTextPlan   // JSONText
	rawMessagePlan // json.RawMessage: a copy of the value's bytes
)

// plan is how a Go type is decoded.
type plan struct {
	id   int // the arena's chunks of this type
	kind planKind
	typ  reflect.Type
	size uintptr
	// intKind is the kind of an integer.
	intKind reflect.Kind
	// elem is what a pointer points to, or a list's element.
	elem *plan
	// empty is a list of no elements that is not nil, for "[]".
	empty unsafe.Pointer
	// fields are a struct's decoded fields, in declaration order; folded holds their names in
	// lower case, to tell a key that encoding/json would match ignoring case.
	fields []field
	folded map[string]bool
}

// field is a struct field decoded from a JSON member.
type field struct {
	name   string
	offset uintptr
	plan   *plan
	node   *node // at the field's path
	mode   mode
}

// node is a path of the model (the paths of a type differ in what the known leaves hold there):
// the fields of the struct there, or the elements of the list there.
type node struct {
	fields   []field
	folded   map[string]bool
	elem     *node
	elemMode mode
}

// mode is how a value at a path is decoded, by what the known leaves say of the path.
type mode uint8

const (
	// decodeMode: a path the known leaves and the model both hold an object or list at: its
	// members and elements tell their own unknown leaves.
	decodeMode mode = iota
	// wholeMode: a known leaf: whatever it holds is known.
	wholeMode
	// walkMode: a path where the known leaves and the model differ (a field of the model that is
	// no known leaf, a list of the model that is a known leaf's element...): the value is walked
	// as PathClassifier.UnknownPaths walks it, then decoded.
	walkMode
)

// buildNode classifies the paths under path, of plan p, by the known leaves.
func buildNode(p *plan, path string, known PathClassifier) *node {
	for p.kind == pointerPlan {
		p = p.elem
	}
	n := &node{}
	switch p.kind {
	case structPlan:
		n.folded = p.folded
		for _, f := range p.fields {
			fp := joinPath(path, f.name)
			f.node, f.mode = buildNode(f.plan, fp, known), modeOf(f.plan, fp, known)
			n.fields = append(n.fields, f)
		}
	case slicePlan:
		n.elem, n.elemMode = buildNode(p.elem, path+"[]", known), modeOf(p.elem, path+"[]", known)
	}
	return n
}

// modeOf is how a value of plan p at path is decoded.
func modeOf(p *plan, path string, known PathClassifier) mode {
	for p.kind == pointerPlan {
		p = p.elem
	}
	switch k := known[path]; {
	case k == leafPath:
		return wholeMode
	case k == containerPath && (p.kind == structPlan || p.kind == slicePlan):
		return decodeMode
	}
	return walkMode
}

var (
	moneyType       = reflect.TypeFor[Money]()
	dateTimeType    = reflect.TypeFor[DateTime]()
	dateType        = reflect.TypeFor[Date]()
	jsonTextType    = reflect.TypeFor[JSONText]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	coreCache       sync.Map // reflect.Type → *decoderCore or error
)

// coreOf returns the decoder of model type t, made once.
func coreOf(t reflect.Type) (*decoderCore, error) {
	if v, ok := coreCache.Load(t); ok {
		if err, bad := v.(error); bad {
			return nil, err
		}
		return v.(*decoderCore), nil
	}
	c, err := newCore(t)
	if err != nil {
		coreCache.Store(t, err)
		return nil, err
	}
	coreCache.Store(t, c)
	return c, nil
}

func newCore(t reflect.Type) (*decoderCore, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("decoding %s: not a struct", t)
	}
	c := &decoderCore{}
	building := map[reflect.Type]*plan{}
	root, err := c.planOf(t, building)
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", t, err)
	}
	c.root = root
	c.leafPaths(root, "")
	slices.Sort(c.leaves)
	c.known = ClassifyPaths(c.leaves)
	c.self = buildNode(root, "", c.known)
	return c, nil
}

// planOf makes the plan of type t; building holds the plans being made, to refuse a type that
// holds itself (its leaves would be endless).
func (c *decoderCore) planOf(t reflect.Type, building map[reflect.Type]*plan) (*plan, error) {
	if p, ok := building[t]; ok {
		if p.kind == 0 {
			return nil, fmt.Errorf("%s holds itself", t)
		}
		return p, nil
	}
	p := &plan{id: len(c.plans), typ: t, size: t.Size()}
	building[t] = p
	c.plans = append(c.plans, p)
	switch t {
	case moneyType:
		p.kind = moneyPlan
		return p, nil
	case dateTimeType:
		p.kind = dateTimePlan
		return p, nil
	case dateType:
		p.kind = datePlan
		return p, nil
	case jsonTextType:
		p.kind = jsonTextPlan
		return p, nil
	case rawMessageType:
		p.kind = rawMessagePlan
		return p, nil
	}
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) ||
		t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil, fmt.Errorf("%s decodes itself", t)
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.kind, p.intKind = intPlan, t.Kind()
	case reflect.String:
		p.kind = stringPlan
	case reflect.Bool:
		p.kind = boolPlan
	case reflect.Pointer:
		elem, err := c.planOf(t.Elem(), building)
		if err != nil {
			return nil, err
		}
		p.kind, p.elem = pointerPlan, elem
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil, fmt.Errorf("%s is base64 in JSON", t)
		}
		elem, err := c.planOf(t.Elem(), building)
		if err != nil {
			return nil, err
		}
		p.kind, p.elem = slicePlan, elem
		p.empty = reflect.MakeSlice(t, 0, 1).UnsafePointer()
	case reflect.Struct:
		p.folded = map[string]bool{}
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			switch {
			case f.Anonymous:
				return nil, fmt.Errorf("%s embeds %s", t, f.Type)
			case !f.IsExported() || tag == "-":
				continue
			case opts != "" && opts != "omitempty" && !strings.HasPrefix(opts, "omitempty,") && opts != "omitzero":
				return nil, fmt.Errorf("%s.%s has the option %q", t, f.Name, opts)
			case name == "":
				name = f.Name
			}
			lower := strings.ToLower(name)
			if p.folded[lower] || strings.IndexFunc(name, func(r rune) bool { return r >= utf8.RuneSelf }) >= 0 {
				return nil, fmt.Errorf("%s.%s: its JSON name is another field's, or not ASCII", t, f.Name)
			}
			p.folded[lower] = true
			fp, err := c.planOf(f.Type, building)
			if err != nil {
				return nil, err
			}
			p.fields = append(p.fields, field{name: name, offset: f.Offset, plan: fp})
		}
		if len(p.fields) > 64 {
			return nil, fmt.Errorf("%s has more than 64 fields", t)
		}
		p.kind = structPlan // only now: a struct that holds itself is refused above
	default:
		return nil, fmt.Errorf("%s is not decoded", t)
	}
	return p, nil
}

// leafPaths adds the leaves under plan p at path.
func (c *decoderCore) leafPaths(p *plan, path string) {
	for p.kind == pointerPlan {
		p = p.elem
	}
	switch p.kind {
	case structPlan:
		for _, f := range p.fields {
			c.leafPaths(f.plan, joinPath(path, f.name))
		}
	case slicePlan:
		c.leafPaths(p.elem, path+"[]")
	default:
		c.leaves = append(c.leaves, path)
	}
}

// scan is one body being decoded: a walker (which validates, and finds the unknown leaves of a
// member the model does not know) with the body as a string, for the records' strings, and the
// arena the records' values come from.
type scan struct {
	w    walker
	text string
	// err: the body is not valid JSON (the walker's error is not kept: the slow path tells it).
	err bool
	// segs is the path of the value being decoded: field names, "[]" for a list's elements.
	segs []string
	// quiet: inside a known leaf (or a value walked already), nothing is reported.
	quiet   int
	unknown []string
	chunks  []chunk // by plan id
	buf     []byte  // unquoted strings
}

func newScan(c *decoderCore, known PathClassifier, body []byte) *scan {
	return &scan{
		w:      walker{known: known, data: body},
		text:   string(body),
		chunks: make([]chunk, len(c.plans)),
	}
}

// chunk is where the values of one type are carved from: n elements from base, used of them
// handed out. busy: a list of the type is being decoded into the chunk, past used.
type chunk struct {
	base      unsafe.Pointer
	n, used   int
	busy      bool
	allocated int          // elements allocated so far, which sizes the next chunk
	sliceType reflect.Type // a list of the type, to allocate chunks as
	maxElems  int          // the most elements of a chunk (maxChunkBytes), but for one list
}

// maxChunkBytes bounds a chunk.
const maxChunkBytes = 32 << 10

// grow gives c a new chunk of at least need elements of p's type.
func (c *chunk) grow(p *plan, need int) {
	if c.sliceType == nil {
		c.sliceType = reflect.SliceOf(p.typ)
		c.maxElems = max(1, maxChunkBytes/max(1, int(p.size)))
	}
	n := max(need, min(max(1, c.allocated), c.maxElems))
	c.base = reflect.MakeSlice(c.sliceType, n, n).UnsafePointer()
	c.n, c.used = n, 0
	c.allocated += n
}

// alloc returns one zero value of p's type.
func (s *scan) alloc(p *plan) unsafe.Pointer {
	c := &s.chunks[p.id]
	if c.busy {
		return reflect.New(p.typ).UnsafePointer()
	}
	if c.used == c.n {
		c.grow(p, 1)
	}
	ptr := unsafe.Add(c.base, uintptr(c.used)*p.size)
	c.used++
	return ptr
}

// sortedUnknown returns the unknown leaves found, sorted, each once.
func (s *scan) sortedUnknown() []string {
	out := slices.Clone(s.unknown)
	slices.Sort(out)
	return slices.Compact(out)
}

// walk walks the value at w.i, at the path of the value being decoded and key, for its unknown
// leaves (PathClassifier.UnknownPaths), and comes back to it.
func (s *scan) walk(key string, depth int) bool {
	w := &s.w
	start := w.i
	s.path(key)
	w.unknown = w.unknown[:0]
	if w.value(depth) != nil {
		s.err = true
		return false
	}
	s.unknown = append(s.unknown, w.unknown...)
	w.i = start
	return true
}

// path writes the path of the value being decoded into the walker's, with key after it.
func (s *scan) path(key string) {
	p := s.w.path[:0]
	for _, seg := range s.segs {
		if seg == "[]" {
			p = append(p, "[]"...)
			continue
		}
		if len(p) > 0 {
			p = append(p, '.')
		}
		p = append(p, seg...)
	}
	if key == "[]" {
		s.w.path = append(p, key...)
		return
	}
	if len(p) > 0 {
		p = append(p, '.')
	}
	s.w.path = append(p, key...)
}

// key reads a member's key at w.i: false for a key that is not valid, or escaped, or not ASCII
// (encoding/json unescapes and folds those: the slow path is sure to).
func (s *scan) key() (string, bool) {
	w := &s.w
	if w.i >= len(w.data) || w.data[w.i] != '"' {
		s.err = true
		return "", false
	}
	start := w.i + 1
	for i := start; i < len(w.data); i++ {
		switch c := w.data[i]; {
		case c == '"':
			w.i = i + 1
			return s.text[start:i], true
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return "", false
		}
	}
	s.err = true
	return "", false
}

// object decodes the JSON object at w.i into the struct of node n at dst.
func (s *scan) object(n *node, dst unsafe.Pointer, depth int) bool {
	w := &s.w
	if depth > maxDepth {
		s.err = true
		return false
	}
	w.i++ // '{'
	w.space()
	if w.i < len(w.data) && w.data[w.i] == '}' {
		w.i++
		return true
	}
	var seen uint64
	next := 0
	for {
		w.space()
		key, ok := s.key()
		if !ok {
			return false
		}
		w.space()
		if w.i >= len(w.data) || w.data[w.i] != ':' {
			s.err = true
			return false
		}
		w.i++
		w.space()
		fi := -1
		if next < len(n.fields) && n.fields[next].name == key {
			fi = next
		} else {
			for k := range n.fields {
				if n.fields[k].name == key {
					fi = k
					break
				}
			}
		}
		switch {
		case fi >= 0:
			if seen&(1<<fi) != 0 {
				return false // the last one wins, into what the first one decoded
			}
			seen |= 1 << fi
			next = fi + 1
			f := &n.fields[fi]
			if !s.member(f.name, f.mode, f.plan, f.node, unsafe.Add(dst, f.offset), depth+1) {
				return false
			}
		case n.folded[asciiLower(key)]:
			return false
		case s.quiet > 0:
			if w.skip(depth+1) != nil {
				s.err = true
				return false
			}
		default:
			if !s.walk(key, depth+1) || w.skip(depth+1) != nil {
				s.err = true
				return false
			}
		}
		if more, done := w.separator('}'); done || !more {
			s.err = s.err || !done
			return done
		}
	}
}

// member decodes the value at w.i, of a member or of a list's element (key "[]"), as mode says.
func (s *scan) member(key string, m mode, p *plan, n *node, dst unsafe.Pointer, depth int) bool {
	if m == walkMode && s.quiet == 0 && !s.walk(key, depth) {
		return false
	}
	if m != decodeMode {
		s.quiet++
	}
	s.segs = append(s.segs, key)
	ok := s.value(p, n, dst, depth)
	s.segs = s.segs[:len(s.segs)-1]
	if m != decodeMode {
		s.quiet--
	}
	return ok
}

// asciiLower returns key in lower case (key is ASCII); it allocates only for a key with upper
// case letters.
func asciiLower(key string) string {
	for i := 0; i < len(key); i++ {
		if c := key[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(key)
		}
	}
	return key
}

// value decodes the JSON value at w.i into the value of plan p at dst (zero). It reports false
// when the value does not fit (the caller decodes the record the slow way) or is not valid JSON
// (s.err).
func (s *scan) value(p *plan, n *node, dst unsafe.Pointer, depth int) bool {
	w := &s.w
	if w.i >= len(w.data) {
		s.err = true
		return false
	}
	c := w.data[w.i]
	if c == 'n' {
		if w.literal("null") != nil {
			s.err = true
			return false
		}
		if p.kind == rawMessagePlan {
			*(*json.RawMessage)(dst) = json.RawMessage("null")
		}
		return true // every other kind is left zero, as encoding/json leaves it
	}
	switch p.kind {
	case structPlan:
		if c != '{' {
			return false
		}
		return s.object(n, dst, depth)
	case pointerPlan:
		ptr := s.alloc(p.elem)
		if !s.value(p.elem, n, ptr, depth) {
			return false
		}
		*(*unsafe.Pointer)(dst) = ptr
		return true
	case slicePlan:
		if c != '[' {
			return false
		}
		return s.list(p, n, dst, depth)
	case stringPlan:
		if c != '"' {
			return false
		}
		str, ok := s.str()
		if ok {
			*(*string)(dst) = str
		}
		return ok
	case intPlan:
		return s.integer(p, dst)
	case boolPlan:
		switch c {
		case 't':
			*(*bool)(dst) = true
			if w.literal("true") != nil {
				s.err = true
				return false
			}
			return true
		case 'f':
			if w.literal("false") != nil {
				s.err = true
				return false
			}
			return true
		}
		return false
	}
	return s.leaf(p, dst, depth)
}

// leaf decodes a value into one of the model's own types (Money, DateTime, Date, JSONText,
// json.RawMessage): the usual values directly, anything else through the type's UnmarshalJSON,
// as encoding/json calls it.
func (s *scan) leaf(p *plan, dst unsafe.Pointer, depth int) bool {
	w := &s.w
	start := w.i
	c := w.data[w.i]
	switch {
	case p.kind == moneyPlan && (c == '-' || isDigit(c)):
		if w.number() != nil {
			s.err = true
			return false
		}
		*(*Money)(dst) = Money(s.text[start:w.i])
		return true
	case p.kind == jsonTextPlan && (c == '-' || isDigit(c)):
		if w.number() != nil {
			s.err = true
			return false
		}
		*(*JSONText)(dst) = JSONText{Text: s.text[start:w.i], Valid: true}
		return true
	case p.kind != rawMessagePlan && c == '"':
		str, plain, ok := s.plainStr()
		if !ok {
			return false
		}
		if plain && plainLeaf(p, dst, str) {
			return true
		}
	default:
		if w.skip(depth) != nil {
			s.err = true
			return false
		}
	}
	raw := w.data[start:w.i]
	if p.kind == rawMessagePlan {
		*(*json.RawMessage)(dst) = append(json.RawMessage(nil), raw...)
		return true
	}
	u := reflect.NewAt(p.typ, dst).Interface().(json.Unmarshaler)
	if u.UnmarshalJSON(raw) != nil {
		reflect.NewAt(p.typ, dst).Elem().SetZero()
		return false
	}
	return true
}

// plainLeaf decodes the content str of a JSON string without escapes into a leaf type, when it is
// in the form the API writes; false leaves it to the type's UnmarshalJSON.
func plainLeaf(p *plan, dst unsafe.Pointer, str string) bool {
	switch p.kind {
	case moneyPlan:
		if isJSONNumberString(str) {
			*(*Money)(dst) = Money(str)
			return true
		}
	case jsonTextPlan:
		*(*JSONText)(dst) = JSONText{Text: str, Valid: true}
		return true
	case dateTimePlan:
		if str == "" {
			return true
		}
		if t, ok := parseDateTime(str); ok {
			(*DateTime)(dst).Time = t
			return true
		}
	case datePlan:
		if str == "" {
			return true
		}
		if t, ok := parseDate(str); ok {
			(*Date)(dst).Time = t
			return true
		}
	}
	return false
}

// plainStr passes over the JSON string at w.i and returns its content when it has no escapes
// and is valid UTF-8 (plain); ok is false when the string is not valid JSON.
func (s *scan) plainStr() (str string, plain, ok bool) {
	w := &s.w
	start := w.i + 1
	ascii := true
	for i := start; i < len(w.data); i++ {
		c := w.data[i]
		switch {
		case c == '"':
			w.i = i + 1
			str = s.text[start:i]
			return str, ascii || utf8.ValidString(str), true
		case c == '\\':
			if _, err := w.str(); err != nil {
				s.err = true
				return "", false, false
			}
			return "", false, true
		case c < 0x20:
			s.err = true
			return "", false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	s.err = true
	return "", false, false
}

// str decodes the JSON string at w.i as encoding/json does.
func (s *scan) str() (string, bool) {
	w := &s.w
	start := w.i
	str, plain, ok := s.plainStr()
	if !ok {
		return "", false
	}
	if plain {
		return str, true
	}
	var ok2 bool
	s.buf, ok2 = unquote(s.buf[:0], w.data[start:w.i])
	if !ok2 {
		s.err = true
		return "", false
	}
	return string(s.buf), true
}

// integer decodes a JSON number into an integer of plan p, when it is an integer that fits.
func (s *scan) integer(p *plan, dst unsafe.Pointer) bool {
	w := &s.w
	start := w.i
	c := w.data[w.i]
	if c != '-' && !isDigit(c) {
		return false
	}
	if w.number() != nil {
		s.err = true
		return false
	}
	lit := w.data[start:w.i]
	neg := lit[0] == '-'
	if neg {
		lit = lit[1:]
	}
	var n uint64
	for _, d := range lit {
		if !isDigit(d) || n > (1<<63)/10 {
			return false // a fraction or an exponent, or too long
		}
		n = n*10 + uint64(d-'0')
	}
	var v int64
	switch {
	case neg && n <= 1<<63:
		v = -int64(n-1) - 1
	case !neg && n < 1<<63:
		v = int64(n)
	default:
		return false
	}
	switch p.intKind {
	case reflect.Int64:
		*(*int64)(dst) = v
	case reflect.Int:
		if int64(int(v)) != v {
			return false
		}
		*(*int)(dst) = int(v)
	case reflect.Int32:
		if int64(int32(v)) != v {
			return false
		}
		*(*int32)(dst) = int32(v)
	case reflect.Int16:
		if int64(int16(v)) != v {
			return false
		}
		*(*int16)(dst) = int16(v)
	case reflect.Int8:
		if int64(int8(v)) != v {
			return false
		}
		*(*int8)(dst) = int8(v)
	}
	return true
}

// list decodes the JSON list at w.i into the slice of plan p at dst. The elements are decoded in
// place into a chunk of their type, moved to a larger one when it fills up; a list of the same
// type inside an element gets a chunk of its own.
func (s *scan) list(p *plan, n *node, dst unsafe.Pointer, depth int) bool {
	w := &s.w
	if depth > maxDepth {
		s.err = true
		return false
	}
	w.i++ // '['
	w.space()
	if w.i < len(w.data) && w.data[w.i] == ']' {
		w.i++
		*(*sliceHeader)(dst) = sliceHeader{data: p.empty}
		return true
	}
	e := p.elem
	c := &s.chunks[e.id]
	var own chunk
	if c.busy {
		own = chunk{allocated: 1}
		c = &own
	}
	c.busy = true
	start, k := c.used, 0
	ok := func() bool {
		for {
			if start+k == c.n {
				old, oldStart := c.base, start
				c.grow(e, 2*(k+1))
				if k > 0 {
					reflect.Copy(reflect.NewAt(c.sliceType, unsafe.Pointer(&sliceHeader{data: c.base, len: k, cap: k})).Elem(),
						reflect.NewAt(c.sliceType, unsafe.Pointer(&sliceHeader{data: unsafe.Add(old, uintptr(oldStart)*e.size), len: k, cap: k})).Elem())
				}
				start = 0
			}
			w.space()
			if !s.member("[]", n.elemMode, e, n.elem, unsafe.Add(c.base, uintptr(start+k)*e.size), depth+1) {
				k++ // written to: never handed out again
				return false
			}
			k++
			if more, done := w.separator(']'); done || !more {
				s.err = s.err || !done
				return done
			}
		}
	}()
	c.used = start + k
	c.busy = false
	if ok {
		*(*sliceHeader)(dst) = sliceHeader{data: unsafe.Add(c.base, uintptr(start)*e.size), len: k, cap: k}
	}
	return ok
}

// sliceHeader is the layout of every slice.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// parseDateTime parses "YYYY-MM-DD hh:mm:ss" (DateTimeLayout) as time.ParseInLocation does in UTC;
// false for any other form.
func parseDateTime(s string) (time.Time, bool) {
	if len(s) != len(DateTimeLayout) || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	y, mo, d, ok := ymd(s)
	h, ok1 := digits2(s[11:13])
	mi, ok2 := digits2(s[14:16])
	sec, ok3 := digits2(s[17:19])
	if !ok || !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC), true
}

// parseDate parses "YYYY-MM-DD" (DateLayout) as time.ParseInLocation does in UTC; false for any
// other form.
func parseDate(s string) (time.Time, bool) {
	if len(s) != len(DateLayout) {
		return time.Time{}, false
	}
	y, mo, d, ok := ymd(s)
	if !ok {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC), true
}

// ymd reads the valid calendar date "YYYY-MM-DD" at the start of s.
func ymd(s string) (y, m, d int, ok bool) {
	if s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	y1, ok1 := digits2(s[0:2])
	y2, ok2 := digits2(s[2:4])
	m, ok3 := digits2(s[5:7])
	d, ok4 := digits2(s[8:10])
	y = y1*100 + y2
	if !ok1 || !ok2 || !ok3 || !ok4 || m < 1 || m > 12 || d < 1 || d > daysIn(m, y) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

func digits2(s string) (int, bool) {
	if !isDigit(s[0]) || !isDigit(s[1]) {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
