package router

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
	"unicode/utf8"
)

// MatchKind is the kind of one request matcher of a delivery service.
type MatchKind uint8

// Request matcher kinds (Traffic Router's HOST_REGEXP, PATH_REGEXP, HEADER_REGEXP).
const (
	MatchHost MatchKind = iota
	MatchPath
	MatchHeader
)

// requestMatcher is one compiled match of a matchset. All requestMatchers
// of a dsMatcher must match (logical AND).
type requestMatcher struct {
	kind   MatchKind
	regex  string // the regex as written in the snapshot (after the superhack)
	header string // HEADER only: the header name, compared lower-case
	re     *regexp.Regexp
	key    string // sort key, see sortKey
	// must is a lower-case literal every matching HOST must contain (nil
	// when none is known); it lets most matchers be skipped without
	// running their regex.
	must []byte
	// label is set for HOST regexes of Traffic Ops' shape `.*\.NAME\..*`
	// (or, after the superhack, `(.*\.|^)NAME\..*`): see labelMatcher.
	label *labelMatcher
}

// labelMatcher matches a HOST regex `.*\.NAME\..*` (bare false) or
// `(.*\.|^)NAME\..*` (bare true) without the regexp engine: the host must
// contain "NAME." starting at a label boundary (after a dot, or at the
// start when bare). NAME is ASCII letters, digits, '-', '_' and escaped
// dots. It is exact for ASCII hosts without a newline; matchHost uses the
// compiled regex for any other host (case folding of non-ASCII letters
// such as U+212A KELVIN SIGN, and '.' not matching a newline).
type labelMatcher struct {
	lit  []byte // lower-case "name." including the trailing dot
	bare bool
}

// parseLabelRegex recognizes the two shapes of labelMatcher, or returns nil.
func parseLabelRegex(regex string) *labelMatcher {
	m := &labelMatcher{}
	switch {
	case strings.HasPrefix(regex, `(.*\.|^)`):
		regex, m.bare = regex[len(`(.*\.|^)`):], true
	case strings.HasPrefix(regex, `.*\.`):
		regex = regex[len(`.*\.`):]
	default:
		return nil
	}
	name, ok := strings.CutSuffix(regex, `\..*`)
	if !ok || name == "" {
		return nil
	}
	lit := make([]byte, 0, len(name)+1)
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '\\' && i+1 < len(name) && name[i+1] == '.':
			lit = append(lit, '.')
			i++
		case isWord(c) || c == '-':
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lit = append(lit, c)
		default:
			return nil
		}
	}
	m.lit = append(lit, '.')
	return m
}

// labelStart reports whether the literal, found at host[at:], matches
// there: at the start of a label, and at the host's start only for a bare
// matcher.
func (m *labelMatcher) labelStart(host []byte, at int) bool {
	return at == 0 && m.bare || at > 0 && host[at-1] == '.'
}

// match reports whether the lower-case ASCII host matches.
func (m *labelMatcher) match(host []byte) bool {
	for from := 0; ; {
		i := bytes.Index(host[from:], m.lit)
		if i < 0 {
			return false
		}
		at := from + i
		if m.labelStart(host, at) {
			return true
		}
		from = at + 1
	}
}

// plainASCII reports whether b has only ASCII bytes and no newline.
func plainASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf || c == '\n' {
			return false
		}
	}
	return true
}

// requiredLiteral returns the longest literal that every string fully
// matching the case-insensitive regex must contain, lower-cased, or nil.
// Only literals of a top-level concatenation count, and only ASCII ones
// (lower-casing is then exact).
func requiredLiteral(regex string) []byte {
	re, err := syntax.Parse(regex, syntax.Perl|syntax.FoldCase)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	var best string
	consider := func(r *syntax.Regexp) {
		if r.Op != syntax.OpLiteral {
			return
		}
		lit := string(r.Rune)
		if len(lit) > len(best) && utf8.ValidString(lit) && isASCII(lit) {
			best = lit
		}
	}
	switch re.Op {
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			consider(sub)
		}
	default:
		consider(re)
	}
	if best == "" {
		return nil
	}
	return []byte(strings.ToLower(best))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// matchHost runs the HOST matcher against a lower-case host name.
