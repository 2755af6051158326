package czf

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
)

const (
	rootCZ  = "coverageZones"
	rootDCZ = "deepCoverageZones"
)

// Parse reads a coverage zone file (czmap.json):
//
//	{"coverageZones": {"<zone>": {"network": ["10.0.0.0/8", ...],
//	    "network6": ["2001:db8::/32", ...],
//	    "coordinates": {"latitude": 38.9, "longitude": -77.0}}}}
//
// name is the file name used in error messages. Other top-level keys
// ("revision", "customerName") and unknown zone keys are ignored. Any problem
// rejects the whole file with an *Error listing every problem found; see
// docs/coverage-zones.md for the rules.
func Parse(name string, data []byte) (*Table, error) {
	return parse(name, data, false)
}

// ParseDeep reads a deep coverage zone file (dczmap.json): the shape of
// Parse under the key "deepCoverageZones", where each zone may also list
// "caches": ["edge-host-1", ...] (Zone.Caches).
func ParseDeep(name string, data []byte) (*Table, error) {
	return parse(name, data, true)
}

func parse(name string, data []byte, deep bool) (*Table, error) {
	p := collect(name, data, deep)
	if len(p.probs) > 0 {
		return nil, &Error{File: name, Problems: p.probs}
	}
	return build(name, p.root, deep, p.zones, p.entries, indexMin), nil
}

// parser walks the JSON token stream in document order.
type parser struct {
	root    string
	deep    bool
	dec     *json.Decoder
	data    []byte
	broken  bool // a JSON syntax error (or truncation) ended the walk
	probs   []Problem
	zones   []Zone
	entries []rawEntry
	// buf4 and buf6 hold one zone's entries until the zone is complete
	// (network6 entries are inserted before network entries).
	buf4, buf6 []rawEntry
}

// collect decodes and validates a file without building the lookup arrays.
func collect(name string, data []byte, deep bool) *parser {
	p := &parser{root: rootCZ, deep: deep, dec: json.NewDecoder(bytes.NewReader(data)), data: data}
	if deep {
		p.root = rootDCZ
	}
	p.dec.UseNumber()
	p.entries = make([]rawEntry, 0, len(data)/24)
	p.document()
	return p
}

func (p *parser) problem(path, msg string) {
	p.probs = append(p.probs, Problem{Path: path, Msg: msg})
}

// token returns the next token; on a JSON error it records the problem at
// path and stops the walk.
func (p *parser) token(path string) (json.Token, bool) {
	if p.broken {
		return nil, false
	}
	tok, err := p.dec.Token()
	if err != nil {
		p.broken = true
		p.problem(path, p.jsonError(err))
		return nil, false
	}
	return tok, true
}

func (p *parser) jsonError(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return "invalid JSON at byte " + strconv.FormatInt(se.Offset, 10) + ": " + se.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "invalid JSON: unexpected end of input at byte " +
			strconv.FormatInt(p.dec.InputOffset(), 10) + " (truncated file?)"
	default:
		return "invalid JSON at byte " + strconv.FormatInt(p.dec.InputOffset(), 10) + ": " + err.Error()
	}
}

// more reports whether the current object or array has another element.
func (p *parser) more() bool { return !p.broken && p.dec.More() }

