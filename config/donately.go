package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// DonatelyTokenEnv is the only environment variable the Donately API token is read from (besides
// the token file).
const DonatelyTokenEnv = "DONATELY_API_TOKEN"

// DefaultDonatelyURL is the Donately API's base URL.
const DefaultDonatelyURL = "https://api.donately.com"

// Donately is the Donately API client's configuration (package extract/donately). The rate
// limit, timeout, attempts and backoff are those of API: every platform of a run shares them.
//
// Its settings are named api-url, api-key-file and donately-account; the token has no
// setting: it comes only from DONATELY_API_TOKEN or the token file (ReadToken), never from a flag
// or the config file, and it is never printed.
type Donately struct {
	// URL is the API's base URL, without /v2 (default DefaultDonatelyURL; a trailing /v2 is
	// accepted and dropped). Plain http is refused unless the host is a loopback address.
	URL string
	// Token is the API token, sent as the user name of HTTP Basic authentication.
	Token Secret
	// TokenFile names a file holding the token; it wins over DONATELY_API_TOKEN.
	TokenFile string
	// Account is the account to read (Donately-Account): "act_" and letters or digits.
	Account string
}

// SetDefaults fills unset fields.
func (d *Donately) SetDefaults() {
	if d.URL == "" {
		d.URL = DefaultDonatelyURL
	}
}

// Validate checks the configuration; errors name the setting, never the token.
func (d Donately) Validate() error {
	var errs []error
	if _, err := d.BaseURL(); err != nil {
		errs = append(errs, err)
	}
	tok := d.Token.Reveal()
	switch {
	case tok == "":
		errs = append(errs, fmt.Errorf("donately token: not set (%s or --api-key-file)", DonatelyTokenEnv))
	case strings.ContainsRune(tok, ':'):
		errs = append(errs, errors.New("donately token: contains a colon, which HTTP Basic authentication cannot carry in a user name"))
	case strings.IndexFunc(tok, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		errs = append(errs, errors.New("donately token: contains white space or control characters"))
	}
	if err := validDonatelyAccount(d.Account); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func validDonatelyAccount(a string) error {
	if a == "" {
		return errors.New("donately-account: not set (the act_... id of the account to read)")
	}
	rest, ok := strings.CutPrefix(a, "act_")
	if !ok || rest == "" {
		return fmt.Errorf("donately-account: %q is not an account id (act_ followed by letters or digits)", a)
	}
	for _, r := range rest {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Errorf("donately-account: %q is not an account id (act_ followed by letters or digits)", a)
		}
	}
	return nil
}

// BaseURL is the API's base URL without a trailing slash or /v2 (requests add /v2/...). The rule
// is API's: https, or plain http to a loopback address only, so that the token never crosses a
// network in clear.
func (d Donately) BaseURL() (string, error) {
	raw := d.URL
	if raw == "" {
		raw = DefaultDonatelyURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("api-url: %q is not an absolute URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		// Not quoted: a user part may hold a credential.
		return "", errors.New("api-url: no user, query or fragment allowed in the base URL")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", fmt.Errorf("api-url: plain http is refused for %s: the API token must not cross a network in clear (use https, or a loopback address)", u.Hostname())
		}
	default:
		return "", fmt.Errorf("api-url: scheme %q is not http or https", u.Scheme)
	}
	base := strings.TrimRight(raw, "/")
	base = strings.TrimSuffix(base, "/v2")
	return strings.TrimRight(base, "/"), nil
}

// ReadToken reads the token into d.Token: from the file TokenFile names when set (white space
// around it trimmed; an empty file is an error), else from DONATELY_API_TOKEN when set. Errors
// name the setting and the file, never the token.
func (d *Donately) ReadToken(src Source) error {
	if d.TokenFile != "" {
		b, err := src.ReadFile(d.TokenFile)
		if err != nil {
			return fmt.Errorf("api-key-file: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return fmt.Errorf("api-key-file: %s is empty", d.TokenFile)
		}
		d.Token = Secret(tok)
		return nil
	}
	if v, ok := src.Getenv(DonatelyTokenEnv); ok {
		d.Token = Secret(strings.TrimSpace(v))
	}
	return nil
}
