package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// RemoveMembers returns body, a JSON value, without the object members drop selects, at any
// depth, and how many it removed: the platforms' clients remove the credentials their APIs return
// (Donately's payment_intent_secret, Crowdtilt's card tokens) with it before anything reads a body.
// drop is given the member's name, unquoted (escapes decoded) with its ASCII letters in lower case
// (valid only during the call), and the name of the member whose value holds it ("" at the top,
// a list's name for its items), lowered the same way. Every other byte is kept as it was: a
// member goes with its value, its own white space and one comma, so that a body without any comes
// back unchanged (the same slice). A body that is not valid JSON is an error, which never quotes
// the body.
func RemoveMembers(body []byte, drop func(parent string, name []byte) bool) ([]byte, int, error) {
	if !json.Valid(body) {
		return nil, 0, errors.New("not valid JSON (cut short?)")
	}
	s := memberRemover{in: body, out: make([]byte, 0, len(body)), drop: drop}
	s.skipSpace(true)
	if err := s.value(""); err != nil {
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

// memberRemover copies a valid JSON value from in to out, leaving out the members drop selects.
type memberRemover struct {
	in      []byte
	pos     int
	out     []byte
	removed int
	drop    func(parent string, name []byte) bool
	name    []byte // the current member's name, lowered
}

var errUnexpectedEnd = errors.New("unexpected end of JSON")

// skipSpace moves past white space, copying it when keep is set.
func (s *memberRemover) skipSpace(keep bool) {
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

// value copies one value (no white space around it); parent is the lowered name of the member it
// is the value of (or, for a list's items, the list's).
func (s *memberRemover) value(parent string) error {
	if s.pos >= len(s.in) {
		return errUnexpectedEnd
	}
	switch c := s.in[s.pos]; {
	case c == '{':
		return s.object(parent)
	case c == '[':
		return s.array(parent)
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

func (s *memberRemover) array(parent string) error {
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
		if err := s.value(parent); err != nil {
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
// its value and its trailing white space; a dropped member is skipped whole.
func (s *memberRemover) object(parent string) error {
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
		s.lowerName(s.in[s.pos:nameEnd])
		s.pos = nameEnd
		colon := s.pos
		s.skipSpace(false)
		if s.pos >= len(s.in) || s.in[s.pos] != ':' {
			return fmt.Errorf("no colon after a member name at byte %d", s.pos)
		}
		s.pos++
		s.skipSpace(false)
		drop := s.drop(parent, s.name)
		// The value's own members know this member's name as their parent: a string only for
		// an object or a list, so that a scalar member costs no allocation.
		child := ""
		if s.pos < len(s.in) && (s.in[s.pos] == '{' || s.in[s.pos] == '[') {
			child = string(s.name)
		}
		if drop {
			mark := len(s.out)
			if err := s.value(child); err != nil {
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
			if err := s.value(child); err != nil {
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

// stringEnd is the offset just past the JSON string starting at start (json.Valid vouched for it).
func (s *memberRemover) stringEnd(start int) (int, error) {
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

// lowerName sets s.name to a member name (a JSON string, quotes included) unquoted, escapes
// decoded, ASCII letters lowered; empty when it cannot be read (json.Valid vouched for it).
func (s *memberRemover) lowerName(quoted []byte) {
	s.name = s.name[:0]
	if bytes.IndexByte(quoted, '\\') < 0 {
		s.name = append(s.name, quoted[1:len(quoted)-1]...)
	} else {
		var name string
		if json.Unmarshal(quoted, &name) == nil {
			s.name = append(s.name, name...)
		}
	}
	for i, c := range s.name {
		if 'A' <= c && c <= 'Z' {
			s.name[i] = c + 'a' - 'A'
		}
	}
}
