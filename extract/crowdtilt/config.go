package crowdtilt

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
)

// The environment variables the credentials come from (read by the command line, not by this
// package); errors name them.
const (
	KeyEnv    = "CROWDTILT_API_KEY"
	SecretEnv = "CROWDTILT_API_SECRET"
)

// DefaultBaseURL is the API's base URL: the only one the seed documents (its sandbox
// environment, "https://api-sandbox.crowdtilt.com/v1"), without /v1.
const DefaultBaseURL = "https://api-sandbox.crowdtilt.com"

// Config is the Crowdtilt client's configuration. The command line fills it (--api-url,
// CROWDTILT_API_KEY, CROWDTILT_API_SECRET, and the shared HTTP settings) until package config
// has a Crowdtilt section.
type Config struct {
	// BaseURL is the API's base URL, without /v1 (default DefaultBaseURL; a trailing /v1 is
	// accepted and dropped). Plain http is refused unless the host is a loopback address: the
	// credentials must never cross a network in clear.
	BaseURL string
	// Key and Secret are the API credentials, sent as the user name and password of HTTP Basic
	// authentication. They are config.Secret: no formatting of a Config prints them.
	Key, Secret config.Secret
	// API holds the HTTP settings every platform of a run shares: rate, burst, timeout, attempts
	// and backoff. Its CrowdChange key, region, URL and page size are not used.
	API config.API
}

// SetDefaults fills unset fields.
func (c *Config) SetDefaults() {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.API.SetDefaults()
}

// Validate checks the configuration; errors name the setting, never a credential.
func (c Config) Validate() error {
	var errs []error
	if _, err := c.Base(); err != nil {
		errs = append(errs, err)
	}
	key, secret := c.Key.Reveal(), c.Secret.Reveal()
	switch {
	case key == "":
		errs = append(errs, fmt.Errorf("crowdtilt key: not set (%s)", KeyEnv))
	case strings.ContainsRune(key, ':'):
		errs = append(errs, errors.New("crowdtilt key: contains a colon, which HTTP Basic authentication cannot carry in a user name"))
	case strings.IndexFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		errs = append(errs, errors.New("crowdtilt key: contains white space or control characters"))
	}
	switch {
	case secret == "":
		errs = append(errs, fmt.Errorf("crowdtilt secret: not set (%s)", SecretEnv))
	case strings.IndexFunc(secret, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		errs = append(errs, errors.New("crowdtilt secret: contains white space or control characters"))
	}
	if err := extract.HTTPConfigOf(platform, c.API).Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Base is the API's base URL without a trailing slash or /v1 (requests add /v1/…): https, or
// plain http to a loopback address only.
func (c Config) Base() (string, error) {
	raw := c.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
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
			return "", fmt.Errorf("api-url: plain http is refused for %s: the API credentials must not cross a network in clear (use https, or a loopback address)", u.Hostname())
		}
	default:
		return "", fmt.Errorf("api-url: scheme %q is not http or https", u.Scheme)
	}
	base := strings.TrimRight(raw, "/")
	base = strings.TrimSuffix(base, "/v1")
	return strings.TrimRight(base, "/"), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
