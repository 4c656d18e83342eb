package config

import (
	"errors"
	"fmt"
	"strings"
)

// The only environment variables the Crowdtilt API credentials are read from (besides the key
// file, which wins over them).
const (
	// CrowdtiltKeyEnv holds the API key, the user name of HTTP Basic authentication.
	CrowdtiltKeyEnv = "CROWDTILT_API_KEY"
	// CrowdtiltSecretEnv holds the API secret, the password of HTTP Basic authentication.
	CrowdtiltSecretEnv = "CROWDTILT_API_SECRET"
)

// DefaultCrowdtiltURL is the Crowdtilt API's base URL: the only one the seed documents (its
// sandbox environment, "https://api-sandbox.crowdtilt.com/v1"), without /v1.
const DefaultCrowdtiltURL = "https://api-sandbox.crowdtilt.com"

// Crowdtilt is the Crowdtilt API client's configuration (package extract/crowdtilt). The rate
// limit, timeout, attempts and backoff are those of API: every platform of a run shares them.
//
// Its settings are api-url and api-key-file, shared with the other platforms; the key and the
// secret have no setting: they come only from CROWDTILT_API_KEY and CROWDTILT_API_SECRET or the
// key file (ReadCredentials), never from a flag or the config file, and they are never printed.
type Crowdtilt struct {
	// URL is the API's base URL, without /v1 (default DefaultCrowdtiltURL; a trailing /v1 is
	// accepted and dropped). Plain http is refused unless the host is a loopback address.
	URL string
	// Key and Secret are the API credentials, sent as the user name and the password of HTTP
	// Basic authentication.
	Key, Secret Secret
	// KeyFile names a file holding key:secret; it wins over CROWDTILT_API_KEY and
	// CROWDTILT_API_SECRET.
	KeyFile string
}

// SetDefaults fills unset fields.
func (c *Crowdtilt) SetDefaults() {
	if c.URL == "" {
		c.URL = DefaultCrowdtiltURL
	}
}

// Validate checks the configuration; errors name the setting or the environment variable, never
// a credential.
func (c Crowdtilt) Validate() error {
	var errs []error
	if _, err := c.BaseURL(); err != nil {
		errs = append(errs, err)
	}
	if err := checkBasicCredential("crowdtilt key", c.Key, CrowdtiltKeyEnv+" or --api-key-file", true); err != nil {
		errs = append(errs, err)
	}
	if err := checkBasicCredential("crowdtilt secret", c.Secret, CrowdtiltSecretEnv+" or --api-key-file", false); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// BaseURL is the API's base URL without a trailing slash or /v1 (requests add /v1/...): https, or
// plain http to a loopback address only, so that the credentials never cross a network in clear.
func (c Crowdtilt) BaseURL() (string, error) {
	return platformBaseURL(c.URL, DefaultCrowdtiltURL, "/v1", "API credentials")
}

// ReadCredentials reads the key and the secret into c.Key and c.Secret: from the file KeyFile
// names when set, which holds key:secret (white space around it trimmed, split at the first colon,
// so that the secret may hold colons but the key may not), else from CROWDTILT_API_KEY and
// CROWDTILT_API_SECRET, each when set (white space around it trimmed). An empty file, a file
// without a colon, or an empty key or secret in it is an error. Errors name the setting and the
// file, never its content.
func (c *Crowdtilt) ReadCredentials(src Source) error {
	if c.KeyFile != "" {
		s, err := readKeyFile(src, c.KeyFile)
		if err != nil {
			return err
		}
		key, secret, ok := strings.Cut(s, ":")
		switch {
		case !ok:
			return fmt.Errorf("api-key-file: %s does not hold key:secret (no colon) as --source crowdtilt needs", c.KeyFile)
		case key == "":
			return fmt.Errorf("api-key-file: %s: the key before the colon is empty", c.KeyFile)
		case secret == "":
			return fmt.Errorf("api-key-file: %s: the secret after the colon is empty", c.KeyFile)
		}
		c.Key, c.Secret = Secret(key), Secret(secret)
		return nil
	}
	readEnvSecret(src, CrowdtiltKeyEnv, &c.Key)
	readEnvSecret(src, CrowdtiltSecretEnv, &c.Secret)
	return nil
}
