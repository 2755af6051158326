package accesslog

import (
	"math"
	"net/netip"
	"strconv"
)

// appendEpochMillis appends Java's String.format("%d.%03d", ms/1000, ms%1000).
func appendEpochMillis(dst []byte, ms int64) []byte {
	dst = strconv.AppendInt(dst, ms/1000, 10)
	dst = append(dst, '.')
	return appendJavaPad3(dst, ms%1000)
}

// appendJavaPad3 appends v as Java's %03d: zero padded to width 3, the sign counting
// toward the width (-5 prints "-05").
func appendJavaPad3(dst []byte, v int64) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
		if v < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, v, 10)
	}
	if v < 100 {
		dst = append(dst, '0')
	}
	if v < 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, v, 10)
}

// appendMillis3 appends a duration as milliseconds with three decimals, the way Java's
// String.format("%.03f", nanos/1000000.0) prints it: half-up rounding of the exact decimal
// value (nanoseconds are integral, so n/1e6 is exact in its shortest decimal form).
// Negative durations print as 0.000.
func appendMillis3(dst []byte, d int64) []byte {
	if d < 0 {
		d = 0
	}
	micros := d / 1000
	if d%1000 >= 500 {
		micros++
	}
	dst = strconv.AppendInt(dst, micros/1000, 10)
	dst = append(dst, '.')
	return appendJavaPad3(dst, micros%1000)
}

// appendCoordHTTP appends v with Java DecimalFormat("0.00") and RoundingMode.DOWN:
// at least one integer digit, exactly two fraction digits, truncated toward zero.
func appendCoordHTTP(dst []byte, v float64) []byte {
	return appendDecimalDown(dst, v, 1, 2, 2)
}

// appendCoordDNS appends v with Java DecimalFormat(".##") and RoundingMode.DOWN. Java
// reads the pattern ".##" as ".0#": no minimum integer digits, one to two fraction
// digits, decimal separator always shown: 39.7528 → 39.75, 40.0 → 40.0, 0.5 → .5,
// -0.5 → -.5, 0.0 → .0.
func appendCoordDNS(dst []byte, v float64) []byte {
	return appendDecimalDown(dst, v, 0, 1, 2)
}

// appendDecimalDown formats like java.text.DecimalFormat with RoundingMode.DOWN: Java
// truncates the shortest round-trip decimal digits of the double (Double.toString), which
// strconv's shortest formatting reproduces. A negative value keeps its sign even when the
// truncated digits are all zero (Java prints "-0.00" for -0.001), as does -0.0.
func appendDecimalDown(dst []byte, v float64, minInt, minFrac, maxFrac int) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, "NaN"...)
	case math.IsInf(v, 1):
		return append(dst, "∞"...)
	case math.IsInf(v, -1):
		return append(dst, "-∞"...)
	}
	if math.Signbit(v) {
		dst = append(dst, '-')
		v = -v
	}
	var buf [40]byte
	s := strconv.AppendFloat(buf[:0], v, 'f', -1, 64)
	intPart, frac := s, s[:0]
	for i, c := range s {
		if c == '.' {
			intPart, frac = s[:i], s[i+1:]
			break
		}
	}
	if len(frac) > maxFrac {
		frac = frac[:maxFrac]
	}
	for len(frac) > minFrac && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	if len(intPart) == 1 && intPart[0] == '0' && minInt == 0 {
		intPart = intPart[:0]
	}
	for i := len(intPart); i < minInt; i++ {
		dst = append(dst, '0')
	}
	dst = append(dst, intPart...)
	// Both patterns in use show the separator: "0.00" has fraction digits, ".##" sets
	// decimalSeparatorAlwaysShown.
	dst = append(dst, '.')
	dst = append(dst, frac...)
	for i := len(frac); i < minFrac; i++ {
		dst = append(dst, '0')
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendJavaIP appends an address the way Java's InetAddress.getHostAddress prints it:
// dotted quad for IPv4 (IPv4-mapped IPv6 addresses are IPv4 in Java), and for IPv6 eight
// groups of lower-case hex without leading zeros and without "::" compression, followed by
// "%zone" when scoped. The invalid (zero) Addr prints "-".
func appendJavaIP(dst []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(dst, '-')
	}
	if a.Is4() || a.Is4In6() {
		b := a.Unmap().As4()
		for i, x := range b {
			if i > 0 {
				dst = append(dst, '.')
			}
			dst = strconv.AppendUint(dst, uint64(x), 10)
		}
		return dst
	}
	b := a.As16()
	dst = appendIPv6Groups(dst, &b)
	if z := a.Zone(); z != "" {
		dst = append(dst, '%')
		dst = append(dst, z...)
	}
	return dst
}

