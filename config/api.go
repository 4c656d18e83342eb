package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Regions and their base URLs.
var regionURLs = map[string]string{
	"us":  "https://api.crowdchange.co",
	"ca":  "https://api.crowdchange.ca",
	"dev": "https://api.crowdchange.dev",
}

// API is the CrowdChange API client's configuration (package extract).
type API struct {
	// Region picks the base URL: us, ca or dev. Ignored when URL is set.
	Region string
	// URL is any other base URL (the sandbox, tests). Plain http is refused unless the host is a
	// loopback address.
	URL string
	// Key is the API key: only from CROWDCHANGE_API_KEY or the file KeyFile names, never from the
	// config file or a flag.
	Key     Secret
	KeyFile string
	// Rate is the requests per second allowed to the API; Burst the bucket size.
	Rate  float64
	Burst int
	// PageSize is the `limit` of each request, 1..100.
	PageSize int
	// Timeout bounds one HTTP request, body included.
	Timeout time.Duration
	// MaxAttempts caps the attempts of one request (first try included).
	MaxAttempts int
	// BackoffBase and BackoffMax shape the capped exponential backoff with jitter between
	// attempts when the API sent no Retry-After.
	BackoffBase time.Duration
	BackoffMax  time.Duration
}

// SetDefaults fills unset fields.
func (a *API) SetDefaults() {
	if a.Region == "" && a.URL == "" {
		a.Region = "us"
	}
	if a.Rate == 0 {
		a.Rate = 5
	}
	if a.Burst == 0 {
		a.Burst = 5
	}
	if a.PageSize == 0 {
		a.PageSize = 100
	}
	if a.Timeout == 0 {
		a.Timeout = 60 * time.Second
	}
	if a.MaxAttempts == 0 {
		a.MaxAttempts = 8
	}
	if a.BackoffBase == 0 {
		a.BackoffBase = 500 * time.Millisecond
	}
	if a.BackoffMax == 0 {
		a.BackoffMax = 60 * time.Second
	}
}

// Validate checks the configuration; errors name the key.
func (a API) Validate() error {
	var errs []error
	if _, err := a.BaseURL(); err != nil {
		errs = append(errs, err)
	}
	if !a.Key.IsSet() {
		errs = append(errs, errors.New("api key: not set (CROWDCHANGE_API_KEY or --api-key-file)"))
	}
	if a.Rate <= 0 {
		errs = append(errs, fmt.Errorf("rate: %v must be > 0", a.Rate))
	}
	if a.Burst < 1 {
		errs = append(errs, fmt.Errorf("burst: %d must be >= 1", a.Burst))
	}
	if a.PageSize < 1 || a.PageSize > 100 {
		errs = append(errs, fmt.Errorf("page_size: %d must be in 1..100", a.PageSize))
	}
	if a.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout: %v must be > 0", a.Timeout))
	}
	if a.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("max_attempts: %d must be >= 1", a.MaxAttempts))
	}
	if a.BackoffBase <= 0 || a.BackoffMax < a.BackoffBase {
		errs = append(errs, fmt.Errorf("backoff_base, backoff_max: need 0 < base (%v) <= max (%v)", a.BackoffBase, a.BackoffMax))
	}
	return errors.Join(errs...)
}

// BaseURL is the API's base URL (no trailing slash): URL when set, else the region's.
func (a API) BaseURL() (string, error) {
	if a.URL == "" {
		u, ok := regionURLs[a.Region]
		if !ok {
			return "", fmt.Errorf("region: %q is not one of us, ca, dev", a.Region)
		}
		return u, nil
	}
	u, err := url.Parse(a.URL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("api_url: %q is not an absolute URL", a.URL)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", fmt.Errorf("api_url: plain http is refused for %s: the API key must not cross a network in clear (use https, or a loopback address)", u.Hostname())
		}
	default:
		return "", fmt.Errorf("api_url: scheme %q is not http or https", u.Scheme)
	}
	return strings.TrimRight(a.URL, "/"), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
