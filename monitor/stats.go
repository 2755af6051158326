package monitor

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Stats is one decoded cache stat payload (astats_over_http or
// stats_over_http, JSON or CSV): a flat list of name/value pairs. Names and
// string values point into the payload the Stats was decoded from (or into
// its own arena when they carried JSON escapes), so a decode allocates
// nothing once the Stats has grown to the payload's size.
//
// Lifetime: after Decode* the Stats retains the body slice; the caller must
// not modify the body while the Stats is in use. Reset keeps capacity. A
// Stats published in a state version is never modified again.
type Stats struct {
	body  []byte
	arena []byte
	ents  []statEntry
}

type span struct {
	off, n  uint32
	inArena bool
}

// Kinds of stat values.
const (
	kindNum uint8 = iota
	kindStr
	kindBool
)

// Groups: where a stat came from. System stats of astats are named
// "system.<key>" in the flat namespace (spec A.7).
const (
	groupMain   uint8 = iota // astats "ats", stats_over_http "global", CSV
	groupSystem              // astats "system"
)

type statEntry struct {
	name, str span
	num       float64
	kind      uint8
	group     uint8
}

// Reset empties s, keeping its capacity.
func (s *Stats) Reset() {
	s.body = nil
	s.arena = s.arena[:0]
	s.ents = s.ents[:0]
}

// Len is the number of stats.
func (s *Stats) Len() int { return len(s.ents) }

func (s *Stats) bytes(sp span) []byte {
	if sp.inArena {
		return s.arena[sp.off : sp.off+sp.n]
	}
	return s.body[sp.off : sp.off+sp.n]
}

// AppendName appends the flat name of stat i ("system.inf.speed" for astats
// system stats).
func (s *Stats) AppendName(dst []byte, i int) []byte {
	e := &s.ents[i]
	if e.group == groupSystem {
		dst = append(dst, "system."...)
	}
	return append(dst, s.bytes(e.name)...)
}

// AppendValue appends the value of stat i as text (numbers in their
// shortest form, strings unquoted).
func (s *Stats) AppendValue(dst []byte, i int) []byte {
	e := &s.ents[i]
	switch e.kind {
	case kindNum:
		return strconv.AppendFloat(dst, e.num, 'f', -1, 64)
	case kindBool:
		return strconv.AppendBool(dst, e.num != 0)
	}
	return append(dst, s.bytes(e.str)...)
}

// Num returns stat i as a number (booleans are 0/1), false for strings.
func (s *Stats) Num(i int) (float64, bool) {
	e := &s.ents[i]
	if e.kind == kindStr {
		return 0, false
	}
	return e.num, true
}

// nameIs reports whether stat i has the flat name n.
func (s *Stats) nameIs(i int, n string) bool {
	e := &s.ents[i]
	if e.group == groupSystem {
		if len(n) < 7 || n[:7] != "system." {
			return false
		}
		n = n[7:]
	}
	return string(s.bytes(e.name)) == n
}

// LookupNum finds a numeric stat by its flat name. When a payload repeats
// a name the last occurrence wins, as with encoding/json.
func (s *Stats) LookupNum(name string) (float64, bool) {
	for i := len(s.ents) - 1; i >= 0; i-- {
		if s.nameIs(i, name) {
			return s.Num(i)
		}
	}
	return 0, false
}

// DecodeJSON decodes a JSON stat payload: a top-level object whose "ats"
// and "global" members hold the stats and whose "system" member holds the
// astats system block. Other top-level members are ignored; nested objects
// and arrays inside a stat block are skipped; nulls are dropped.
func (s *Stats) DecodeJSON(body []byte) error {
	s.Reset()
	s.body = body
	d := jscan{b: body}
	d.ws()
	if err := d.expect('{'); err != nil {
		return err
	}
	d.ws()
	if d.peek() == '}' {
		d.i++
		return d.end()
	}
	for {
		key, err := d.key(s)
		if err != nil {
			return err
		}
		k := s.bytes(key)
		switch {
		case d.peek() == '{' && (string(k) == "ats" || string(k) == "global"):
			err = d.block(s, groupMain)
		case d.peek() == '{' && string(k) == "system":
			err = d.block(s, groupSystem)
		default:
			err = d.skip()
		}
		if err != nil {
			return err
		}
		d.ws()
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return d.end()
		default:
			return d.errf("expected ',' or '}'")
		}
	}
}

