package control

import (
	"net/netip"
	"strconv"
	"strings"
)

// AnonymousPolicy is the anonymous IP blocking policy (anonymous-ip.json,
// spec §4.10). The four block flags are required; the allow lists and the
// redirect URL are optional. Immutable once returned.
type AnonymousPolicy struct {
	BlockAnonymousVPN    bool
	BlockHostingProvider bool
	BlockPublicProxy     bool
	BlockTorExitNode     bool
	// IP4Whitelist and IP6Whitelist are the allow lists (ip4Whitelist,
	// ip6Whitelist), masked to their prefix length.
	IP4Whitelist []netip.Prefix
	IP6Whitelist []netip.Prefix
	// RedirectURL is redirectUrl: blocked clients are redirected there
	// (302) instead of refused (403). "" when absent.
	RedirectURL string
	Warnings    []Problem
}

// ParseAnonymousPolicy decodes and validates an anonymous IP policy.
// Every problem is listed: a missing or non-boolean block flag, a
// whitelist entry that is not a CIDR of the list's family, a redirect URL
// that is not absolute http(s).
func ParseAnonymousPolicy(name string, data []byte) (*AnonymousPolicy, error) {
	p, root, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	if !p.object(root, "", true) {
		return nil, p.result()
	}
	pol := &AnonymousPolicy{}
	if a := root.get("anonymousIp"); p.object(a, "anonymousIp", true) {
		flag := func(k string) bool {
			v, fp := a.get(k), field("anonymousIp", k)
			switch {
			case v.isNull():
				p.error(fp, "", "required boolean is missing")
			case v.kind != kindBool:
				if b, ok := coerceBool(v); ok {
					return b
				}
				p.error(fp, v.text(), "expected a boolean, got "+v.kind.String())
			default:
				return v.b
			}
			return false
		}
		pol.BlockAnonymousVPN = flag("blockAnonymousVPN")
		pol.BlockHostingProvider = flag("blockHostingProvider")
		pol.BlockPublicProxy = flag("blockPublicProxy")
		pol.BlockTorExitNode = flag("blockTorExitNode")
	}
	pol.IP4Whitelist = prefixList(p, root.get("ip4Whitelist"), "ip4Whitelist", false)
	pol.IP6Whitelist = prefixList(p, root.get("ip6Whitelist"), "ip6Whitelist", true)
	if v := root.get("redirectUrl"); !v.isNull() {
		switch {
		case v.kind != kindString:
			p.error("redirectUrl", v.text(), "expected a string, got "+v.kind.String())
		case v.s == "":
		case !isAbsoluteHTTPURL(v.s):
			p.error("redirectUrl", v.s, "redirect URL "+q(v.s)+" is not an absolute http:// or https:// URL")
		default:
			pol.RedirectURL = v.s
		}
	}
	if err := p.result(); err != nil {
		return nil, err
	}
	pol.Warnings = p.warnings()
	return pol, nil
}

// prefixList decodes an optional array of CIDR strings of one family.
// Bare addresses are taken as host prefixes; host bits are masked off
// (Traffic Router's CIDR parsing does the same).
func prefixList(p *problems, n *node, path string, v6 bool) []netip.Prefix {
	if n.isNull() {
		return nil
	}
	if n.kind != kindArray {
		p.error(path, n.text(), "expected an array of CIDR strings, got "+n.kind.String())
		return nil
	}
	out := make([]netip.Prefix, 0, len(n.vals))
	for i, e := range n.vals {
		ip := index(path, i)
		if e.kind != kindString {
			p.error(ip, e.text(), "expected a CIDR string, got "+e.kind.String())
			continue
		}
		pfx, msg := parseCIDR(e.s, v6)
		if msg != "" {
			p.error(ip, e.s, "invalid CIDR "+q(e.s)+": "+msg)
			continue
		}
		out = append(out, pfx)
	}
	return out
}

// parseCIDR parses "addr/len" or a bare address of the wanted family.
func parseCIDR(s string, v6 bool) (netip.Prefix, string) {
	s = strings.TrimSpace(s)
	var pfx netip.Prefix
	if strings.IndexByte(s, '/') >= 0 {
		var err error
		if pfx, err = netip.ParsePrefix(s); err != nil {
			return pfx, strings.TrimPrefix(err.Error(), "netip.ParsePrefix("+strconv.Quote(s)+"): ")
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return pfx, "not an address or CIDR"
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	if pfx.Addr().Zone() != "" {
		return pfx, "zones are not allowed"
	}
	if pfx.Addr().Is4In6() {
		pfx = netip.PrefixFrom(pfx.Addr().Unmap(), max(pfx.Bits()-96, 0))
	}
	if pfx.Addr().Is6() != v6 {
		if v6 {
			return pfx, "not an IPv6 CIDR"
		}
		return pfx, "not an IPv4 CIDR"
	}
	return pfx.Masked(), ""
}

// isAbsoluteHTTPURL reports whether s starts with http:// or https://
// (any letter case) followed by a host.
func isAbsoluteHTTPURL(s string) bool {
	l := strings.ToLower(s)
	switch {
	case strings.HasPrefix(l, "http://"):
		return len(s) > len("http://") && s[len("http://")] != '/'
	case strings.HasPrefix(l, "https://"):
		return len(s) > len("https://") && s[len("https://")] != '/'
	}
	return false
}