// appendIPv6Groups appends 16 address bytes as eight uncompressed hex groups.
func appendIPv6Groups(dst []byte, b *[16]byte) []byte {
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			dst = append(dst, ':')
		}
		g := uint16(b[i])<<8 | uint16(b[i+1])
		started := false
		for shift := 12; shift >= 0; shift -= 4 {
			n := (g >> shift) & 0xf
			if n != 0 || started || shift == 0 {
				dst = append(dst, hexDigits[n])
				started = true
			}
		}
	}
	return dst
}

// appendName appends an uncompressed wire-format name in dnsjava's presentation form
// (Name.toString): labels joined by dots with a trailing dot, bytes <= 0x20 or >= 0x7f
// as \DDD, and " ( ) . ; \ @ $ escaped with a backslash. The root name prints ".". It
// reports false when the name is malformed (a label running past the end, or no root
// label); the bytes appended so far are then returned.
func appendName(dst, name []byte) ([]byte, bool) {
	if len(name) == 1 && name[0] == 0 {
		return append(dst, '.'), true
	}
	for i := 0; i < len(name); {
		n := int(name[i])
		i++
		if n == 0 {
			return dst, i == len(name)
		}
		if n > 63 || i+n > len(name) {
			return dst, false
		}
		for _, c := range name[i : i+n] {
			dst = appendNameByte(dst, c)
		}
		dst = append(dst, '.')
		i += n
	}
	return dst, false
}

func appendNameByte(dst []byte, c byte) []byte {
	switch {
	case c <= 0x20 || c >= 0x7f:
		dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
	case c == '"' || c == '(' || c == ')' || c == '.' || c == ';' || c == '\\' || c == '@' || c == '$':
		dst = append(dst, '\\', c)
	default:
		dst = append(dst, c)
	}
	return dst
}

// typeNames are dnsjava's Type mnemonics; other values print as TYPEnnn.
var typeNames = map[uint16]string{
	1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR",
	10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT", 17: "RP",
	18: "AFSDB", 19: "X25", 20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAP-PTR", 24: "SIG",
	25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA", 29: "LOC", 30: "NXT", 31: "EID", 32: "NIMLOC",
	33: "SRV", 34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT", 38: "A6", 39: "DNAME", 41: "OPT",
	42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY",
	49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA", 53: "SMIMEA", 55: "HIP", 59: "CDS",
	60: "CDNSKEY", 61: "OPENPGPKEY", 99: "SPF", 249: "TKEY", 250: "TSIG", 251: "IXFR",
	252: "AXFR", 253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA", 32769: "DLV",
}

// appendType appends dnsjava's Type.string(t).
func appendType(dst []byte, t uint16) []byte {
	if s, ok := typeNames[t]; ok {
		return append(dst, s...)
	}
	dst = append(dst, "TYPE"...)
	return strconv.AppendUint(dst, uint64(t), 10)
}

// appendClass appends dnsjava's DClass.string(c).
func appendClass(dst []byte, c uint16) []byte {
	switch c {
	case 1:
		return append(dst, "IN"...)
	case 3:
		return append(dst, "CH"...)
	case 4:
		return append(dst, "HS"...)
	case 254:
		return append(dst, "NONE"...)
	case 255:
		return append(dst, "ANY"...)
	}
	dst = append(dst, "CLASS"...)
	return strconv.AppendUint(dst, uint64(c), 10)
}

var rcodeNames = [...]string{
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
	"NXRRSET", "NOTAUTH", "NOTZONE",
}

// appendRcode appends dnsjava's Rcode.string(r); values without a mnemonic print as
// RESERVEDnn.
func appendRcode(dst []byte, r uint16) []byte {
	if int(r) < len(rcodeNames) {
		return append(dst, rcodeNames[r]...)
	}
	if r == 16 {
		return append(dst, "BADVERS"...)
	}
	dst = append(dst, "RESERVED"...)
	return strconv.AppendUint(dst, uint64(r), 10)
}
