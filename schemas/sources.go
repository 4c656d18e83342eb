package schemas

import (
	"fmt"
	"sort"
)

// A source is a platform ccsync copies from (CrowdChange, Donately, ...). Its checkpoints and
// runs carry its name, so that two sources in one warehouse never see each other's windows.

// SourceInfo declares what the shared machinery must know of a source: its name and the streams
// its windows are checkpointed in.
type SourceInfo struct {
	// Name is the source's name in the warehouse (column source of the bookkeeping tables) and on
	// the command line (--source).
	Name string
	// Streams are the source's checkpointed streams.
	Streams []Stream
	// Watched are the streams whose furthest watermark `ccsync status --max-lag` watches: those a
	// nightly sync moves (or a backfill, before the first sync).
	Watched []string
}

// Stream is one sequence of windows of a source, with its own watermark.
type Stream struct {
	Name string
	// Key, when set, names what a window of the stream is further keyed by (a payout account):
	// every checkpoint of the stream has one, and each key has its own watermark. Empty: no
	// checkpoint of the stream has a key.
	Key string
}

// The sources' names.
const (
	CrowdChange = "crowdchange"
	Donately    = "donately"
)

// LegacySource is the source of bookkeeping rows written before ccsync had sources (their source
// column is NULL): they are CrowdChange's, the only source there was.
const LegacySource = CrowdChange

var sourceRegistry = map[string]SourceInfo{}

// RegisterSource declares a source. Each source's declarations package calls it from init; a
// second declaration of the same name panics.
func RegisterSource(s SourceInfo) {
	if s.Name == "" {
		panic("schemas: a source without a name")
	}
	if _, dup := sourceRegistry[s.Name]; dup {
		panic(fmt.Sprintf("schemas: source %s declared twice", s.Name))
	}
	sourceRegistry[s.Name] = s
}

// SourceNamed returns the declared source of that name.
func SourceNamed(name string) (SourceInfo, bool) {
	s, ok := sourceRegistry[name]
	return s, ok
}

// SourceNames returns the declared sources' names, sorted.
func SourceNames() []string {
	names := make([]string, 0, len(sourceRegistry))
	for n := range sourceRegistry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Stream returns the source's stream of that name.
func (s SourceInfo) Stream(name string) (Stream, bool) {
	for _, st := range s.Streams {
		if st.Name == name {
			return st, true
		}
	}
	return Stream{}, false
}

// StreamNames returns the names of the source's streams, in declaration order.
func (s SourceInfo) StreamNames() []string {
	out := make([]string, len(s.Streams))
	for i, st := range s.Streams {
		out[i] = st.Name
	}
	return out
}

func init() {
	// CrowdChange's two streams (DESIGN.md, "Two streams, two watermarks").
	RegisterSource(SourceInfo{Name: CrowdChange, Streams: []Stream{
		{Name: "date"},
		{Name: "payout", Key: "payout account"},
	}, Watched: []string{"date"}})
	// Donately's: donations by created_at (backfill) and updated_at (sync), and the campaigns and
	// people changed in a window (transform/donately).
	RegisterSource(SourceInfo{Name: Donately, Streams: []Stream{
		{Name: "created"}, {Name: "updated"}, {Name: "campaigns"}, {Name: "people"},
	}, Watched: []string{"updated", "created"}})
}
