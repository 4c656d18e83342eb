package crowdchangetest

import (
	"errors"
	"strconv"
	"strings"

	"github.com/ccsync/ccsync/extract"
)

// Money is kept in integer cents inside the sandbox and written as the API writes it: a JSON
// number with at most two decimals and no trailing zeros ("50", "90.5", "105.15", "-12.3").

// money formats cents as the API's literal.
func money(c int64) extract.Money {
	neg := c < 0
	if neg {
		c = -c
	}
	s := strconv.FormatInt(c/100, 10)
	switch f := c % 100; {
	case f == 0:
	case f%10 == 0:
		s += "." + strconv.FormatInt(f/10, 10)
	default:
		s += "." + strconv.FormatInt(f/10, 10) + strconv.FormatInt(f%10, 10)
	}
	if neg {
		s = "-" + s
	}
	return extract.Money(s)
}

// decimal2 formats cents with exactly two decimals ("12345.67", "-0.05"), the form of Sums.
func decimal2(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	f := c % 100
	return sign + strconv.FormatInt(c/100, 10) + "." + strconv.FormatInt(f/10, 10) + strconv.FormatInt(f%10, 10)
}

var errNotCents = errors.New("not a decimal number with at most two decimals")

// parseCents parses a plain decimal literal with at most two significant decimals ("50",
// "105.15", "-3.5", "7.10") into cents. Exponents are refused; it never goes through float64.
func parseCents(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 15 || !allDigits(whole) || !allDigits(frac) {
		return 0, errNotCents
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > 2 {
		return 0, errNotCents
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, errNotCents
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	c := w*100 + f
	if neg {
		c = -c
	}
	return c, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
