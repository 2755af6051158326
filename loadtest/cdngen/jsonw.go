package cdngen

import (
	"io"
	"strconv"
)

// flushAt is the size at which an out flushes its buffer to the writer.
const flushAt = 64 << 10

// out appends JSON text to a buffer and hands it to a writer in 64 KiB
// chunks, so a file of any size is produced with a fixed amount of memory.
// The first write error sticks; later calls do nothing.
type out struct {
	w   io.Writer
	b   []byte
	n   int64
	err error
}

func newOut(w io.Writer) *out { return &out{w: w, b: make([]byte, 0, flushAt+flushAt/4)} }

// maybeFlush writes the buffer when it has grown past flushAt.
func (o *out) maybeFlush() {
	if len(o.b) >= flushAt {
		o.flush()
	}
}

// flush writes the whole buffer.
func (o *out) flush() {
	if o.err == nil && len(o.b) > 0 {
		var n int
		n, o.err = o.w.Write(o.b)
		o.n += int64(n)
	}
	o.b = o.b[:0]
}

func (o *out) raw(s string) { o.b = append(o.b, s...) }

func (o *out) str(s string) { o.b = appendStr(o.b, s) }

// key writes `"k":`, preceded by a comma unless first.
func (o *out) key(k string, first bool) {
	if !first {
		o.b = append(o.b, ',')
	}
	o.b = appendStr(o.b, k)
	o.b = append(o.b, ':')
}

// kv writes `"k":"v"` with a leading comma unless first.
func (o *out) kv(k, v string, first bool) {
	o.key(k, first)
	o.b = appendStr(o.b, v)
}

// kint writes `"k":n`.
func (o *out) kint(k string, n int64, first bool) {
	o.key(k, first)
	o.b = strconv.AppendInt(o.b, n, 10)
}

// kistr writes `"k":"n"`: Traffic Ops emits most numbers as strings.
func (o *out) kistr(k string, n int64, first bool) {
	o.key(k, first)
	o.b = append(o.b, '"')
	o.b = strconv.AppendInt(o.b, n, 10)
	o.b = append(o.b, '"')
}

// kbstr writes `"k":"true"` or `"k":"false"`, the way Traffic Ops emits
// booleans.
func (o *out) kbstr(k string, v bool, first bool) {
	o.key(k, first)
	if v {
		o.raw(`"true"`)
	} else {
		o.raw(`"false"`)
	}
}

// kbool writes `"k":true` or `"k":false`.
func (o *out) kbool(k string, v bool, first bool) {
	o.key(k, first)
	o.b = strconv.AppendBool(o.b, v)
}

// kfloat writes `"k":f` with at most 4 decimals.
func (o *out) kfloat(k string, f float64, first bool) {
	o.key(k, first)
	o.b = appendCoord(o.b, f)
}

// kfstr writes `"k":"f"`.
func (o *out) kfstr(k string, f float64, first bool) {
	o.key(k, first)
	o.b = append(o.b, '"')
	o.b = appendCoord(o.b, f)
	o.b = append(o.b, '"')
}

// strs writes a JSON array of strings.
func (o *out) strs(ss ...string) {
	o.b = append(o.b, '[')
	for i, s := range ss {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = appendStr(o.b, s)
	}
	o.b = append(o.b, ']')
}

func appendCoord(b []byte, f float64) []byte {
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendStr appends s as a JSON string. Generated names are ASCII; quotes,
// backslashes (in regular expressions) and control characters are escaped.
func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		default:
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
