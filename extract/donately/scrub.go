package donately

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"

	"github.com/ccsync/ccsync/extract"
)

// SecretMember is the member of a donation that holds a credential: the client secret of its
// Stripe payment intent, which lets whoever holds it confirm the payment. It never leaves the
// client: it is removed from every body before anything reads it.
const SecretMember = "payment_intent_secret"

// removeSecrets returns body, a JSON value, without any object member named SecretMember
// (compared case-insensitively, escapes decoded), at any depth, and how many it removed, as
// extract.RemoveMembers does: a body without the member comes back unchanged (the same slice); a
// body that is not valid JSON is an error, which never quotes the body.
func removeSecrets(body []byte) ([]byte, int, error) {
	if !mayHoldSecret(body) {
		if !json.Valid(body) {
			return nil, 0, errors.New("not valid JSON (cut short?)")
		}
		return body, 0, nil
	}
	return extract.RemoveMembers(body, isSecretName)
}

// mayHoldSecret is removeSecrets' fast path: a member name can only match SecretMember when the
// body holds it literally (in some case) or holds an escape.
func mayHoldSecret(body []byte) bool {
	if bytes.IndexByte(body, '\\') >= 0 {
		return true
	}
	return bytes.Contains(bytes.ToLower(body), []byte(SecretMember))
}

// isSecretName tells extract.RemoveMembers to drop SecretMember wherever it stands.
func isSecretName(_ string, name []byte) bool { return string(name) == SecretMember }

// stripeSecret matches a Stripe client secret ("pi_..._secret_..."; setup intents "seti_..."),
// should an API message quote one.
var stripeSecret = regexp.MustCompile(`\b(?:pi|seti)_[A-Za-z0-9]+_secret_[A-Za-z0-9]+`)

// redactStripeSecrets replaces any Stripe client secret in s.
func redactStripeSecrets(s string) string {
	return stripeSecret.ReplaceAllString(s, "[redacted]")
}
