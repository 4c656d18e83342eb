package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// donatelyTestToken is distinctive, so that finding it in an error is a leak.
const donatelyTestToken = "dntly_tok_3c9e1f7a5b"

func TestDonatelyDefaults(t *testing.T) {
	var d Donately
	d.SetDefaults()
	if d.URL != DefaultDonatelyURL {
		t.Errorf("URL = %q, want %q", d.URL, DefaultDonatelyURL)
	}
	if DonatelyTokenEnv != "DONATELY_API_TOKEN" {
		t.Errorf("DonatelyTokenEnv = %q", DonatelyTokenEnv)
	}
}

func TestDonatelyBaseURL(t *testing.T) {
	tests := []struct {
		url     string
		want    string
		wantErr string
	}{
		{"", "https://api.donately.com", ""},
		{"https://api.donately.com/", "https://api.donately.com", ""},
		{"https://api.donately.com/v2", "https://api.donately.com", ""},
		{"https://api.donately.com/v2/", "https://api.donately.com", ""},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"http://localhost:9/v2", "http://localhost:9", ""},
		{"http://[::1]:9", "http://[::1]:9", ""},
		{"http://api.donately.com", "", "api-url: plain http is refused"},
		{"http://10.0.0.8", "", "api-url: plain http is refused"},
		{"ftp://api.donately.com", "", `api-url: scheme "ftp"`},
		{"api.donately.com", "", "api-url: "},
		{"https://user@api.donately.com", "", "api-url: no user"},
		{"https://api.donately.com/?account_id=act_1", "", "api-url: no user, query"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := Donately{URL: tt.url}.BaseURL()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("BaseURL() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestDonatelyValidateNamesTheSettingNeverTheToken(t *testing.T) {
	valid := Donately{URL: DefaultDonatelyURL, Token: donatelyTestToken, Account: "act_ba7d12ab27bb"}
	tests := []struct {
		name string
		mod  func(*Donately)
		want []string // substrings of the error; none: valid
	}{
		{"valid", func(*Donately) {}, nil},
		{"no token", func(d *Donately) { d.Token = "" }, []string{"donately token: not set", DonatelyTokenEnv}},
		{"token with a colon", func(d *Donately) { d.Token = donatelyTestToken + ":x" }, []string{"donately token: contains a colon"}},
		{"token with a space", func(d *Donately) { d.Token = donatelyTestToken + " x" }, []string{"donately token: contains white space"}},
		{"no account", func(d *Donately) { d.Account = "" }, []string{"donately-account: not set"}},
		{"account without prefix", func(d *Donately) { d.Account = "ba7d12ab27bb" }, []string{"donately-account:", "not an account id"}},
		{"account of another kind", func(d *Donately) { d.Account = "cmp_1a2b3c4d5e6f" }, []string{"donately-account:"}},
		{"account prefix only", func(d *Donately) { d.Account = "act_" }, []string{"donately-account:"}},
		{"account with a header break", func(d *Donately) { d.Account = "act_1\r\nX-Evil: 1" }, []string{"donately-account:"}},
		{"plain http", func(d *Donately) { d.URL = "http://api.donately.com" }, []string{"api-url:"}},
		{"everything wrong at once", func(d *Donately) { d.URL = "ftp://x"; d.Token = ""; d.Account = "x" },
			[]string{"api-url:", "donately token:", "donately-account:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := valid
			tt.mod(&d)
			checkValidateError(t, d.Validate(), tt.want, donatelyTestToken)
		})
	}
}

// checkValidateError checks what Validate returned: nil when want is empty, else an error holding
// every string of want and none of the secrets.
func checkValidateError(t *testing.T, err error, want []string, secrets ...string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("Validate() = %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatal("Validate() = nil, want an error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q holds a credential", err)
		}
	}
}

func TestDonatelyReadToken(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		files   map[string]string
		want    Secret
		wantErr string
	}{
		{"none", "", nil, nil, "", ""},
		{"env", "", map[string]string{DonatelyTokenEnv: " t-env\n"}, nil, "t-env", ""},
		{"file beats env", "tok.txt", map[string]string{DonatelyTokenEnv: "t-env"}, map[string]string{"tok.txt": " t-file \n"}, "t-file", ""},
		{"empty file", "tok.txt", nil, map[string]string{"tok.txt": " \n"}, "", "api-key-file: tok.txt is empty"},
		{"missing file", "nope.txt", nil, nil, "", "api-key-file: open nope.txt"},
		{"the CrowdChange key is not the Donately token", "", map[string]string{APIKeyEnv: "k"}, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Donately{TokenFile: tt.file}
			err := d.ReadToken(fakeSource{env: tt.env, files: tt.files}.source())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || d.Token != tt.want {
				t.Fatalf("ReadToken: token %q, err %v; want %q", d.Token.Reveal(), err, tt.want.Reveal())
			}
		})
	}
}

func TestDonatelyTokenNeverPrints(t *testing.T) {
	d := Donately{URL: DefaultDonatelyURL, Token: donatelyTestToken, Account: "act_1"}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(d), fmt.Sprintf("%v %+v %#v %s", d, d, d, d), string(b)} {
		if strings.Contains(s, donatelyTestToken) {
			t.Errorf("formatted configuration holds the token: %s", s)
		}
	}
}
