// Package dnswire parses DNS queries and writes DNS responses on raw bytes,
// without allocating. It is the wire layer under router/dnsserver: the header
// gate, the question, the OPT record with EDNS Client Subnet, name
// compression, record templates and truncation.
//
// Names are handled in uncompressed wire form (length-prefixed labels ending
// with the root label 0). Query names are lower-cased on parse so that they
// can be matched byte for byte against names prepared the same way.
package dnswire

import (
	"encoding/binary"
	"errors"
)

// Wire limits (RFC 1035 §2.3.4, RFC 6891 §6.2.5, DNS Flag Day 2020).
const (
	// HeaderLen is the length of the DNS message header.
	HeaderLen = 12
	// MaxNameLen is the longest name in wire form, root label included.
	MaxNameLen = 255
	// MaxLabelLen is the longest label.
	MaxLabelLen = 63
	// MinUDPSize is the smallest UDP payload any client must accept; EDNS
	// sizes below it are treated as equal to it (RFC 6891 §6.2.5).
	MinUDPSize = 512
	// MaxUDPSize is the largest UDP response we send and the payload size we
	// advertise in our OPT record (DNS Flag Day 2020).
	MaxUDPSize = 1232
	// MaxTCPSize is the largest message over TCP (16-bit length prefix).
	MaxTCPSize = 65535
	// maxPointerHops bounds the compression pointers followed while reading
	// one name; with strictly backward pointers a legal name never needs
	// more than 127 (each hop adds at least one 2-byte label).
	maxPointerHops = 127
)

// Name errors. They are sentinel values so that callers can compare them
// without allocating.
var (
	ErrNameTooLong     = errors.New("dnswire: name longer than 255 octets")
	ErrLabelType       = errors.New("dnswire: reserved label type")
	ErrPointer         = errors.New("dnswire: compression pointer not strictly backwards")
	ErrPointerHops     = errors.New("dnswire: too many compression pointers")
	ErrShort           = errors.New("dnswire: message truncated")
	ErrEmptyLabel      = errors.New("dnswire: empty label")
	ErrLabelTooLong    = errors.New("dnswire: label longer than 63 octets")
	ErrInvalidNameChar = errors.New("dnswire: name contains a byte that needs escaping")
)

// readName decodes the name at off in msg. When dst is not nil the
// uncompressed name is copied into it, lower-cased. It returns the length of
// the uncompressed name (root label included), the number of labels (root
// excluded) and the offset just after the name at its original position.
// Labels are copied a run (up to a pointer or the root) at a time, length
// octets included, and lower-cased at the end: length octets are at most
// 63, never an upper-case letter.
//
// Compression pointers must point strictly before the start of the label
// run that contains them and not into the header; reserved label types
// (0b01, 0b10) are rejected. This makes pointer loops impossible; the hop
// budget is a second guard.
func readName(msg []byte, off int, dst *[MaxNameLen]byte) (nameLen, labels, end int, err error) {
	// Almost every name a query carries has no compression pointer: walk
	// its length octets alone, then check and copy it in one piece. At a
	// pointer, a reserved label type, the end of msg or past MaxNameLen
	// octets, readNameGeneral decides from the start (and finds the same
	// error the walk would have, since it checks the same labels first).
	lim := min(len(msg), off+MaxNameLen) // one bound for both
	for p := off; p < lim; {
		c := uint(msg[p])
		if c-1 >= MaxLabelLen { // the root (0), a pointer or a reserved type
			if c != 0 {
				break
			}
			n := p + 1 - off // at most MaxNameLen (the loop's bound)
			if dst != nil {
				copyLower(dst[:n-1], msg[off:p])
				dst[n-1] = 0
			}
			return n, labels, p + 1, nil
		}
		labels++
		p += 1 + int(c)
	}
	return readNameGeneral(msg, off, dst)
}

// readNameGeneral is readName for any name: compression pointers, and
// every error in the order the labels meet it.
func readNameGeneral(msg []byte, off int, dst *[MaxNameLen]byte) (nameLen, labels, end int, err error) {
	runStart := off
	end = -1
	hops := 0
	for {
		if off >= len(msg) {
			return 0, 0, 0, ErrShort
		}
		c := int(msg[off])
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				if nameLen+1 > MaxNameLen {
					return 0, 0, 0, ErrNameTooLong
				}
				if dst != nil {
					copyLower(dst[nameLen-(off-runStart):nameLen], msg[runStart:off])
					dst[nameLen] = 0
				}
				nameLen++
				if end < 0 {
					end = off + 1
				}
				return nameLen, labels, end, nil
			}
			if off+1+c > len(msg) {
				return 0, 0, 0, ErrShort
			}
			if nameLen+1+c+1 > MaxNameLen { // this label plus at least the root
				return 0, 0, 0, ErrNameTooLong
			}
			nameLen += 1 + c
			labels++
			off += 1 + c
		case 0xC0:
			if off+1 >= len(msg) {
				return 0, 0, 0, ErrShort
			}
			ptr := (c&0x3F)<<8 | int(msg[off+1])
			if ptr < HeaderLen || ptr >= runStart {
				return 0, 0, 0, ErrPointer
			}
			hops++
			if hops > maxPointerHops {
				return 0, 0, 0, ErrPointerHops
			}
			if end < 0 {
				end = off + 2
			}
			if dst != nil {
				copyLower(dst[nameLen-(off-runStart):nameLen], msg[runStart:off])
			}
			off = ptr
			runStart = ptr
		default:
			return 0, 0, 0, ErrLabelType
		}
	}
}