type jscan struct {
	b []byte
	i int
}

// Decode errors carry the byte offset of the problem.
var errTruncated = errors.New("unexpected end of payload")

func (d *jscan) errf(msg string) error {
	if d.i >= len(d.b) {
		return fmt.Errorf("offset %d: %w", d.i, errTruncated)
	}
	return fmt.Errorf("offset %d: %s, found %q", d.i, msg, d.b[d.i])
}

func (d *jscan) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *jscan) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jscan) expect(c byte) error {
	if d.peek() != c {
		return d.errf("expected '" + string(c) + "'")
	}
	d.i++
	return nil
}

func (d *jscan) end() error {
	d.ws()
	if d.i != len(d.b) {
		return d.errf("trailing data after the payload")
	}
	return nil
}

// block decodes one object of stats into s.
func (d *jscan) block(s *Stats, group uint8) error {
	d.i++ // '{'
	d.ws()
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		name, err := d.key(s)
		if err != nil {
			return err
		}
		e := statEntry{name: name, group: group}
		keep := true
		switch c := d.peek(); {
		case c == '"':
			e.kind = kindStr
			e.str, err = d.str(s)
		case c == 't' || c == 'f':
			e.kind = kindBool
			var v bool
			v, err = d.boolean()
			if v {
				e.num = 1
			}
		case c == 'n':
			keep = false
			err = d.literal("null")
		case c == '{' || c == '[':
			keep = false
			err = d.skip()
		default:
			e.num, err = d.number()
		}
		if err != nil {
			return err
		}
		if keep {
			s.ents = append(s.ents, e)
		}
		d.ws()
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.errf("expected ',' or '}'")
		}
	}
}

func (d *jscan) literal(lit string) error {
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		return d.errf("invalid literal")
	}
	d.i += len(lit)
	return nil
}

func (d *jscan) boolean() (bool, error) {
	if d.peek() == 't' {
		return true, d.literal("true")
	}
	return false, d.literal("false")
}

// number parses a JSON number at the cursor.
func (d *jscan) number() (float64, error) {
	f, n, ok := scanNumber(d.b[d.i:])
	if !ok {
		return 0, d.errf("invalid value")
	}
	d.i += n
	return f, nil
}

// scanNumber parses the number at the start of b, returning its value and
// length. Integers of up to 15 digits are converted without strconv;
// everything else goes through strconv.ParseFloat. It does not allocate.
func scanNumber(b []byte) (float64, int, bool) {
	i := 0
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	digits := i
	var n uint64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + uint64(b[i]-'0')
		i++
	}
	if i == digits {
		return 0, 0, false
	}
	if i == len(b) || (b[i] != '.' && b[i] != 'e' && b[i] != 'E') {
		if i-digits <= 15 {
			if neg {
				return -float64(n), i, true
			}
			return float64(n), i, true
		}
	}
	// JSON grammar: [.digits+] [(e|E) [+|-] digits+]; checked here so that
	// strconv only sees valid numbers (its error path allocates).
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, 0, false
		}
	}
	f, err := strconv.ParseFloat(string(b[:i]), 64)
	if err != nil {
		return 0, 0, false
	}
	return f, i, true
}

// key reads an object member's name and its colon, with the white space
// around them.
func (d *jscan) key(s *Stats) (span, error) {
	d.ws()
	k, err := d.str(s)
	if err != nil {
		return k, err
	}
	d.ws()
	if err := d.expect(':'); err != nil {
		return k, err
	}
	d.ws()
	return k, nil
}

// str parses a JSON string; without escapes the span points into the body,
// with escapes the unescaped text is appended to s.arena.
func (d *jscan) str(s *Stats) (span, error) {
	if d.peek() != '"' {
		return span{}, d.errf("expected string")
	}
	d.i++
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			sp := span{off: uint32(start), n: uint32(d.i - start)}
			d.i++
			return sp, nil
		case c == '\\':
			return d.escaped(s, start)
		case c < 0x20:
			return span{}, d.errf("control character in string")
		}
		d.i++
	}
	return span{}, d.errf("unterminated string")
}

