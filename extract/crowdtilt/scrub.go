package crowdtilt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Card data never leaves the client. A payment carries the card it was made with (seed 003: "card"
// with its id, last_four, expiration, card_type and user); the card's id is the token that charges
// the card again (POST /campaigns/:id/payments with a card_id), so it is a credential, and its uri
// holds the id. The number and security code, which the seed shows only in the create-card
// request, must never be kept should an answer ever carry them. Every member named below is
// removed from each body, at any depth, before anything reads it.
//
// cardObjectMembers are removed from any object that is the value of a member named "card" (or
// an item of a list named "cards"): the token, its uri, the number and any token.
var cardObjectMembers = []string{"id", "uri", "number", "token"}

// secretMembers are removed from every object, whatever its name: card and bank numbers, security
// codes, card tokens and social security numbers, however an answer or its metadata names them.
var secretMembers = []string{
	"card_number", "card_id", "card_token", "security_code", "cvv", "cvv2", "cvc",
	"account_number", "bank_code", "routing_number", "ssn",
}

// removeCardData returns body, a JSON value, without the members cardObjectMembers and
// secretMembers name (compared case-insensitively, escapes decoded), at any depth, and how many it
// removed. Every other byte is kept as it was: a member goes with its value, its own white space
// and one comma, so that a body without any comes back unchanged (the same slice). A body that is
// not valid JSON is an error, which never quotes the body.
func removeCardData(body []byte) ([]byte, int, error) {
	if !json.Valid(body) {
		return nil, 0, errors.New("not valid JSON (cut short?)")
	}
	if !mayHoldCardData(body) {
		return body, 0, nil
	}
	s := scrubber{in: body, out: make([]byte, 0, len(body))}
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

// mayHoldCardData is removeCardData's fast path: a member can only be removed when the body holds
// "card" or one of secretMembers literally (in some case), or holds an escape.
func mayHoldCardData(body []byte) bool {
	if bytes.IndexByte(body, '\\') >= 0 {
		return true
	}
	lower := bytes.ToLower(body)
	if bytes.Contains(lower, []byte(`"card`)) {
		return true
	}
	for _, name := range secretMembers {
		if bytes.Contains(lower, []byte(name)) {
			return true
		}
	}
	return false
}

// isSecretMember reports whether the member name (lower case, unquoted) of an object that is the
// value of the member parent (lower case; "" at the top) is card data.
func isSecretMember(parent, name string) bool {
	if slices.Contains(secretMembers, name) {
		return true
	}
	return (parent == "card" || parent == "cards") && slices.Contains(cardObjectMembers, name)
}

// scrubber copies a valid JSON value from in to out, leaving out the card data members.
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

// value copies one value (no white space around it); parent is the lower-case name of the member
// it is the value of (or, for a list's items, the list's).
func (s *scrubber) value(parent string) error {
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

func (s *scrubber) array(parent string) error {
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
// its value and its trailing white space; a card data member is skipped whole.
func (s *scrubber) object(parent string) error {
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
		name := memberName(s.in[s.pos:nameEnd])
		s.pos = nameEnd
		colon := s.pos
		s.skipSpace(false)
		if s.pos >= len(s.in) || s.in[s.pos] != ':' {
			return fmt.Errorf("no colon after a member name at byte %d", s.pos)
		}
		s.pos++
		s.skipSpace(false)
		if isSecretMember(parent, name) {
			mark := len(s.out)
			if err := s.value(name); err != nil {
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
			if err := s.value(name); err != nil {
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

// stringEnd is the offset just past the JSON string starting at start: the first quote after it
// that an odd number of backslashes does not escape (json.Valid vouched for the string).
func (s *scrubber) stringEnd(start int) (int, error) {
	if start >= len(s.in) || s.in[start] != '"' {
		return 0, fmt.Errorf("expected a string at byte %d", start)
	}
	for i := start + 1; i < len(s.in); {
		k := bytes.IndexByte(s.in[i:], '"')
		if k < 0 {
			break
		}
		q := i + k
		escapes := 0
		for j := q - 1; j > start && s.in[j] == '\\'; j-- {
			escapes++
		}
		if escapes%2 == 0 {
			return q + 1, nil
		}
		i = q + 1
	}
	return 0, errUnexpectedEnd
}

// memberName is a member name (a JSON string, quotes included) unquoted, with its ASCII letters in
// lower case; "" when it cannot be read (json.Valid vouched for it, so never).
func memberName(quoted []byte) string {
	var name string
	if bytes.IndexByte(quoted, '\\') < 0 {
		name = string(quoted[1 : len(quoted)-1])
	} else if json.Unmarshal(quoted, &name) != nil {
		return ""
	}
	return asciiLower(name)
}

// asciiLower lowers ASCII letters only (as mayHoldCardData's bytes.ToLower does for them).
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// cardToken matches a Crowdtilt card or bank token ("CCP6D6E7E…", "BAP688…"), cardNumber a run of
// 13 to 19 digits, possibly grouped by spaces or dashes, that may be a card number.
var (
	cardToken  = regexp.MustCompile(`\b(?:CCP|BAP)[0-9A-Fa-f]{3,}\b`)
	cardNumber = regexp.MustCompile(`\b\d(?:[ -]?\d){12,18}\b`)
)

// redactCardData replaces anything in s shaped like a card token or a card number (that passes
// the Luhn check), should an API message quote one.
func redactCardData(s string) string {
	s = cardToken.ReplaceAllString(s, "[redacted]")
	return cardNumber.ReplaceAllStringFunc(s, func(m string) string {
		if luhn(m) {
			return "[redacted]"
		}
		return m
	})
}

// luhn reports whether the digits of s pass the Luhn check.
func luhn(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
