package bqtest

import (
	"fmt"
	"strings"
)

// rewriteSQL turns BigQuery GoogleSQL into DuckDB SQL, as far as bqtest's users need:
//
//   - backtick paths `project.dataset.table`, `dataset.table`, `project`.`dataset`.`table`
//     become "dataset"."table" (a leading part equal to the server's project is dropped);
//   - double-quoted strings ("text", a string literal in BigQuery) become single-quoted literals;
//     single-quoted strings have their backslash escapes resolved;
//   - # comments become -- comments.
//
// Everything else is passed through: functions, QUALIFY, window functions and the common
// subset of both dialects work as they are; BigQuery-only functions do not.
func rewriteSQL(sql, project string) (string, error) {
	return rewriteSQLParams(sql, project, func(string) (string, error) {
		return "", fmt.Errorf("query parameters cannot be used here")
	})
}

// rewriteSQLParams is rewriteSQL that also replaces query parameters: @name and positional ?
// (name "") become whatever param returns.
func rewriteSQLParams(sql, project string, param func(name string) (string, error)) (string, error) {
	var out strings.Builder
	i := 0
	n := len(sql)
	for i < n {
		c := sql[i]
		switch {
		case c == '-' && i+1 < n && sql[i+1] == '-', c == '#':
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				end = n - i
			}
			out.WriteString("--")
			if c == '#' {
				out.WriteString(sql[i+1 : i+end])
			} else {
				out.WriteString(sql[i+2 : i+end])
			}
			i += end
		case c == '/' && i+1 < n && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return "", fmt.Errorf("unterminated comment")
			}
			out.WriteString(sql[i : i+2+end+2])
			i += 2 + end + 2
		case c == '\'' || c == '"':
			raw := i > 0 && (sql[i-1] == 'r' || sql[i-1] == 'R') && (i < 2 || !isIdentByte(sql[i-2]))
			if raw {
				// Drop the r prefix already written.
				s := out.String()
				out.Reset()
				out.WriteString(s[:len(s)-1])
			}
			lit, next, err := readStringLiteral(sql, i, raw)
			if err != nil {
				return "", err
			}
			out.WriteString(quoteLiteral(lit))
			i = next
		case c == '`' || isIdentStart(c):
			// An identifier path: parts separated by dots, any of them backticked.
			var parts []string
			quoted := false
			j := i
			for {
				if j < n && sql[j] == '`' {
					end := strings.IndexByte(sql[j+1:], '`')
					if end < 0 {
						return "", fmt.Errorf("unterminated quoted identifier")
					}
					parts = append(parts, strings.Split(sql[j+1:j+1+end], ".")...)
					quoted = true
					j += 1 + end + 1
				} else if j < n && isIdentStart(sql[j]) {
					k := j
					for k < n && isIdentByte(sql[k]) {
						k++
					}
					parts = append(parts, sql[j:k])
					j = k
				} else {
					break
				}
				if j+1 < n && sql[j] == '.' && (sql[j+1] == '`' || isIdentStart(sql[j+1])) {
					j++
					continue
				}
				break
			}
			if !quoted {
				out.WriteString(sql[i:j])
				i = j
				continue
			}
			if len(parts) >= 3 && parts[0] == project {
				parts = parts[1:]
			}
			for k, p := range parts {
				if k > 0 {
					out.WriteByte('.')
				}
				out.WriteString(quoteIdent(p))
			}
			i = j
		case c == '@':
			j := i + 1
			for j < n && isIdentByte(sql[j]) {
				j++
			}
			if j == i+1 {
				return "", fmt.Errorf("system variables (@@) and bare @ are not supported")
			}
			rep, err := param(sql[i+1 : j])
			if err != nil {
				return "", err
			}
			out.WriteString(rep)
			i = j
		case c == '?':
			rep, err := param("")
			if err != nil {
				return "", err
			}
			out.WriteString(rep)
			i++
		case c >= '0' && c <= '9':
			// Numbers (including 1e5, 0x1F) pass through; consuming them whole keeps their
			// letters from being read as identifiers.
			j := i
			for j < n && (isIdentByte(sql[j]) || sql[j] == '.') {
				j++
			}
			out.WriteString(sql[i:j])
			i = j
		default:
			out.WriteByte(c)
			i++
		}
	}
	return out.String(), nil
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentByte(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9')
}

// readStringLiteral reads the BigQuery string literal starting at the quote sql[i] and returns its
// value and the index after it. Triple-quoted literals are supported; raw literals keep backslashes.
func readStringLiteral(sql string, i int, raw bool) (string, int, error) {
	q := sql[i]
	delim := string(q)
	if strings.HasPrefix(sql[i:], strings.Repeat(delim, 3)) {
		delim = strings.Repeat(delim, 3)
	}
	j := i + len(delim)
	var b strings.Builder
	for j < len(sql) {
		if strings.HasPrefix(sql[j:], delim) {
			return b.String(), j + len(delim), nil
		}
		c := sql[j]
		if c == '\\' && j+1 < len(sql) {
			if raw {
				b.WriteByte(c)
				b.WriteByte(sql[j+1])
				j += 2
				continue
			}
			e := sql[j+1]
			j += 2
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			default:
				b.WriteByte(e) // \\ \' \" \`
			}
			continue
		}
		b.WriteByte(c)
		j++
	}
	return "", 0, fmt.Errorf("unterminated string literal")
}
