package transform_test

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ccsync/ccsync/transform"
	"github.com/ccsync/ccsync/transform/transformtest"
)

func TestParseDecimal(t *testing.T) {
	cases := []struct {
		lit       string
		prec, sc  int32
		want      string // exact rendering at the scale; "" when an error is expected
		wantError error
	}{
		{lit: "0", want: "0.000000000"},
		{lit: "-0", want: "0.000000000"},
		{lit: "50", want: "50.000000000"},
		{lit: "105.15", want: "105.150000000"},
		{lit: "29.95", want: "29.950000000"},
		{lit: "-0.05", want: "-0.050000000"},
		{lit: "1e2", want: "100.000000000"},
		{lit: "1.5e2", want: "150.000000000"},
		{lit: "1E+2", want: "100.000000000"},
		{lit: "1.23E-2", want: "0.012300000"},
		{lit: "0.000000001", want: "0.000000001"},
		{lit: "0.00000000100000", want: "0.000000001"},
		{lit: "1234.5e-12", wantError: transform.ErrDecimalFraction},
		{lit: "10e-10", want: "0.000000001"},
		{lit: "0e999999999999999999999", want: "0.000000000"},
		{lit: "0.0e-99", want: "0.000000000"},
		{lit: "99999999999999999999999999999.999999999", want: "99999999999999999999999999999.999999999"},
		{lit: "-99999999999999999999999999999.999999999", want: "-99999999999999999999999999999.999999999"},
		{lit: "100000000000000000000000000000", wantError: transform.ErrDecimalOverflow},
		{lit: "0.0000000001", wantError: transform.ErrDecimalFraction},
		{lit: "1e40", wantError: transform.ErrDecimalOverflow},
		{lit: "1e-999999999999", wantError: transform.ErrDecimalFraction},
		{lit: "1e999999999999", wantError: transform.ErrDecimalOverflow},
		{lit: "abc", wantError: transform.ErrDecimalSyntax},
		{lit: "", wantError: transform.ErrDecimalSyntax},
		{lit: "+1", wantError: transform.ErrDecimalSyntax},
		{lit: "01", wantError: transform.ErrDecimalSyntax},
		{lit: "-", wantError: transform.ErrDecimalSyntax},
		{lit: ".5", wantError: transform.ErrDecimalSyntax},
		{lit: "1.", wantError: transform.ErrDecimalSyntax},
		{lit: "1e", wantError: transform.ErrDecimalSyntax},
		{lit: "1e+", wantError: transform.ErrDecimalSyntax},
		{lit: " 1", wantError: transform.ErrDecimalSyntax},
		{lit: "1 ", wantError: transform.ErrDecimalSyntax},
		{lit: "0x10", wantError: transform.ErrDecimalSyntax},
		{lit: "NaN", wantError: transform.ErrDecimalSyntax},
		{lit: "1_000", wantError: transform.ErrDecimalSyntax},
		{lit: `"1"`, wantError: transform.ErrDecimalSyntax},
		// Other precisions and scales.
		{lit: "123.45", prec: 5, sc: 2, want: "123.45"},
		{lit: "1234.5", prec: 5, sc: 2, wantError: transform.ErrDecimalOverflow},
		{lit: "1.005", prec: 5, sc: 2, wantError: transform.ErrDecimalFraction},
		{lit: "12345678901234567890123456789012345678", prec: 38, sc: 0, want: "12345678901234567890123456789012345678"},
		{lit: "-99999999999999999999999999999999999999", prec: 38, sc: 0, want: "-99999999999999999999999999999999999999"},
		{lit: "1e38", prec: 38, sc: 0, wantError: transform.ErrDecimalOverflow},
		{lit: "1", prec: 0, sc: 0, wantError: errAny},
		{lit: "1", prec: 39, sc: 0, wantError: errAny},
		{lit: "1", prec: 5, sc: 6, wantError: errAny},
	}
	for _, tc := range cases {
		prec, sc := tc.prec, tc.sc
		if prec == 0 && sc == 0 && tc.wantError != errAny {
			prec, sc = 38, 9
		}
		n, err := transform.ParseDecimal(tc.lit, prec, sc)
		switch {
		case tc.wantError == errAny:
			if err == nil {
				t.Errorf("ParseDecimal(%q, %d, %d) succeeded, want an error", tc.lit, prec, sc)
			}
		case tc.wantError != nil:
			if !errors.Is(err, tc.wantError) {
				t.Errorf("ParseDecimal(%q, %d, %d) error = %v, want %v", tc.lit, prec, sc, err, tc.wantError)
			}
		case err != nil:
			t.Errorf("ParseDecimal(%q, %d, %d): %v", tc.lit, prec, sc, err)
		default:
			if got := transformtest.DecimalString(n, int(sc)); got != tc.want {
				t.Errorf("ParseDecimal(%q, %d, %d) = %s, want %s", tc.lit, prec, sc, got, tc.want)
			}
		}
		if err != nil && len(tc.lit) > 2 && strings.Contains(err.Error(), tc.lit) {
			t.Errorf("the error of ParseDecimal(%q) holds the literal: %v", tc.lit, err)
		}
	}
}

