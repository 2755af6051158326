package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
)

// The Traffic Ops shapes are decoded in two steps: the bytes become an
// ordered tree of nodes (object keys in document order, numbers as their
// literal text), then typed extraction walks the tree with Jackson's
// coercion rules (spec §1.2), recording a Problem with the JSON path for
// every value it cannot use.

type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindObject
	kindArray
)

func (k kind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindBool:
		return "boolean"
	case kindNumber:
		return "number"
	case kindString:
		return "string"
	case kindObject:
		return "object"
	default:
		return "array"
	}
}

// node is one JSON value. Objects keep keys in document order; a repeated
// key keeps its first position and takes the last value (Jackson's
// LinkedHashMap semantics).
type node struct {
	kind kind
	b    bool
	s    string // string value or number literal
	keys []string
	vals []*node // object values or array elements
}

// get returns the value of key in an object, nil when absent or n is not
// an object.
func (n *node) get(k string) *node {
	if n == nil || n.kind != kindObject {
		return nil
	}
	for i, kk := range n.keys {
		if kk == k {
			return n.vals[i]
		}
	}
	return nil
}

// has reports whether key is present (even as null).
func (n *node) has(k string) bool { return n.get(k) != nil }

// text renders a scalar for messages; composite values are summarised.
func (n *node) text() string {
	if n == nil {
		return ""
	}
	switch n.kind {
	case kindNull:
		return "null"
	case kindBool:
		return strconv.FormatBool(n.b)
	case kindNumber, kindString:
		return n.s
	case kindObject:
		return "{...}"
	default:
		return "[...]"
	}
}

// isNull reports a missing or JSON null value.
func (n *node) isNull() bool { return n == nil || n.kind == kindNull }

// parseDocument starts decoding the dataset file name: its problem list
// and its JSON tree. A document that is not JSON is the error, naming the
// file.
func parseDocument(name string, data []byte) (*problems, *node, error) {
	p := &problems{file: name}
	root, err := parseTree(data)
	if err != nil {
		p.error("", "", err.Error())
		return nil, nil, p.result()
	}
	return p, root, nil
}

// parseTree decodes data into a tree. Errors carry the byte offset.
func parseTree(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	root, err := readValue(dec, nil)
	if err != nil {
		return nil, jsonError(err, data, dec)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		for end < int64(len(data)) && isSpace(data[end]) {
			end++
		}
		return nil, errors.New("invalid JSON: data after the top-level value at byte " + strconv.FormatInt(end, 10))
	}
	return root, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func jsonError(err error, data []byte, dec *json.Decoder) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return errors.New("invalid JSON at byte " + strconv.FormatInt(se.Offset, 10) + ": " + se.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		if len(bytes.TrimSpace(data)) == 0 {
			return errors.New("invalid JSON: empty input")
		}
		return errors.New("invalid JSON: unexpected end of input at byte " + strconv.Itoa(len(data)) + " (truncated file?)")
	default:
		return errors.New("invalid JSON at byte " + strconv.FormatInt(dec.InputOffset(), 10) + ": " + err.Error())
	}
}

// readValue reads one value; tok is an already read first token or nil.
func readValue(dec *json.Decoder, tok json.Token) (*node, error) {
	if tok == nil {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		tok = t
	}
	switch v := tok.(type) {
	case nil:
		return &node{kind: kindNull}, nil
	case bool:
		return &node{kind: kindBool, b: v}, nil
	case json.Number:
		return &node{kind: kindNumber, s: string(v)}, nil
	case string:
		return &node{kind: kindString, s: v}, nil
	case json.Delim:
		switch v {
		case '{':
			n := &node{kind: kindObject}
			var seen map[string]int
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				val, err := readValue(dec, nil)
				if err != nil {
					return nil, err
				}
				if seen == nil && len(n.keys) >= 8 {
					seen = make(map[string]int, 16)
					for i, kk := range n.keys {
						if _, dup := seen[kk]; !dup {
							seen[kk] = i
						}
					}
				}
				if seen != nil {
					if i, dup := seen[k]; dup {
						n.vals[i] = val
						continue
					}
					seen[k] = len(n.keys)
				} else if i := indexOf(n.keys, k); i >= 0 {
					n.vals[i] = val
					continue
				}
				n.keys = append(n.keys, k)
				n.vals = append(n.vals, val)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		case '[':
			n := &node{kind: kindArray}
			for dec.More() {
				val, err := readValue(dec, nil)
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, val)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		}
	}
	return nil, errors.New("unexpected token")
}

func indexOf(keys []string, k string) int {
	for i, kk := range keys {
		if kk == k {
			return i
		}
	}
	return -1
}

