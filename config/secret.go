package config

import "encoding/json"

// Secret is a value that must never be logged, printed or written to a warehouse: every way of
// formatting it prints "[redacted]". Reveal returns the value for the one place that sends it.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

// String redacts.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts, for %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON redacts.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText redacts (YAML and other text encoders).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
