package router

import (
	"errors"
	"regexp"
)

// ErrBadEscape reports a malformed percent-escape in a path or query. The
// HTTP server answers 400 (Traffic Router answered 500, quirk 13).
var ErrBadEscape = errors.New("malformed percent-escape")

// ErrPathAboveRoot reports a path whose "/../" segments climb above "/"
// (Tomcat rejects such a request with 400).
var ErrPathAboveRoot = errors.New("path climbs above the root")

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// AppendDecodedPath appends the path as Tomcat hands it to Traffic Router
// (servlet path + pathInfo): ";params" removed from every segment, percent
// escapes decoded, "//" collapsed, "/./" and "/../" resolved, always
// starting with "/". raw is the path of the request target without query.
func AppendDecodedPath(dst, raw []byte) ([]byte, error) {
	if plainPath(raw) {
		return append(dst, raw...), nil
	}
	return appendDecodedPathSlow(dst, raw)
}

// plainPath reports whether raw is already what AppendDecodedPath makes of
// it: a leading '/', no escape, no ";params", no empty, "." or ".."
// segment (no segment starts with a dot, to keep the test to one pass).
func plainPath(raw []byte) bool {
	if len(raw) == 0 || raw[0] != '/' {
		return false
	}
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '%', ';':
			return false
		case '/':
			if i+1 < len(raw) && (raw[i+1] == '/' || raw[i+1] == '.') {
				return false
			}
		}
	}
	return true
}

func appendDecodedPathSlow(dst, raw []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, '/')
	i := 0
	for i < len(raw) {
		// One segment: raw[i:j] up to the next '/'.
		for i < len(raw) && raw[i] == '/' {
			i++
		}
		j := i
		for j < len(raw) && raw[j] != '/' {
			j++
		}
		seg := raw[i:j]
		for k, c := range seg {
			if c == ';' {
				seg = seg[:k]
				break
			}
		}
		segStart := len(dst)
		for k := 0; k < len(seg); k++ {
			c := seg[k]
			if c == '%' {
				if k+2 >= len(seg) {
					return dst[:start], ErrBadEscape
				}
				hi, ok1 := unhex(seg[k+1])
				lo, ok2 := unhex(seg[k+2])
				// Tomcat refuses encoded slashes (and NUL) by default.
				if !ok1 || !ok2 || hi<<4|lo == '/' || hi<<4|lo == 0 {
					return dst[:start], ErrBadEscape
				}
				c = hi<<4 | lo
				k += 2
			}
			dst = append(dst, c)
		}
		seg = dst[segStart:]
		more := j < len(raw)
		i = j
		switch {
		case len(seg) == 0:
			// "//" collapses; a trailing "/" is kept below.
		case len(seg) == 1 && seg[0] == '.':
			dst = dst[:segStart]
			continue
		case len(seg) == 2 && seg[0] == '.' && seg[1] == '.':
			dst = dst[:segStart]
			// Drop the previous segment and its slash.
			if segStart-1 <= start {
				return dst[:start], ErrPathAboveRoot
			}
			k := segStart - 2
			for k > start && dst[k] != '/' {
				k--
			}
			dst = dst[:k+1]
			continue
		}
		if more && len(seg) > 0 {
			dst = append(dst, '/')
		}
	}
	return dst, nil
}

// appendPatternString appends Traffic Router's patternString(regex, path)
// (spec 5.6): without a regex the path; with one, the concatenated capture
// groups of the first match (a group that did not participate contributes
// "null", as Java's string append of null does), else the path.
//
// Go's regexp has no submatch API that writes into a caller buffer, so a
// delivery service with a consistentHashRegex costs one allocation per
// request (the index slice); all other requests cost none.
func appendPatternString(dst []byte, re *regexp.Regexp, path []byte) []byte {
	if re == nil || re.NumSubexp() == 0 {
		return append(dst, path...)
	}
	m := re.FindSubmatchIndex(path)
	if m == nil {
		return append(dst, path...)
	}
	for g := 1; g*2+1 < len(m); g++ {
		if m[2*g] < 0 {
			dst = append(dst, "null"...)
			continue
		}
		dst = append(dst, path[m[2*g]:m[2*g+1]]...)
	}
	return dst
}

// AppendFormDecoded appends s decoded as application/x-www-form-urlencoded
// ("+" is a space); a malformed escape is ErrBadEscape.
func AppendFormDecoded(dst, s []byte) ([]byte, error) {
	for k := 0; k < len(s); k++ {
		c := s[k]
		switch c {
		case '+':
			c = ' '
		case '%':
			if k+2 >= len(s) {
				return dst, ErrBadEscape
			}
			hi, ok1 := unhex(s[k+1])
			lo, ok2 := unhex(s[k+2])
			if !ok1 || !ok2 {
				return dst, ErrBadEscape
			}
			c = hi<<4 | lo
			k += 2
		}
		dst = append(dst, c)
	}
	return dst, nil
}

// maxQueryPieces bounds how many significant query parameters one request
// contributes to its hash string; more are ignored (documented).
const maxQueryPieces = 32

type span struct{ off, end int32 }

// appendSignificantQuery appends Traffic Router's significantQueryParams
// (spec 5.6): the query pieces whose name is in params, each decoded and
// re-joined with "=", sorted, duplicates removed, concatenated. scratch is
// working space; the (possibly grown) scratch is returned for reuse.
func appendSignificantQuery(dst, scratch []byte, params []string, rawQuery []byte) ([]byte, []byte, error) {
	if len(params) == 0 || len(rawQuery) == 0 {
		return dst, scratch, nil
	}
	var pieces [maxQueryPieces]span
	n := 0
	scratch = scratch[:0]
	for i := 0; i <= len(rawQuery) && n < maxQueryPieces; {
		j := i
		for j < len(rawQuery) && rawQuery[j] != '&' {
			j++
		}
		piece := rawQuery[i:j]
		i = j + 1
		if len(piece) == 0 {
			continue
		}
		// Java's split("=") drops trailing empty fields.
		for len(piece) > 0 && piece[len(piece)-1] == '=' {
			piece = piece[:len(piece)-1]
		}
		if len(piece) == 0 {
			continue
		}
		off := len(scratch)
		var err error
		first := true
		for f := 0; f <= len(piece); {
			g := f
			for g < len(piece) && piece[g] != '=' {
				g++
			}
			if !first {
				scratch = append(scratch, '=')
			}
			if scratch, err = AppendFormDecoded(scratch, piece[f:g]); err != nil {
				return dst, scratch, err
			}
			if first {
				if !containsString(params, scratch[off:]) {
					scratch = scratch[:off]
					break
				}
				first = false
			}
			f = g + 1
		}
		if len(scratch) > off {
			pieces[n] = span{int32(off), int32(len(scratch))}
			n++
		}
	}
	// Insertion sort (n is small), then emit without duplicates.
	for a := 1; a < n; a++ {
		for b := a; b > 0 && string(scratch[pieces[b].off:pieces[b].end]) < string(scratch[pieces[b-1].off:pieces[b-1].end]); b-- {
			pieces[b], pieces[b-1] = pieces[b-1], pieces[b]
		}
	}
	for a := 0; a < n; a++ {
		p := scratch[pieces[a].off:pieces[a].end]
		if a > 0 && string(p) == string(scratch[pieces[a-1].off:pieces[a-1].end]) {
			continue
		}
		dst = append(dst, p...)
	}
	return dst, scratch, nil
}

func containsString(list []string, b []byte) bool {
	for _, s := range list {
		if s == string(b) {
			return true
		}
	}
	return false
}
