package transform

import (
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/schemas"
)

// PathClassifier finds the leaves of a record that have no home in a JSON-path → column map
// (UnknownPaths): extract's, made of the map's paths.
type PathClassifier = extract.PathClassifier

// Classify builds the classifier of a JSON-path → column map (schemas.Flattening.PathMap).
func Classify(m []schemas.Mapping) PathClassifier {
	return extract.ClassifyPaths(homes(m))
}

// homes are the JSON paths of a JSON-path → column map.
func homes(m []schemas.Mapping) []string {
	paths := make([]string, len(m))
	for i, mp := range m {
		paths[i] = mp.JSONPath
	}
	return paths
}
