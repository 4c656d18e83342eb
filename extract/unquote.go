package extract

import (
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// unquote decodes the JSON string literal s (quotes included) as encoding/json does: escapes
// decoded, an invalid surrogate or an invalid UTF-8 byte replaced by U+FFFD. It appends the
// result to buf and returns it; false when s is not a valid JSON string.
func unquote(buf, s []byte) ([]byte, bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return buf, false
	}
	s = s[1 : len(s)-1]
	for r := 0; r < len(s); {
		switch c := s[r]; {
		case c == '\\':
			r++
			if r >= len(s) {
				return buf, false
			}
			switch s[r] {
			case '"', '\\', '/':
				buf = append(buf, s[r])
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				rr := getu4(s[r-1:])
				if rr < 0 {
					return buf, false
				}
				r += 5
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, getu4(s[r:])); dec != unicode.ReplacementChar {
						r += 6
						buf = utf8.AppendRune(buf, dec)
						continue
					}
					rr = unicode.ReplacementChar
				}
				buf = utf8.AppendRune(buf, rr)
				continue
			default:
				return buf, false
			}
			r++
		case c == '"' || c < ' ':
			return buf, false
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			buf = utf8.AppendRune(buf, rr)
		}
	}
	return buf, true
}

// getu4 decodes the \uXXXX escape at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