// skipRest consumes the rest of a value whose first token was tok.
func (p *parser) skipRest(path string, tok json.Token) {
	d, ok := tok.(json.Delim)
	if !ok || (d != '{' && d != '[') {
		return
	}
	for depth := 1; depth > 0; {
		t, ok := p.token(path)
		if !ok {
			return
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

func (p *parser) skipValue(path string) {
	if tok, ok := p.token(path); ok {
		p.skipRest(path, tok)
	}
}

// document walks the top-level object.
func (p *parser) document() {
	tok, ok := p.token("")
	if !ok {
		return
	}
	if tok != json.Delim('{') {
		p.problem("", "expected a JSON object, got "+describe(tok))
		return
	}
	seen := false
	for p.more() {
		tok, ok := p.token("")
		if !ok {
			return
		}
		key, _ := tok.(string)
		if key != p.root {
			p.skipValue(key)
			continue
		}
		if seen {
			p.problem(p.root, "duplicate key "+strconv.Quote(p.root))
		}
		seen = true
		p.zoneSet()
	}
	if _, ok := p.token(""); !ok {
		return
	}
	if !seen {
		p.problem("", "missing key "+strconv.Quote(p.root))
	}
	end := p.dec.InputOffset()
	if _, err := p.dec.Token(); err != io.EOF {
		// Report the first byte after the object that is not white space,
		// counted from 1 like the offsets of json.SyntaxError.
		at := end
		for at < int64(len(p.data)) && strings.IndexByte(" \t\r\n", p.data[at]) >= 0 {
			at++
		}
		p.problem("", "unexpected data after the top-level object at byte "+strconv.FormatInt(at+1, 10))
	}
}

func zonePath(root, name string) string {
	return root + "[" + strconv.Quote(name) + "]"
}

// zoneSet walks the object of zones.
func (p *parser) zoneSet() {
	path := p.root
	tok, ok := p.token(path)
	if !ok {
		return
	}
	if tok != json.Delim('{') {
		p.problem(path, "expected an object of zones, got "+describe(tok))
		p.skipRest(path, tok)
		return
	}
	seen := make(map[string]bool)
	for p.more() {
		tok, ok := p.token(path)
		if !ok {
			return
		}
		name, _ := tok.(string)
		zpath := zonePath(p.root, name)
		if seen[name] {
			p.problem(zpath, "duplicate zone name")
		}
		seen[name] = true
		p.zone(name, zpath)
	}
	p.token(path)
}

// zone walks one zone object and appends the zone and its entries
// (network6 before network).
func (p *parser) zone(name, path string) {
	tok, ok := p.token(path)
	if !ok {
		return
	}
	if tok != json.Delim('{') {
		p.problem(path, "expected a zone object, got "+describe(tok))
		p.skipRest(path, tok)
		return
	}
	z := Zone{Name: name}
	zi := int32(len(p.zones))
	v4, v6 := p.buf4[:0], p.buf6[:0]
	seen := make(map[string]bool, 4)
	for p.more() {
		tok, ok := p.token(path)
		if !ok {
			return
		}
		key, _ := tok.(string)
		fpath := path + "." + key
		switch key {
		case "network", "network6", "coordinates", "caches":
			if seen[key] {
				p.problem(fpath, "duplicate key "+strconv.Quote(key))
			}
			seen[key] = true
		}
		switch {
		case key == "network":
			v4 = p.networks(v4[:0], fpath, zi, "network")
		case key == "network6":
			v6 = p.networks(v6[:0], fpath, zi, "network6")
		case key == "coordinates":
			p.coordinates(fpath, &z)
		case key == "caches" && p.deep:
			z.Caches = p.caches(fpath)
		default:
			p.skipValue(fpath)
		}
	}
	if _, ok := p.token(path); !ok {
		return
	}
	p.zones = append(p.zones, z)
	p.entries = append(p.entries, v6...)
	p.entries = append(p.entries, v4...)
	p.buf4, p.buf6 = v4, v6
}

// networks walks an array of CIDR strings, appending the entries to out.
// null is an absent array.
func (p *parser) networks(out []rawEntry, path string, zone int32, key string) []rawEntry {
	p.eachString(path, "CIDR strings", "CIDR string", func(i int, s string) {
		addr, bits, reason := parseCIDR(s)
		if reason != "" {
			p.problem(path+"["+strconv.Itoa(i)+"]", "invalid CIDR "+strconv.Quote(s)+": "+reason)
			return
		}
		out = append(out, rawEntry{addr: addr, bits: bits, zone: zone, text: s, key: key, idx: i})
	})
	return out
}

// eachString walks an array of strings at path (null is an absent array),
// calling fn with each string and its index; a non-array and other
// elements are problems naming what was expected ("an array of <array>",
// "a <elem>"). It reports false when the input ended inside the array.
func (p *parser) eachString(path, array, elem string, fn func(i int, s string)) bool {
	tok, ok := p.token(path)
	if !ok || tok == nil {
		return ok
	}
	if tok != json.Delim('[') {
		p.problem(path, "expected an array of "+array+", got "+describe(tok))
		p.skipRest(path, tok)
		return true
	}
	for i := 0; p.more(); i++ {
		tok, ok := p.token(path)
		if !ok {
			return false
		}
		s, isString := tok.(string)
		if !isString {
			p.problem(path+"["+strconv.Itoa(i)+"]", "expected a "+elem+", got "+describe(tok))
			p.skipRest(path, tok)
			continue
		}
		fn(i, s)
	}
	p.token(path)
	return true
}

// coordinates walks {"latitude": ..., "longitude": ...}. null and {} are
// absent coordinates; one of the two alone is a problem.
func (p *parser) coordinates(path string, z *Zone) {
	tok, ok := p.token(path)
	if !ok || tok == nil {
		return
	}
	if tok != json.Delim('{') {
		p.problem(path, "expected an object with latitude and longitude, got "+describe(tok))
		p.skipRest(path, tok)
		return
	}
	var lat, lon float64
	var hasLat, hasLon, bad bool
	for p.more() {
		tok, ok := p.token(path)
		if !ok {
			return
		}
		key, _ := tok.(string)
		fpath := path + "." + key
		switch key {
		case "latitude", "longitude":
			if (key == "latitude" && hasLat) || (key == "longitude" && hasLon) {
				p.problem(fpath, "duplicate key "+strconv.Quote(key))
			}
			limit := 90.0
			if key == "longitude" {
				limit = 180
			}
			v, ok := p.coordinate(fpath, key, limit)
			bad = bad || !ok
			if key == "latitude" {
				lat, hasLat = v, true
			} else {
				lon, hasLon = v, true
			}
		default:
			p.skipValue(fpath)
		}
	}
	if _, ok := p.token(path); !ok {
		return
	}
	switch {
	case hasLat && !hasLon:
		p.problem(path, "latitude without longitude")
	case hasLon && !hasLat:
		p.problem(path, "longitude without latitude")
	case hasLat && hasLon && !bad:
		z.HasCoordinates, z.Latitude, z.Longitude = true, lat, lon
	}
}

// coordinate reads a number or numeric string within [-limit, limit].
func (p *parser) coordinate(path, what string, limit float64) (float64, bool) {
	tok, ok := p.token(path)
	if !ok {
		return 0, false
	}
	var s string
	switch v := tok.(type) {
	case json.Number:
		s = string(v)
	case string:
		s = v
	default:
		p.problem(path, "expected a number or numeric string, got "+describe(tok))
		p.skipRest(path, tok)
		return 0, false
	}
	f, ok := parseDecimal(s)
	if !ok {
		p.problem(path, "invalid "+what+" "+describe(tok))
		return 0, false
	}
	if f < -limit || f > limit {
		p.problem(path, what+" "+describe(tok)+" out of range [-"+
			strconv.FormatFloat(limit, 'f', -1, 64)+", "+strconv.FormatFloat(limit, 'f', -1, 64)+"]")
		return 0, false
	}
	return f, true
}

// parseDecimal accepts a plain decimal number with optional sign, fraction
// and exponent, surrounded by optional spaces ("-77.03", " 1e1"); not hex,
// NaN, Inf or underscores, which strconv.ParseFloat would take.
func parseDecimal(s string) (float64, bool) {
	s = trimSpace(s)
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '.', c == '-', c == '+', c == 'e', c == 'E':
		default:
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// caches walks the deep zone's array of cache host names, dropping empty
// names and repeats. null is an absent array.
func (p *parser) caches(path string) []string {
	var out []string
	seen := make(map[string]bool)
	ok := p.eachString(path, "cache host names", "cache host name string", func(_ int, s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	})
	if !ok {
		return nil
	}
	return out
}

// describe names a token for messages: its JSON type and, for scalars, its
// value (long values shortened).
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "string " + strconv.Quote(shorten(v))
	case json.Number:
		return "number " + shorten(string(v))
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case nil:
		return "null"
	}
	return "an unexpected token"
}

func shorten(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:61] + "..."
}
