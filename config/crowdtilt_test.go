package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// crowdtiltTestKey and crowdtiltTestSecret are distinctive, so that finding them in an error or a
// printout is a leak.
const (
	crowdtiltTestKey    = "ct_key_5f0e2a91"
	crowdtiltTestSecret = "ct_secret_b7c4d8e3"
)

func TestCrowdtiltDefaults(t *testing.T) {
	var c Crowdtilt
	c.SetDefaults()
	if c.URL != DefaultCrowdtiltURL {
		t.Errorf("URL = %q, want %q", c.URL, DefaultCrowdtiltURL)
	}
	if CrowdtiltKeyEnv != "CROWDTILT_API_KEY" || CrowdtiltSecretEnv != "CROWDTILT_API_SECRET" {
		t.Errorf("CrowdtiltKeyEnv, CrowdtiltSecretEnv = %q, %q", CrowdtiltKeyEnv, CrowdtiltSecretEnv)
	}
	c.Key, c.Secret = crowdtiltTestKey, crowdtiltTestSecret
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() of the defaults with credentials = %v", err)
	}
	var whole Config
	whole.SetDefaults()
	if whole.Crowdtilt.URL != DefaultCrowdtiltURL {
		t.Errorf("Config.SetDefaults: Crowdtilt.URL = %q", whole.Crowdtilt.URL)
	}
}

