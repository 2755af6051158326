package control

import (
	"regexp"
	"strings"
)

// javaOnly names the first Java regex construct in re that RE2 lacks, or "".
// It scans outside character classes and skips escaped characters.
func javaOnly(re string) string {
	inClass := false
	for i := 0; i < len(re); i++ {
		c := re[i]
		if c == '\\' {
			if i+1 < len(re) {
				n := re[i+1]
				if !inClass && n >= '1' && n <= '9' {
					return "backreference \\" + string(n)
				}
				if !inClass && n == 'k' && i+2 < len(re) && re[i+2] == '<' {
					return "named backreference \\k<...>"
				}
				if n == 'Q' { // quoted section: skip to \E
					end := strings.Index(re[i+2:], `\E`)
					if end < 0 {
						return ""
					}
					i += 2 + end + 1
					continue
				}
			}
			i++
			continue
		}
		if inClass {
			if c == ']' {
				inClass = false
			}
			continue
		}
		switch c {
		case '[':
			inClass = true
			if i+1 < len(re) && re[i+1] == ']' {
				i++
			} else if i+2 < len(re) && re[i+1] == '^' && re[i+2] == ']' {
				i += 2
			}
		case '(':
			rest := re[i+1:]
			switch {
			case strings.HasPrefix(rest, "?="):
				return "lookahead (?=...)"
			case strings.HasPrefix(rest, "?!"):
				return "negative lookahead (?!...)"
			case strings.HasPrefix(rest, "?<="):
				return "lookbehind (?<=...)"
			case strings.HasPrefix(rest, "?<!"):
				return "negative lookbehind (?<!...)"
			case strings.HasPrefix(rest, "?>"):
				return "atomic group (?>...)"
			}
		case '*', '+', '?', '}':
			if i+1 < len(re) && re[i+1] == '+' {
				return "possessive quantifier " + string(c) + "+"
			}
		}
	}
	return ""
}

// compileRegex compiles a Java regex for Go. full anchors it for Java's
// matches() (full match); fold makes it case-insensitive. The returned
// message names the Java construct RE2 lacks, or carries Go's error.
func compileRegex(re string, full, fold bool) (*regexp.Regexp, string) {
	if c := javaOnly(re); c != "" {
		return nil, "uses " + c + ", which Go regular expressions (RE2) do not support"
	}
	src := re
	if full {
		src = `^(?:` + src + `)$`
	}
	if fold {
		src = `(?i)` + src
	}
	rx, err := regexp.Compile(src)
	if err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "error parsing regexp: ")
		return nil, "does not compile: " + msg
	}
	return rx, ""
}

// superhack rewrites a leading `.*\.` of a HOST regex to `(.*\.|^)` so the
// bare domain matches too (spec §1.13).
func superhack(re string) string {
	if strings.HasPrefix(re, `.*\.`) {
		return `(.*\.|^)` + re[len(`.*\.`):]
	}
	return re
}