var errAny = errors.New("any error")

// FuzzParseDecimal checks ParseDecimal against math/big: a JSON number parses exactly to its value
// times 10^9 when that is an integer of at most 38 digits, and fails otherwise; anything else is a
// syntax error; and a parsed value rendered back parses to itself.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0", "50", "105.15", "1e2", "1.23E-2", "0.000000001", "0.0000000001", "1e40",
		"abc", "+1", "01", "-0.05", "29.95", "1.5e2", "99999999999999999999999999999.999999999", "1e-9", "12e-10", "0e99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		n, err := transform.ParseDecimal(lit, 38, 9)
		if !isJSONNumber(lit) {
			if !errors.Is(err, transform.ErrDecimalSyntax) {
				t.Fatalf("ParseDecimal(%q) = %v, %v; want a syntax error", lit, n.BigInt(), err)
			}
			return
		}
		want, wantErr := expectedDecimal(lit)
		if wantErr != nil {
			if !errors.Is(err, wantErr) {
				t.Fatalf("ParseDecimal(%q) = %v, %v; want error %v", lit, n.BigInt(), err, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseDecimal(%q): %v; want %v", lit, err, want)
		}
		if n.BigInt().Cmp(want) != 0 {
			t.Fatalf("ParseDecimal(%q) = %v ×10^-9, want %v", lit, n.BigInt(), want)
		}
		s := transformtest.DecimalString(n, 9)
		back, err := transform.ParseDecimal(s, 38, 9)
		if err != nil || back != n {
			t.Fatalf("rendering %q back as %q parses to %v, %v", lit, s, back.BigInt(), err)
		}
	})
}

func isJSONNumber(s string) bool {
	if s == "" || !(s[0] == '-' || s[0] >= '0' && s[0] <= '9') || !(s[len(s)-1] >= '0' && s[len(s)-1] <= '9') {
		return false
	}
	return json.Valid([]byte(s))
}

var (
	ten         = big.NewInt(10)
	scaleFactor = new(big.Rat).SetInt(new(big.Int).Exp(ten, big.NewInt(9), nil))
	limit38     = new(big.Int).Exp(ten, big.NewInt(38), nil)
)

// expectedDecimal is the unscaled value of a JSON number at scale 9, computed with math/big, or
// the error ParseDecimal must return.
func expectedDecimal(lit string) (*big.Int, error) {
	mant, exp, hasExp := strings.Cut(strings.ToLower(lit), "e")
	if hasExp {
		// Keep big.Rat away from huge powers of ten: beyond ±1000 the answer is known.
		e := strings.TrimLeft(strings.TrimLeft(exp, "+-"), "0")
		if len(e) > 4 {
			if strings.Trim(mant, "-0.") == "" {
				return new(big.Int), nil
			}
			if strings.HasPrefix(exp, "-") {
				return nil, transform.ErrDecimalFraction
			}
			return nil, transform.ErrDecimalOverflow
		}
	}
	r, ok := new(big.Rat).SetString(lit)
	if !ok {
		panic("big.Rat rejects the JSON number " + lit)
	}
	r.Mul(r, scaleFactor)
	if !r.IsInt() {
		return nil, transform.ErrDecimalFraction
	}
	v := r.Num()
	if new(big.Int).Abs(v).Cmp(limit38) >= 0 {
		return nil, transform.ErrDecimalOverflow
	}
	return v, nil
}
