package transform

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/apache/arrow/go/v17/arrow/decimal128"
)

// Errors of ParseDecimal. They never carry the literal: amounts must not reach logs.
var (
	// ErrDecimalSyntax: the literal is not a JSON number.
	ErrDecimalSyntax = errors.New("not a JSON number")
	// ErrDecimalFraction: the literal has non-zero digits beyond the scale; money is never rounded.
	ErrDecimalFraction = errors.New("more fractional digits than the scale allows")
	// ErrDecimalOverflow: the value has more integer digits than precision - scale allows.
	ErrDecimalOverflow = errors.New("value does not fit the precision")
)

// maxExponent bounds the exponent parsed from a literal; any larger magnitude is an overflow or
// an excess of fractional digits whatever the digits are, unless they are all zeros.
const maxExponent = 1 << 20

// ParseDecimal parses a JSON number literal (an optional minus sign, an integer part without
// leading zeros, an optional fraction and an optional exponent: "-0.05", "105.15", "1.5e2") into a
// decimal128 of the given precision and scale, exactly: the value is unscaled value × 10^-scale.
//
// It never rounds: a literal with non-zero digits beyond scale is an error (ErrDecimalFraction), as
// is a value with more than precision digits once scaled (ErrDecimalOverflow) or a literal that is
// not a JSON number (ErrDecimalSyntax, for example "+1", "01", ".5", "1.", "abc"). Errors never
// contain the literal. No floating point is involved.
func ParseDecimal(lit string, precision, scale int32) (decimal128.Num, error) {
	if precision < 1 || precision > 38 || scale < 0 || scale > precision {
		return decimal128.Num{}, fmt.Errorf("decimal(%d, %d): unsupported precision or scale", precision, scale)
	}
	neg, d, exp, err := scanNumber(lit)
	if err != nil {
		return decimal128.Num{}, err
	}
	// d are the significant digits of the literal; the value is d × 10^exp, scaled d × 10^shift.
	shift := exp + int64(scale)
	if shift < 0 {
		// The last -shift digits fall below the scale: they must all be zeros.
		drop := min(-shift, int64(d.len()))
		for k := int64(d.len()) - drop; k < int64(d.len()); k++ {
			if d.at(int(k)) != '0' {
				return decimal128.Num{}, ErrDecimalFraction
			}
		}
		d = d.truncate(d.len() - int(drop))
		shift = 0
	}
	if d.len() == 0 {
		return decimal128.Num{}, nil
	}
	if int64(d.len())+shift > int64(precision) {
		return decimal128.Num{}, ErrDecimalOverflow
	}
	var hi, lo uint64
	for k := 0; k < d.len(); k++ {
		hi, lo = mul10add(hi, lo, uint64(d.at(k)-'0'))
	}
	for ; shift > 0; shift-- {
		hi, lo = mul10add(hi, lo, 0)
	}
	n := decimal128.New(int64(hi), lo)
	if neg {
		n = n.Negate()
	}
	return n, nil
}

// mul10add returns (hi, lo) × 10 + d as a 128-bit unsigned integer. Callers keep the result below
// 10^38 < 2^127, so nothing overflows.
func mul10add(hi, lo, d uint64) (uint64, uint64) {
	carry, lo := bits.Mul64(lo, 10)
	hi = hi*10 + carry
	lo, c := bits.Add64(lo, d, 0)
	return hi + c, lo
}

// digitSeq is a run of decimal digits split in two substrings of a literal (the integer part and
// the fraction, without the '.'), so that parsing allocates nothing.
type digitSeq struct{ a, b string }

func (d digitSeq) len() int { return len(d.a) + len(d.b) }

func (d digitSeq) at(i int) byte {
	if i < len(d.a) {
		return d.a[i]
	}
	return d.b[i-len(d.a)]
}

// truncate keeps the first n digits.
func (d digitSeq) truncate(n int) digitSeq {
	if n <= len(d.a) {
		return digitSeq{a: d.a[:n]}
	}
	return digitSeq{a: d.a, b: d.b[:n-len(d.a)]}
}

// scanNumber checks lit against the JSON number grammar (RFC 8259 §6) and returns its sign, its
// significant digits (integer then fraction digits, leading zeros removed; none for zero) and the
// power of ten they are to be multiplied by.
func scanNumber(lit string) (neg bool, digits digitSeq, exp int64, err error) {
	i := 0
	if i < len(lit) && lit[i] == '-' {
		neg = true
		i++
	}
	intStart := i
	switch {
	case i < len(lit) && lit[i] == '0':
		i++
	case i < len(lit) && lit[i] >= '1' && lit[i] <= '9':
		for i < len(lit) && isDigit(lit[i]) {
			i++
		}
	default:
		return false, digitSeq{}, 0, ErrDecimalSyntax
	}
	intPart := lit[intStart:i]
	var frac string
	if i < len(lit) && lit[i] == '.' {
		i++
		start := i
		for i < len(lit) && isDigit(lit[i]) {
			i++
		}
		if i == start {
			return false, digitSeq{}, 0, ErrDecimalSyntax
		}
		frac = lit[start:i]
	}
	if i < len(lit) && (lit[i] == 'e' || lit[i] == 'E') {
		i++
		expNeg := false
		if i < len(lit) && (lit[i] == '+' || lit[i] == '-') {
			expNeg = lit[i] == '-'
			i++
		}
		start := i
		for i < len(lit) && isDigit(lit[i]) {
			if exp < maxExponent {
				exp = exp*10 + int64(lit[i]-'0')
			}
			i++
		}
		if i == start {
			return false, digitSeq{}, 0, ErrDecimalSyntax
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(lit) {
		return false, digitSeq{}, 0, ErrDecimalSyntax
	}
	exp -= int64(len(frac))
	digits = digitSeq{a: intPart, b: frac}
	for digits.len() > 0 && digits.at(0) == '0' {
		if len(digits.a) > 0 {
			digits.a = digits.a[1:]
		} else {
			digits.b = digits.b[1:]
		}
	}
	return neg, digits, exp, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
