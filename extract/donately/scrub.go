package donately

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// SecretMember is the member of a donation that holds a credential: the client secret of its
// Stripe payment intent, which lets whoever holds it confirm the payment. It never leaves the
// client: it is removed from every body before anything reads it.
const SecretMember = "payment_intent_secret"

// removeSecrets returns body, a JSON value, without any object member named SecretMember
// (compared case-insensitively, escapes decoded), at any depth, and how many it removed. Every
// other byte is kept as it was: the member goes with its value, its own white space and one comma,
// so that a body without the member comes back unchanged (the same slice). A body that is not
// valid JSON is an error, which never quotes the body.
func removeSecrets(body []byte) ([]byte, int, error) {
	if !json.Valid(body) {
		return nil, 0, errors.New("not valid JSON (cut short?)")
	}
	if !mayHoldSecret(body) {
		return body, 0, nil
	}
	s := scrubber{in: body, out: make([]byte, 0, len(body))}
	s.skipSpace(true)
	if err := s.value(); err != nil {
		return nil, 0, err
	}
	s.skipSpace(true)
	if s.pos != len(s.in) {
		return nil, 0, fmt.Errorf("unexpected data after the JSON value at byte %d", s.pos)
	}
	if s.removed == 0 {
		return body, 0, nil
	}
	return s.out, s.removed, nil
}

// mayHoldSecret is removeSecrets' fast path: a member name can only match SecretMember when the
// body holds it literally (in some case) or holds an escape.
func mayHoldSecret(body []byte) bool {
	if bytes.IndexByte(body, '\\') >= 0 {
		return true
	}
	return bytes.Contains(bytes.ToLower(body), []byte(SecretMember))
}

// scrubber copies a valid JSON value from in to out, leaving out the secret members.
type scrubber struct {
	in      []byte
	pos     int
	out     []byte
	removed int
}

var errUnexpectedEnd = errors.New("unexpected end of JSON")

// skipSpace moves past white space, copying it when keep is set.
func (s *scrubber) skipSpace(keep bool) {
	start := s.pos
	for s.pos < len(s.in) {
		switch s.in[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
			continue
		}
		break
	}
	if keep {
		s.out = append(s.out, s.in[start:s.pos]...)
	}
}

// value copies one value (no white space around it).
func (s *scrubber) value() error {
	if s.pos >= len(s.in) {
		return errUnexpectedEnd
	}
	switch c := s.in[s.pos]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		end, err := s.stringEnd(s.pos)
		if err != nil {
			return err
		}
		s.out = append(s.out, s.in[s.pos:end]...)
		s.pos = end
		return nil
	default: // a number, true, false or null: json.Valid vouched for it
		start := s.pos
		for s.pos < len(s.in) && strings.IndexByte(",]} \t\n\r", s.in[s.pos]) < 0 {
			s.pos++
		}
		s.out = append(s.out, s.in[start:s.pos]...)
		return nil
	}
}

func (s *scrubber) array() error {
	s.out = append(s.out, '[')
	s.pos++
	for {
		s.skipSpace(true)
		if s.pos >= len(s.in) {
			return errUnexpectedEnd
		}
		if s.in[s.pos] == ']' {
			s.out = append(s.out, ']')
			s.pos++
			return nil
		}
		if err := s.value(); err != nil {
			return err
		}
		s.skipSpace(true)
		if s.pos >= len(s.in) {
			return errUnexpectedEnd
		}
		if s.in[s.pos] == ',' {
			s.out = append(s.out, ',')
			s.pos++
		}
	}
}

// object copies an object member by member: each kept member is written as the comma before it
// (but for the first kept one), its leading white space, its name, the colon with its white space,
// its value and its trailing white space; a secret member is skipped whole.
func (s *scrubber) object() error {
	s.out = append(s.out, '{')
	s.pos++
	kept := 0
	for {
		lead := s.pos
		s.skipSpace(false)
		if s.pos >= len(s.in) {
			return errUnexpectedEnd
		}
		if s.in[s.pos] == '}' {
			s.out = append(s.out, s.in[lead:s.pos]...)
			s.out = append(s.out, '}')
			s.pos++
			return nil
		}
		nameEnd, err := s.stringEnd(s.pos)
		if err != nil {
			return err
		}
		name := s.in[s.pos:nameEnd]
		s.pos = nameEnd
		colon := s.pos
		s.skipSpace(false)
		if s.pos >= len(s.in) || s.in[s.pos] != ':' {
			return fmt.Errorf("no colon after a member name at byte %d", s.pos)
		}
		s.pos++
		s.skipSpace(false)
		if isSecretName(name) {
			mark := len(s.out)
			if err := s.value(); err != nil {
				return err
			}
			s.out = s.out[:mark]
			s.removed++
			s.skipSpace(false)
		} else {
			if kept > 0 {
				s.out = append(s.out, ',')
			}
			kept++
			s.out = append(s.out, s.in[lead:colon]...) // white space and name
			s.out = append(s.out, s.in[colon:s.pos]...)
			if err := s.value(); err != nil {
				return err
			}
			s.skipSpace(true)
		}
		if s.pos >= len(s.in) {
			return errUnexpectedEnd
		}
		if s.in[s.pos] == ',' {
			s.pos++
		}
	}
}

// stringEnd is the offset just past the JSON string starting at start.
func (s *scrubber) stringEnd(start int) (int, error) {
	if start >= len(s.in) || s.in[start] != '"' {
		return 0, fmt.Errorf("expected a string at byte %d", start)
	}
	for i := start + 1; i < len(s.in); i++ {
		switch s.in[i] {
		case '\\':
			i++ // the escaped byte (\uXXXX's hex digits are plain bytes)
		case '"':
			return i + 1, nil
		}
	}
	return 0, errUnexpectedEnd
}

// isSecretName reports whether a member name (a JSON string, quotes included) is SecretMember.
func isSecretName(quoted []byte) bool {
	if len(quoted) < len(SecretMember)+2 {
		return false
	}
	if bytes.IndexByte(quoted, '\\') < 0 {
		return asciiEqualFold(quoted[1:len(quoted)-1], SecretMember)
	}
	var name string
	if json.Unmarshal(quoted, &name) != nil {
		return false
	}
	return asciiEqualFold([]byte(name), SecretMember)
}

// asciiEqualFold compares b with the lower-case ASCII want, ignoring the case of ASCII letters
// only (as mayHoldSecret's bytes.ToLower does for them).
func asciiEqualFold(b []byte, want string) bool {
	if len(b) != len(want) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}

// stripeSecret matches a Stripe client secret ("pi_..._secret_..."; setup intents "seti_..."),
// should an API message quote one.
var stripeSecret = regexp.MustCompile(`\b(?:pi|seti)_[A-Za-z0-9]+_secret_[A-Za-z0-9]+`)

// redactStripeSecrets replaces any Stripe client secret in s.
func redactStripeSecrets(s string) string {
	return stripeSecret.ReplaceAllString(s, "[redacted]")
}
