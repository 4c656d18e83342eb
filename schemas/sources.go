package schemas

import (
	"fmt"
	"maps"
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
	// Flattenings say how the source's records become rows of its data tables, which become
	// warehouse tables (SourceDataTables).
	Flattenings []Flattening
	// Donations, when set, says how the source's current views become rows of the donations
	// model (ModelViews); ref names a table or view in the warehouse's dialect. A source without
	// it has no rows there.
	Donations func(ref func(name string) string) DonationSelect
}

// Stream is one sequence of windows of a source, with its own watermark.
type Stream struct {
	Name string
	// Key, when set, names what a window of the stream is further keyed by (a payout account):
	// every checkpoint of the stream has one, and each key has its own watermark. Empty: no
	// checkpoint of the stream has a key.
	Key string
}

// LegacySource is the source of bookkeeping rows written before ccsync had sources (their source
// column is NULL): they are CrowdChange's, the only source there was.
const LegacySource = "crowdchange"

var sourceRegistry = map[string]SourceInfo{}

// RegisterSource declares a source. Each source's declarations package (schemas/crowdchange,
// schemas/donately, ...) calls it from init, so a program has the tables of the sources it
// imports. A source without a name, declared twice, whose flattening does not check
// (Flattening.Check), whose donations lack a column (DonationSelect), or with a table name
// another source or the shared tables already use, panics: a mistake of the declarations that
// any test catches.
func RegisterSource(s SourceInfo) {
	if s.Name == "" {
		panic("schemas: a source without a name")
	}
	if _, dup := sourceRegistry[s.Name]; dup {
		panic(fmt.Sprintf("schemas: source %s declared twice", s.Name))
	}
	if s.Donations != nil {
		if err := s.Donations(QuoteIdent).check(); err != nil {
			panic(fmt.Sprintf("schemas: source %s: %v", s.Name, err))
		}
	}
	added := map[string]Table{}
	for _, f := range s.Flattenings {
		if err := f.Check(); err != nil {
			panic(fmt.Sprintf("schemas: source %s: %v", s.Name, err))
		}
		for _, t := range f.Tables {
			_, taken := tablesByName[t.Name]
			if _, twice := added[t.Name]; taken || twice {
				panic(fmt.Sprintf("schemas: source %s: table %s is already declared", s.Name, t.Name))
			}
			added[t.Name] = t
		}
	}
	maps.Copy(tablesByName, added)
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