func (d *jscan) escaped(s *Stats, start int) (span, error) {
	off := len(s.arena)
	s.arena = append(s.arena, d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return span{off: uint32(off), n: uint32(len(s.arena) - off), inArena: true}, nil
		case c < 0x20:
			return span{}, d.errf("control character in string")
		case c != '\\':
			s.arena = append(s.arena, c)
			d.i++
			continue
		}
		d.i++
		switch e := d.peek(); e {
		case '"', '\\', '/':
			s.arena = append(s.arena, e)
		case 'b':
			s.arena = append(s.arena, '\b')
		case 'f':
			s.arena = append(s.arena, '\f')
		case 'n':
			s.arena = append(s.arena, '\n')
		case 'r':
			s.arena = append(s.arena, '\r')
		case 't':
			s.arena = append(s.arena, '\t')
		case 'u':
			r, ok := d.hex4(d.i + 1)
			if !ok {
				return span{}, d.errf("invalid \\u escape")
			}
			d.i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok2 := d.hex4(d.i + 3); ok2 && d.i+2 < len(d.b) && d.b[d.i+1] == '\\' && d.b[d.i+2] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						d.i += 6
					}
				}
			}
			s.arena = utf8.AppendRune(s.arena, r)
		default:
			return span{}, d.errf("invalid escape")
		}
		d.i++
	}
	return span{}, d.errf("unterminated string")
}

func (d *jscan) hex4(at int) (rune, bool) {
	if at+4 > len(d.b) {
		return 0, false
	}
	var r rune
	for _, c := range d.b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// skip skips any JSON value.
func (d *jscan) skip() error {
	switch c := d.peek(); {
	case c == '"':
		var scratch Stats
		_, err := d.str(&scratch)
		return err
	case c == '{' || c == '[':
		depth := 0
		for d.i < len(d.b) {
			switch d.b[d.i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					d.i++
					return nil
				}
			case '"':
				var scratch Stats
				if _, err := d.str(&scratch); err != nil {
					return err
				}
				continue
			}
			d.i++
		}
		return d.errf("unterminated value")
	case c == 't' || c == 'f':
		_, err := d.boolean()
		return err
	case c == 'n':
		return d.literal("null")
	default:
		_, err := d.number()
		return err
	}
}

// DecodeCSV decodes a "name,value" per line payload (the text/csv output of
// astats and stats_over_http). Numeric values are kept; of the non-numeric
// ones only inf.name and proc.* survive, as in Traffic Monitor. Known astats
// system keys are placed in the system group.
func (s *Stats) DecodeCSV(body []byte) error {
	s.Reset()
	s.body = body
	line := 1
	for i := 0; i < len(body); line++ {
		j := i
		for j < len(body) && body[j] != '\n' {
			j++
		}
		ln := body[i:j]
		lnOff := i
		i = j + 1
		if len(ln) > 0 && ln[len(ln)-1] == '\r' {
			ln = ln[:len(ln)-1]
		}
		if len(ln) == 0 {
			continue
		}
		comma := -1
		for k, c := range ln {
			if c == ',' {
				comma = k
				break
			}
		}
		if comma <= 0 {
			return fmt.Errorf("line %d: want name,value", line)
		}
		name, val := ln[:comma], ln[comma+1:]
		e := statEntry{name: span{off: uint32(lnOff), n: uint32(comma)}}
		if csvSystemKey(name) {
			e.group = groupSystem
		}
		if f, ok := parseNum(val); ok {
			e.num = f
		} else if string(name) == "inf.name" || (len(name) > 5 && string(name[:5]) == "proc.") {
			e.kind = kindStr
			e.str = span{off: uint32(lnOff + comma + 1), n: uint32(len(val))}
		} else {
			continue
		}
		s.ents = append(s.ents, e)
	}
	return nil
}

func csvSystemKey(name []byte) bool {
	switch string(name) {
	case "inf.name", "inf.speed", "proc.net.dev", "proc.loadavg", "configReloadRequests",
		"lastReloadRequest", "configReloads", "lastReload", "astatsLoad", "notAvailable":
		return true
	}
	return false
}

// parseNum parses a decimal number without allocating.
func parseNum(b []byte) (float64, bool) {
	f, n, ok := scanNumber(b)
	return f, ok && n == len(b)
}
