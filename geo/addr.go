package geo

import (
	"net/netip"
	"strings"
)

// ParseClientAddr parses a client address as Traffic Router's geolocation
// services take it (spec §4.5, §4.12): the text up to the first '/' (so
// "192.0.2.1/24" or an ECS-style "2001:db8::/56" give their address), IPv4
// or IPv6, IPv6 optionally in brackets. Host names are not resolved (Java's
// InetAddress.getByName would; Traffic Router only ever passes literals).
// It does not allocate, except that malformed text made only of address
// characters (such as "1.2.3") costs netip.ParseAddr's error value.
func ParseClientAddr(s string) (netip.Addr, bool) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	if !addrChars(s) {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a, true
}

// addrChars reports whether s is non-empty and, up to an IPv6 zone ('%'),
// made only of the characters of IPv4 and IPv6 literals.
func addrChars(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == '.', c == ':':
		case c == '%' && i > 0:
			return true
		default:
			return false
		}
	}
	return true
}
