package czf

import (
	"net/netip"
	"strconv"
	"strings"
)

// parseCIDR parses one network entry the way Traffic Router does, but
// strictly. It returns the address as written (host bits kept, IPv4-mapped
// IPv6 unmapped to IPv4) and the prefix length, or a reason for rejecting it
// (the caller quotes the entry).
//
//   - "a.b.c.d/n", "x:y::z/n": n is decimal, at most 32 (IPv4) or 128 (IPv6).
//   - No "/n": a host route (/32 or /128).
//   - Host bits are allowed: "10.0.0.1/24" matches as 10.0.0.0/24.
//   - "::ffff:a.b.c.d/n" (IPv4-mapped) is IPv4: n of 0-32 is taken as an IPv4
//     mask, as Traffic Router does; n of 96-128 is the same network written in
//     IPv6 form and becomes n-96; 33-95 cannot be expressed and is rejected.
//   - Spaces around the address and the mask are ignored (Java trims them).
//   - Anything netip.ParseAddr refuses is rejected: host names, shorthand
//     IPv4 ("10.1"), leading zeros ("010.0.0.0"), IPv6 zones ("fe80::1%eth0").
func parseCIDR(s string) (addr netip.Addr, bits int, reason string) {
	t := strings.TrimSpace(s)
	if t == "" {
		return netip.Addr{}, 0, "empty network"
	}
	host, mask, hasMask := strings.Cut(t, "/")
	host = strings.TrimSpace(host)
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, 0, "bad address " + strconv.Quote(host)
	}
	if a.Zone() != "" {
		return netip.Addr{}, 0, "address " + strconv.Quote(host) + " has an IPv6 zone"
	}
	mapped := a.Is4In6()
	a = a.Unmap()
	if !hasMask {
		return a, a.BitLen(), ""
	}
	mask = strings.TrimSpace(mask)
	n, ok := parseMask(mask)
	if !ok {
		return netip.Addr{}, 0, "mask " + strconv.Quote(mask) + " is not a number"
	}
	switch {
	case mapped && n > 128:
		return netip.Addr{}, 0, "mask longer than 128"
	case mapped && n >= 96:
		n -= 96
	case mapped && n > 32:
		return netip.Addr{}, 0, "mask " + strconv.Itoa(n) +
			" on an IPv4-mapped address must be 0-32 (IPv4 form) or 96-128 (IPv6 form)"
	case a.Is4() && n > 32:
		return netip.Addr{}, 0, "mask longer than 32"
	case n > 128:
		return netip.Addr{}, 0, "mask longer than 128"
	}
	return a, n, ""
}

// parseMask accepts decimal digits only (Java's Integer.parseInt would also
// take a sign; a signed mask is rejected here). Values saturate at 1000, which
// every caller rejects as too long.
func parseMask(s string) (int, bool) {
	if len(s) == 0 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = min(n*10+int(c-'0'), 1000)
	}
	return n, true
}