func TestCrowdtiltBaseURL(t *testing.T) {
	tests := []struct {
		url     string
		want    string
		wantErr string
	}{
		{"", "https://api-sandbox.crowdtilt.com", ""},
		{"https://api-sandbox.crowdtilt.com/v1", "https://api-sandbox.crowdtilt.com", ""},
		{"https://api.example.org/v1/", "https://api.example.org", ""},
		{"https://api.example.org/v2", "https://api.example.org/v2", ""},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080", ""},
		{"http://localhost:1/v1", "http://localhost:1", ""},
		{"http://[::1]:9", "http://[::1]:9", ""},
		{"http://api.example.org", "", "api-url: plain http is refused"},
		{"http://10.0.0.8", "", "api-url: plain http is refused"},
		{"ftp://api.example.org", "", `api-url: scheme "ftp"`},
		{"api.example.org", "", "is not an absolute URL"},
		{"https://" + crowdtiltTestKey + ":" + crowdtiltTestSecret + "@api.example.org", "", "api-url: no user"},
		{"https://api.example.org/?key=1", "", "api-url: no user, query"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := Crowdtilt{URL: tt.url}.BaseURL()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), crowdtiltTestKey) || strings.Contains(err.Error(), crowdtiltTestSecret) {
					t.Errorf("error %q holds a credential", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("BaseURL() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestCrowdtiltValidateNamesTheSettingNeverTheCredentials(t *testing.T) {
	valid := Crowdtilt{URL: DefaultCrowdtiltURL, Key: crowdtiltTestKey, Secret: crowdtiltTestSecret}
	tests := []struct {
		name string
		mod  func(*Crowdtilt)
		want []string // substrings of the error; none: valid
	}{
		{"valid", func(*Crowdtilt) {}, nil},
		{"a colon in the secret", func(c *Crowdtilt) { c.Secret = crowdtiltTestSecret + ":x" }, nil},
		{"no key", func(c *Crowdtilt) { c.Key = "" }, []string{"crowdtilt key: not set", CrowdtiltKeyEnv, "--api-key-file"}},
		{"no secret", func(c *Crowdtilt) { c.Secret = "" }, []string{"crowdtilt secret: not set", CrowdtiltSecretEnv, "--api-key-file"}},
		{"a colon in the key", func(c *Crowdtilt) { c.Key = crowdtiltTestKey + ":x" }, []string{"crowdtilt key: contains a colon"}},
		{"a space in the key", func(c *Crowdtilt) { c.Key = crowdtiltTestKey + " x" }, []string{"crowdtilt key: contains white space"}},
		{"a control character in the key", func(c *Crowdtilt) { c.Key = crowdtiltTestKey + "\x00" }, []string{"crowdtilt key: contains white space or control"}},
		{"a space in the secret", func(c *Crowdtilt) { c.Secret = crowdtiltTestSecret + " x" }, []string{"crowdtilt secret: contains white space"}},
		{"a line break in the secret", func(c *Crowdtilt) { c.Secret = crowdtiltTestSecret + "\r\nX-Evil: 1" }, []string{"crowdtilt secret: contains white space"}},
		{"plain http", func(c *Crowdtilt) { c.URL = "http://api.example.org" }, []string{"api-url: plain http", "API credentials"}},
		{"a user in the URL", func(c *Crowdtilt) { c.URL = "https://" + crowdtiltTestKey + ":x@api.example.org" }, []string{"api-url: no user"}},
		{"not a URL", func(c *Crowdtilt) { c.URL = "api.example.org" }, []string{"absolute"}},
		{"everything wrong at once", func(c *Crowdtilt) { c.URL = "ftp://x"; c.Key = ""; c.Secret = "" },
			[]string{"api-url:", "crowdtilt key:", "crowdtilt secret:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.mod(&c)
			checkValidateError(t, c.Validate(), tt.want, crowdtiltTestKey, crowdtiltTestSecret)
		})
	}
}

func TestCrowdtiltReadCredentials(t *testing.T) {
	const file = "ct.txt"
	env := map[string]string{CrowdtiltKeyEnv: " k-env\n", CrowdtiltSecretEnv: "\ts-env "}
	tests := []struct {
		name       string
		keyFile    string
		env        map[string]string
		files      map[string]string
		key        Secret
		secret     Secret
		wantErr    string
		notInError string // the file's content, which no error may hold
	}{
		{name: "none"},
		{name: "env, trimmed", env: env, key: "k-env", secret: "s-env"},
		{name: "key only", env: map[string]string{CrowdtiltKeyEnv: "k-env"}, key: "k-env"},
		{name: "secret only", env: map[string]string{CrowdtiltSecretEnv: "s-env"}, secret: "s-env"},
		{name: "file beats env", keyFile: file, env: env, files: map[string]string{file: " k-file:s-file \n"}, key: "k-file", secret: "s-file"},
		{name: "split at the first colon", keyFile: file, files: map[string]string{file: "k-file:s:e:c\n"}, key: "k-file", secret: "s:e:c"},
		{name: "empty file", keyFile: file, env: env, files: map[string]string{file: " \n"}, wantErr: "api-key-file: ct.txt is empty"},
		{name: "no colon", keyFile: file, env: env, files: map[string]string{file: "k-file-s-file-x9\n"}, wantErr: "api-key-file: ct.txt does not hold key:secret", notInError: "k-file-s-file-x9"},
		{name: "empty key", keyFile: file, files: map[string]string{file: ":s-file-x9\n"}, wantErr: "api-key-file: ct.txt: the key before the colon is empty", notInError: "s-file-x9"},
		{name: "empty secret", keyFile: file, files: map[string]string{file: "k-file-x9:\n"}, wantErr: "api-key-file: ct.txt: the secret after the colon is empty", notInError: "k-file-x9"},
		{name: "missing file", keyFile: "nope.txt", env: env, wantErr: "api-key-file: open nope.txt"},
		{name: "the CrowdChange and Donately variables are not the credentials", env: map[string]string{APIKeyEnv: "k", DonatelyTokenEnv: "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Crowdtilt{KeyFile: tt.keyFile}
			err := c.ReadCredentials(fakeSource{env: tt.env, files: tt.files}.source())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if tt.notInError != "" && strings.Contains(err.Error(), tt.notInError) {
					t.Errorf("error %q holds the file's content", err)
				}
				if c.Key.IsSet() || c.Secret.IsSet() {
					t.Errorf("a failed read set the credentials")
				}
				return
			}
			if err != nil || c.Key != tt.key || c.Secret != tt.secret {
				t.Fatalf("ReadCredentials: key %q, secret %q, err %v; want %q, %q",
					c.Key.Reveal(), c.Secret.Reveal(), err, tt.key.Reveal(), tt.secret.Reveal())
			}
		})
	}
}

func TestCrowdtiltCredentialsNeverPrint(t *testing.T) {
	c := Crowdtilt{URL: DefaultCrowdtiltURL, Key: crowdtiltTestKey, Secret: crowdtiltTestSecret}
	whole := Config{Source: SourceCrowdtilt, Crowdtilt: c}
	b, err := json.Marshal(whole)
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fmt.Sprintf("%v %+v %#v", whole, whole, whole), string(b)}
	for _, kv := range Effective(&whole, "") {
		outs = append(outs, kv[0]+"="+kv[1])
	}
	for _, s := range outs {
		if strings.Contains(s, crowdtiltTestKey) || strings.Contains(s, crowdtiltTestSecret) {
			t.Errorf("formatted configuration holds a credential: %s", s)
		}
	}
}

// --source crowdtilt takes --api-url and --api-key-file (shared with the other platforms) into
// Config.Crowdtilt, and its credentials from its own variables or the key file.
func TestCrowdtiltSettings(t *testing.T) {
	env := map[string]string{
		CrowdtiltKeyEnv: crowdtiltTestKey, CrowdtiltSecretEnv: crowdtiltTestSecret + "\n",
		APIKeyEnv: "crowdchange-key", DonatelyTokenEnv: "donately-token",
	}
	t.Run("env", func(t *testing.T) {
		c, _, err := parse(t, "backfill", []string{"--source", "crowdtilt", "--api-url", "http://127.0.0.1:9/v1"}, fakeSource{env: env})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.ValidateSource(); err != nil {
			t.Errorf("ValidateSource() = %v", err)
		}
		if c.Crowdtilt.URL != "http://127.0.0.1:9/v1" || c.Crowdtilt.Key != crowdtiltTestKey || c.Crowdtilt.Secret != crowdtiltTestSecret {
			t.Errorf("Crowdtilt = URL %q, key %q, secret %q", c.Crowdtilt.URL, c.Crowdtilt.Key.Reveal(), c.Crowdtilt.Secret.Reveal())
		}
		if base, err := c.Crowdtilt.BaseURL(); err != nil || base != "http://127.0.0.1:9" {
			t.Errorf("BaseURL() = %q, %v", base, err)
		}
		if err := c.Crowdtilt.Validate(); err != nil {
			t.Errorf("Validate() = %v", err)
		}
		if c.API.Key.IsSet() || c.Donately.Token.IsSet() {
			t.Errorf("--source crowdtilt read another platform's credential")
		}
	})
	t.Run("key file and the environment's URL", func(t *testing.T) {
		src := fakeSource{
			env:   map[string]string{"CCSYNC_SOURCE": "crowdtilt", "CCSYNC_API_URL": "https://api.example.org/v1", CrowdtiltKeyEnv: "k-env", CrowdtiltSecretEnv: "s-env"},
			files: map[string]string{"ct.txt": "k-file:s:file\n"},
		}
		c, _, err := parse(t, "sync", []string{"--api-key-file", "ct.txt"}, src)
		if err != nil {
			t.Fatal(err)
		}
		if c.Crowdtilt.URL != "https://api.example.org/v1" || c.Crowdtilt.KeyFile != "ct.txt" || c.Crowdtilt.Key != "k-file" || c.Crowdtilt.Secret != "s:file" {
			t.Errorf("Crowdtilt = URL %q, file %q, key %q, secret %q", c.Crowdtilt.URL, c.Crowdtilt.KeyFile, c.Crowdtilt.Key.Reveal(), c.Crowdtilt.Secret.Reveal())
		}
	})
	t.Run("a bad key file names the setting", func(t *testing.T) {
		_, _, err := parse(t, "backfill", []string{"--source", "crowdtilt", "--api-key-file", "ct.txt"}, fakeSource{files: map[string]string{"ct.txt": "only-a-key-x9"}})
		if err == nil || !strings.Contains(err.Error(), "api-key-file: ct.txt") || strings.Contains(err.Error(), "only-a-key-x9") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("the default URL without --api-url", func(t *testing.T) {
		c, _, err := parse(t, "backfill", []string{"--source", "crowdtilt"}, fakeSource{env: env})
		if err != nil {
			t.Fatal(err)
		}
		if c.Crowdtilt.URL != DefaultCrowdtiltURL {
			t.Errorf("Crowdtilt.URL = %q, want %q", c.Crowdtilt.URL, DefaultCrowdtiltURL)
		}
	})
	t.Run("other sources leave Crowdtilt alone", func(t *testing.T) {
		for _, source := range []string{SourceCrowdChange, SourceDonately} {
			c, _, err := parse(t, "backfill", []string{"--source", source, "--api-url", "http://127.0.0.1:9"}, fakeSource{env: env})
			if err != nil {
				t.Fatal(err)
			}
			if c.Crowdtilt.URL != DefaultCrowdtiltURL || c.Crowdtilt.Key.IsSet() || c.Crowdtilt.Secret.IsSet() {
				t.Errorf("--source %s: Crowdtilt = URL %q, key set %v, secret set %v", source, c.Crowdtilt.URL, c.Crowdtilt.Key.IsSet(), c.Crowdtilt.Secret.IsSet())
			}
		}
	})
}

func TestValidateSource(t *testing.T) {
	for _, source := range []string{SourceCrowdChange, SourceDonately, SourceCrowdtilt} {
		if err := (&Config{Source: source}).ValidateSource(); err != nil {
			t.Errorf("ValidateSource(%q) = %v", source, err)
		}
	}
	err := (&Config{Source: "kickstarter"}).ValidateSource()
	if err == nil || err.Error() != `source: "kickstarter" is not crowdchange, donately or crowdtilt` {
		t.Errorf("ValidateSource(kickstarter) = %v", err)
	}
}