// copyLower copies src to dst (of the same length; they may be the same
// slice) with ASCII letters lower-cased, eight bytes at a time. readName
// lower-cases while copying: lower-casing the copy afterwards read back
// words that the copy had just stored in pieces, and such a load waits
// until those stores have left the store buffer (in place, a tenth of the
// parse's time).
func copyLower(dst, src []byte) {
	n := len(src)
	dst = dst[:n]
	if n < 8 {
		for i := range n {
			dst[i] = lower(src[i])
		}
		return
	}
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], lower8(binary.LittleEndian.Uint64(src[i:])))
	}
	if n%8 != 0 {
		// The last word overlaps the previous one, which is already
		// lower case (and the same bytes when dst and src are one).
		binary.LittleEndian.PutUint64(dst[n-8:], lower8(binary.LittleEndian.Uint64(src[n-8:])))
	}
}

// lower8 lower-cases the ASCII letters among eight bytes.
func lower8(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	h := x &^ highs                // each byte's low seven bits
	ge := h + ones*(0x80-'A')      // high bit: low bits >= 'A'
	gt := h + ones*(0x80-'Z'-1)    // high bit: low bits > 'Z'
	upper := ge &^ gt &^ x & highs // 'A' <= byte <= 'Z', ASCII only
	return x | upper>>2
}

func lower(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + ('a' - 'A')
	}
	return b
}

// AppendName appends the wire form of the presentation name s (for example
// "www.example.com." or "www.example.com"; "." is the root) to dst,
// lower-cased. Escapes are not supported: a name holding a backslash, a
// space, a control byte or a byte >= 0x7F is rejected, as are empty labels
// and names or labels beyond the wire limits. It is meant for build time.
func AppendName(dst []byte, s string) ([]byte, error) {
	if s == "." || s == "" {
		return append(dst, 0), nil
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	total := 1
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			c := s[i]
			if c <= ' ' || c >= 0x7F || c == '\\' {
				return dst, ErrInvalidNameChar
			}
			continue
		}
		n := i - start
		if n == 0 {
			return dst, ErrEmptyLabel
		}
		if n > MaxLabelLen {
			return dst, ErrLabelTooLong
		}
		total += 1 + n
		if total > MaxNameLen {
			return dst, ErrNameTooLong
		}
		dst = append(dst, byte(n))
		for j := start; j < i; j++ {
			dst = append(dst, lower(s[j]))
		}
		start = i + 1
	}
	return append(dst, 0), nil
}

// IsSubdomain reports whether the wire name name equals zone or lies below
// it, comparing whole labels. Both names must be uncompressed and
// lower-cased (as Query.Name and AppendName produce them).
func IsSubdomain(name, zone []byte) bool {
	if len(zone) > len(name) {
		return false
	}
	off := 0
	for off < len(name) {
		if len(name)-off == len(zone) {
			return string(name[off:]) == string(zone)
		}
		if len(name)-off < len(zone) {
			return false
		}
		off += 1 + int(name[off])
	}
	return false
}

// equalNameAt reports whether the (possibly compressed) name at off in msg
// equals the uncompressed wire name name, ignoring ASCII case. msg holds
// names we wrote ourselves, so pointers are trusted to point backwards; the
// hop count still bounds the walk.
func equalNameAt(msg []byte, off int, name []byte) bool {
	i := 0
	for hops := 0; hops <= maxPointerHops; {
		if off >= len(msg) || i >= len(name) {
			return false
		}
		c := int(msg[off])
		if c&0xC0 == 0xC0 {
			if off+1 >= len(msg) {
				return false
			}
			off = (c&0x3F)<<8 | int(msg[off+1])
			hops++
			continue
		}
		if c != int(name[i]) {
			return false
		}
		if c == 0 {
			return true
		}
		if off+1+c > len(msg) || i+1+c > len(name) {
			return false
		}
		for j := 1; j <= c; j++ {
			if lower(msg[off+j]) != lower(name[i+j]) {
				return false
			}
		}
		off += 1 + c
		i += 1 + c
	}
	return false
}
