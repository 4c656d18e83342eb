package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// This file holds what the platforms' sections (Donately, Crowdtilt) share: the rule of their
// base URL, the checks of a credential sent in HTTP Basic authentication, and the reading of the
// file --api-key-file names.

// platformBaseURL is raw (def when raw is "") without a trailing slash or the version suffix
// (such as "/v2"), which requests add. It must be an absolute URL without a user, query or
// fragment, and https, or plain http to a loopback address only, so that the credentials never
// cross a network in clear; credentials names them in that error ("API token"). Errors name the
// setting api-url and never quote a user part, which may hold a credential.
func platformBaseURL(raw, def, version, credentials string) (string, error) {
	if raw == "" {
		raw = def
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
			return "", fmt.Errorf("api-url: plain http is refused for %s: the %s must not cross a network in clear (use https, or a loopback address)", u.Hostname(), credentials)
		}
	default:
		return "", fmt.Errorf("api-url: scheme %q is not http or https", u.Scheme)
	}
	base := strings.TrimRight(raw, "/")
	base = strings.TrimSuffix(base, version)
	return strings.TrimRight(base, "/"), nil
}

// checkBasicCredential checks a credential sent in HTTP Basic authentication: set (else the error
// says where it comes from, notSet), without white space or control characters, and, for the user
// name (userName), without a colon, which HTTP Basic cannot carry there. Errors start with name
// ("donately token") and never hold the value.
func checkBasicCredential(name string, value Secret, notSet string, userName bool) error {
	v := value.Reveal()
	switch {
	case v == "":
		return fmt.Errorf("%s: not set (%s)", name, notSet)
	case userName && strings.ContainsRune(v, ':'):
		return fmt.Errorf("%s: contains a colon, which HTTP Basic authentication cannot carry in a user name", name)
	case strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return fmt.Errorf("%s: contains white space or control characters", name)
	}
	return nil
}

// readKeyFile reads the file --api-key-file names, white space around its content trimmed. A file
// that cannot be read or is empty is an error naming the setting and the file, never the content.
func readKeyFile(src Source, name string) (string, error) {
	b, err := src.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("api-key-file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("api-key-file: %s is empty", name)
	}
	return s, nil
}

// readEnvSecret sets *dst to the environment variable env, white space around it trimmed, when the
// variable is set; else *dst is left as it is.
func readEnvSecret(src Source, env string, dst *Secret) {
	if v, ok := src.Getenv(env); ok {
		*dst = Secret(strings.TrimSpace(v))
	}
}
