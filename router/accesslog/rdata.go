package accesslog

import (
	"encoding/binary"
	"strconv"
)

// DNS types whose rdata appendRData formats itself.
const (
	typeA     = 1
	typeNS    = 2
	typeCNAME = 5
	typeSOA   = 6
	typePTR   = 12
	typeMX    = 15
	typeTXT   = 16
	typeAAAA  = 28
	typeSRV   = 33
	typeSPF   = 99
	typeDNAME = 39
)

// appendRData appends an answer's rdata as dnsjava's Record.rdataToString prints it:
// Text verbatim when set, else the known types formatted from wire rdata, else (and for
// malformed rdata) the RFC 3597 form "\# <len> <HEX>" of dnsjava's unknown records.
func appendRData(dst []byte, a *DNSAnswer) []byte {
	if a.Text != nil {
		return append(dst, a.Text...)
	}
	mark := len(dst)
	out, ok := appendKnownRData(dst, a.Type, a.RData)
	if ok {
		return out
	}
	return appendUnknownRData(out[:mark], a.RData)
}

func appendKnownRData(dst []byte, t uint16, rd []byte) ([]byte, bool) {
	switch t {
	case typeA:
		if len(rd) != 4 {
			return dst, false
		}
		for i, x := range rd {
			if i > 0 {
				dst = append(dst, '.')
			}
			dst = strconv.AppendUint(dst, uint64(x), 10)
		}
		return dst, true
	case typeAAAA:
		// dnsjava prints AAAA rdata (IPv4-mapped included) as eight uncompressed groups.
		if len(rd) != 16 {
			return dst, false
		}
		return appendIPv6Groups(dst, (*[16]byte)(rd)), true
	case typeNS, typeCNAME, typePTR, typeDNAME:
		n, ok := nameLen(rd)
		if !ok || n != len(rd) {
			return dst, false
		}
		return appendName(dst, rd)
	case typeMX:
		if len(rd) < 3 {
			return dst, false
		}
		dst = strconv.AppendUint(dst, uint64(binary.BigEndian.Uint16(rd)), 10)
		dst = append(dst, ' ')
		return appendWholeName(dst, rd[2:])
	case typeSRV:
		if len(rd) < 7 {
			return dst, false
		}
		for i := 0; i < 6; i += 2 {
			dst = strconv.AppendUint(dst, uint64(binary.BigEndian.Uint16(rd[i:])), 10)
			dst = append(dst, ' ')
		}
		return appendWholeName(dst, rd[6:])
	case typeSOA:
		return appendSOA(dst, rd)
	case typeTXT, typeSPF:
		return appendTXT(dst, rd)
	}
	return dst, false
}

func appendWholeName(dst, rd []byte) ([]byte, bool) {
	n, ok := nameLen(rd)
	if !ok || n != len(rd) {
		return dst, false
	}
	return appendName(dst, rd)
}

// appendSOA prints "mname rname serial refresh retry expire minimum".
func appendSOA(dst, rd []byte) ([]byte, bool) {
	n1, ok := nameLen(rd)
	if !ok {
		return dst, false
	}
	n2, ok := nameLen(rd[n1:])
	if !ok || len(rd) != n1+n2+20 {
		return dst, false
	}
	dst, _ = appendName(dst, rd[:n1])
	dst = append(dst, ' ')
	dst, _ = appendName(dst, rd[n1:n1+n2])
	for i := n1 + n2; i < len(rd); i += 4 {
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, uint64(binary.BigEndian.Uint32(rd[i:])), 10)
	}
	return dst, true
}

// appendTXT prints each character-string quoted, separated by spaces, escaping bytes
// < 0x20 or >= 0x7f as \DDD and " and \ with a backslash (dnsjava byteArrayToString).
func appendTXT(dst, rd []byte) ([]byte, bool) {
	for i := 0; i < len(rd); {
		n := int(rd[i])
		i++
		if i+n > len(rd) {
			return dst, false
		}
		if i > 1 {
			dst = append(dst, ' ')
		}
		dst = append(dst, '"')
		for _, c := range rd[i : i+n] {
			switch {
			case c < 0x20 || c >= 0x7f:
				dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			default:
				dst = append(dst, c)
			}
		}
		dst = append(dst, '"')
		i += n
	}
	return dst, true
}

// appendUnknownRData prints "\# <len> <HEX>" (upper-case hex, as dnsjava's base16).
func appendUnknownRData(dst, rd []byte) []byte {
	const upper = "0123456789ABCDEF"
	dst = append(dst, '\\', '#', ' ')
	dst = strconv.AppendInt(dst, int64(len(rd)), 10)
	if len(rd) > 0 {
		dst = append(dst, ' ')
	}
	for _, c := range rd {
		dst = append(dst, upper[c>>4], upper[c&0xf])
	}
	return dst
}

// nameLen returns the length of the uncompressed wire name at the start of b.
func nameLen(b []byte) (int, bool) {
	for i := 0; i < len(b); {
		n := int(b[i])
		if n == 0 {
			return i + 1, true
		}
		if n > 63 {
			return 0, false
		}
		i += 1 + n
	}
	return 0, false
}