// Coercion helpers (spec §1.2). Each takes the node (nil = absent), its
// path, and a default; an unusable value yields the default and a warning.

func (p *problems) str(n *node, path string, def string) string {
	if n.isNull() {
		return def
	}
	switch n.kind {
	case kindString, kindNumber:
		return n.s
	case kindBool:
		return strconv.FormatBool(n.b)
	}
	p.warn(path, n.text(), "expected a string, got "+n.kind.String()+"; using "+q(def))
	return def
}

// boolean follows Jackson optBoolean: true/false, "true"/"false" (trimmed,
// lower case), numbers (non-zero = true); anything else is the default.
func (p *problems) boolean(n *node, path string, def bool) bool {
	v, ok := coerceBool(n)
	if ok {
		return v
	}
	if !n.isNull() {
		p.warn(path, n.text(), "expected a boolean, got "+q(n.text())+"; using "+strconv.FormatBool(def))
	}
	return def
}

func coerceBool(n *node) (bool, bool) {
	if n.isNull() {
		return false, false
	}
	switch n.kind {
	case kindBool:
		return n.b, true
	case kindString:
		switch strings.TrimSpace(n.s) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	case kindNumber:
		f, err := strconv.ParseFloat(n.s, 64)
		if err == nil {
			return f != 0, true
		}
	}
	return false, false
}

// integer follows Jackson asInt/asLong: numbers (fractions truncated) or
// numeric strings; anything else is the default.
func (p *problems) integer(n *node, path string, def int64) int64 {
	v, ok := coerceInt(n)
	if ok {
		return v
	}
	if !n.isNull() {
		p.warn(path, n.text(), "expected an integer, got "+q(n.text())+"; using "+strconv.FormatInt(def, 10))
	}
	return def
}

// optInt coerces an optional integer, reporting invalid values as warnings.
func (p *problems) optInt(n *node, path string) Opt {
	v, ok := coerceInt(n)
	if !ok && !n.isNull() {
		p.warn(path, n.text(), "expected an integer, got "+q(n.text())+"; treated as absent")
	}
	return Opt{Value: v, OK: ok}
}

func coerceInt(n *node) (int64, bool) {
	if n.isNull() {
		return 0, false
	}
	var s string
	switch n.kind {
	case kindNumber:
		s = n.s
	case kindString:
		s = strings.TrimSpace(n.s)
	case kindBool:
		return 0, false
	default:
		return 0, false
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f > math.MaxInt64 || f < math.MinInt64 {
		return 0, false
	}
	return int64(f), true
}

// float follows Jackson asDouble: numbers or numeric strings.
func (p *problems) float(n *node, path string, def float64) float64 {
	v, ok := coerceFloat(n)
	if ok {
		return v
	}
	if !n.isNull() {
		p.warn(path, n.text(), "expected a number, got "+q(n.text())+"; using "+strconv.FormatFloat(def, 'g', -1, 64))
	}
	return def
}

func coerceFloat(n *node) (float64, bool) {
	if n.isNull() || (n.kind != kindNumber && n.kind != kindString) {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(n.s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// strList decodes an array of strings; non-string scalars are converted,
// other elements are skipped with a warning. A non-array value is a warning
// and yields nil.
func (p *problems) strList(n *node, path string) []string {
	if n.isNull() {
		return nil
	}
	if n.kind != kindArray {
		p.warn(path, n.text(), "expected an array of strings, got "+n.kind.String()+"; ignored")
		return nil
	}
	out := make([]string, 0, len(n.vals))
	for i, e := range n.vals {
		switch e.kind {
		case kindString, kindNumber:
			out = append(out, e.s)
		case kindBool:
			out = append(out, strconv.FormatBool(e.b))
		default:
			p.warn(index(path, i), e.text(), "expected a string, got "+e.kind.String()+"; skipped")
		}
	}
	return out
}

// object checks that n is an object; a present non-object is an error
// (required) or a warning (optional) and yields false.
func (p *problems) object(n *node, path string, required bool) bool {
	if n.isNull() {
		if required {
			p.error(path, "", "required object is missing")
		}
		return false
	}
	if n.kind != kindObject {
		p.add(!required, path, n.text(), "expected an object, got "+n.kind.String())
		return false
	}
	return true
}

// Opt is an optional integer: OK is false when the value was absent or not
// a valid integer (Jackson then uses the caller's default, see Or).
type Opt struct {
	Value int64
	OK    bool
}

// Or returns the value, or def when it is not set.
func (o Opt) Or(def int64) int64 {
	if o.OK {
		return o.Value
	}
	return def
}
