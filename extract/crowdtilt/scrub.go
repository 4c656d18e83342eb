package crowdtilt

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"slices"

	"github.com/ccsync/ccsync/extract"
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
// removed, as extract.RemoveMembers does: a body without any comes back unchanged (the same
// slice); a body that is not valid JSON is an error, which never quotes the body.
func removeCardData(body []byte) ([]byte, int, error) {
	if !mayHoldCardData(body) {
		if !json.Valid(body) {
			return nil, 0, errors.New("not valid JSON (cut short?)")
		}
		return body, 0, nil
	}
	return extract.RemoveMembers(body, func(parent string, name []byte) bool { return isSecretMember(parent, string(name)) })
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