func (r *requestMatcher) matchHost(host []byte) bool {
	if r.must != nil && !bytes.Contains(host, r.must) {
		return false
	}
	if r.label != nil && plainASCII(host) {
		return r.label.match(host)
	}
	return r.re.Match(host)
}

// dsMatcher is one matchset of a delivery service.
type dsMatcher struct {
	ds   int32
	reqs []requestMatcher
}

func (a *requestMatcher) same(b *requestMatcher) bool {
	return a.kind == b.kind && a.regex == b.regex && a.header == b.header
}

// isWord reports whether c is in Java's \w class ([a-zA-Z_0-9]).
func isWord(c byte) bool {
	return c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// isKeyChar reports whether c is in [\w-./], the class of Traffic Router's
// "meta" pattern.
func isKeyChar(c byte) bool { return isWord(c) || c == '-' || c == '.' || c == '/' }

// sortKey reproduces Traffic Router's RequestMatcher sort key: group 2 of
// the Java pattern `([\W])*([\w-\./]+).*` fully matched against the regex.
// The greedy leading \W* run gives characters back only when nothing of the
// key class follows it (for example ".*" yields ".").
func sortKey(regex string) string {
	l := 0
	for l < len(regex) && !isWord(regex[l]) {
		l++
	}
	for k := l; k >= 0; k-- {
		if k < len(regex) && isKeyChar(regex[k]) {
			e := k
			for e < len(regex) && isKeyChar(regex[e]) {
				e++
			}
			return regex[k:e]
		}
	}
	return ""
}

// compareKeys orders sort keys like Traffic Router's ComparableStringByLength:
// longer strings first, equal lengths in ascending lexicographic order.
// Keys are ASCII (the key class is ASCII), so byte order equals UTF-16 order.
func compareKeys(a, b string) int {
	if len(a) != len(b) {
		if len(a) > len(b) {
			return -1
		}
		return 1
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareMatchers reproduces DeliveryServiceMatcher.compareTo: request
// matchers the two share are removed; of the rest, the smallest key decides
// which matcher sorts first. On equal smallest keys the second matcher wins
// (Java's TreeMap.put replaces the value of an equal key, and the second
// matcher's entries are put last). Nothing left on either side means equal.
func compareMatchers(a, b *dsMatcher) int {
	var best string
	found, bestIsB := false, false
	consider := func(m *requestMatcher, isB bool) {
		if !found {
			best, found, bestIsB = m.key, true, isB
			return
		}
		c := compareKeys(m.key, best)
		if c < 0 || (c == 0 && isB) {
			best, bestIsB = m.key, isB
		}
	}
	for i := range a.reqs {
		if !containsMatcher(b.reqs, &a.reqs[i]) {
			consider(&a.reqs[i], false)
		}
	}
	for i := range b.reqs {
		if !containsMatcher(a.reqs, &b.reqs[i]) {
			consider(&b.reqs[i], true)
		}
	}
	switch {
	case !found:
		return 0
	case bestIsB:
		return 1
	}
	return -1
}

func containsMatcher(list []requestMatcher, m *requestMatcher) bool {
	for i := range list {
		if list[i].same(m) {
			return true
		}
	}
	return false
}

// sortMatchers orders matchers the way Traffic Router's sorted set does.
// Matchers that compare equal keep their snapshot order; Traffic Router
// instead drops the second one (quirk 3, see docs/compatibility.md).
func sortMatchers(ms []dsMatcher) {
	sort.SliceStable(ms, func(i, j int) bool { return compareMatchers(&ms[i], &ms[j]) < 0 })
}
