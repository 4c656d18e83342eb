package config

import (
	"errors"
	"fmt"
	"strings"
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
	if err := checkBasicCredential("donately token", d.Token, DonatelyTokenEnv+" or --api-key-file", true); err != nil {
		errs = append(errs, err)
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
	return platformBaseURL(d.URL, DefaultDonatelyURL, "/v2", "API token")
}

// ReadToken reads the token into d.Token: from the file TokenFile names when set (white space
// around it trimmed; an empty file is an error), else from DONATELY_API_TOKEN when set. Errors
// name the setting and the file, never the token.
func (d *Donately) ReadToken(src Source) error {
	if d.TokenFile != "" {
		tok, err := readKeyFile(src, d.TokenFile)
		if err != nil {
			return err
		}
		d.Token = Secret(tok)
		return nil
	}
	readEnvSecret(src, DonatelyTokenEnv, &d.Token)
	return nil
}
