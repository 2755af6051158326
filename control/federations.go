package control

import (
	"net/netip"
	"strings"
)

// Federations is the federation mapping document (ops API
// /federations/all, spec §3.3). Immutable once returned.
//
// Every resolve entry is kept (Traffic Router quirk 14, dropping entries
// that overlap an earlier one, is fixed): a client matches a mapping when
// any entry of its family contains the client address.
type Federations struct {
	Name string
	Hash string
	// Entries in document order.
	Entries  []Federation
	Warnings []Problem

	index map[string]int
}

// Federation is the mapping list of one delivery service.
type Federation struct {
	DeliveryService string
	Mappings        []FederationMapping
}

// FederationMapping answers clients in Resolve4/Resolve6 with a CNAME.
// CNAME is absolute (trailing dot added); prefixes are masked.
type FederationMapping struct {
	CNAME    string
	TTL      int64
	Resolve4 []netip.Prefix
	Resolve6 []netip.Prefix
}

// Lookup returns the first mapping of the first federation of xmlID whose
// resolve list (of the address family of addr) contains addr. It does not
// allocate.
func (f *Federations) Lookup(xmlID string, addr netip.Addr) (*FederationMapping, bool) {
	if f == nil {
		return nil, false
	}
	i, ok := f.index[xmlID]
	if !ok {
		return nil, false
	}
	addr = addr.Unmap()
	ms := f.Entries[i].Mappings
	for j := range ms {
		list := ms[j].Resolve6
		if addr.Is4() {
			list = ms[j].Resolve4
		}
		for _, pfx := range list {
			if pfx.Contains(addr) {
				return &ms[j], true
			}
		}
	}
	return nil, false
}

// ParseFederations decodes and validates a federations document: cname and
// ttl are required per mapping; invalid CIDRs are skipped with a warning.
func ParseFederations(name string, data []byte) (*Federations, error) {
	p, root, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	list, lp := listRoot(p, root)
	f := &Federations{index: map[string]int{}}
	if list != nil {
		for i, e := range list.vals {
			ep := index(lp, i)
			if !p.object(e, ep, true) {
				continue
			}
			fed := Federation{DeliveryService: requiredString(p, e, ep, "deliveryService")}
			mp := field(ep, "mappings")
			ms := e.get("mappings")
			switch {
			case ms.isNull():
				p.warn(mp, "", "no mappings")
			case ms.kind != kindArray:
				p.error(mp, ms.text(), "expected an array, got "+ms.kind.String())
			default:
				for j, m := range ms.vals {
					jp := index(mp, j)
					if !p.object(m, jp, true) {
						continue
					}
					fm := FederationMapping{CNAME: requiredString(p, m, jp, "cname")}
					if fm.CNAME != "" && !strings.HasSuffix(fm.CNAME, ".") {
						fm.CNAME += "."
					}
					if t := m.get("ttl"); t.isNull() {
						p.error(field(jp, "ttl"), "", "required field is missing")
					} else if v, ok := coerceInt(t); !ok || v < 0 || v > 1<<31-1 {
						p.error(field(jp, "ttl"), t.text(), "invalid TTL "+q(t.text()))
					} else {
						fm.TTL = v
					}
					fm.Resolve4 = resolveList(p, m.get("resolve4"), field(jp, "resolve4"), false)
					fm.Resolve6 = resolveList(p, m.get("resolve6"), field(jp, "resolve6"), true)
					fed.Mappings = append(fed.Mappings, fm)
				}
			}
			p.indexFirst(f.index, fed.DeliveryService, len(f.Entries), field(ep, "deliveryService"), "federation for")
			f.Entries = append(f.Entries, fed)
		}
	}
	if err := p.result(); err != nil {
		return nil, err
	}
	f.Name, f.Hash, f.Warnings = name, ContentHash(data), p.list
	return f, nil
}

// resolveList parses a resolve4/resolve6 list; a bare address is a host
// route. Invalid entries and entries of the wrong family are skipped with a
// warning.
func resolveList(p *problems, n *node, path string, v6 bool) []netip.Prefix {
	var out []netip.Prefix
	for i, s := range p.strList(n, path) {
		ip := index(path, i)
		s = strings.TrimSpace(s)
		var pfx netip.Prefix
		var err error
		if strings.IndexByte(s, '/') >= 0 {
			pfx, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(s)
			if err == nil {
				pfx = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			p.warn(ip, s, "invalid CIDR "+q(s)+"; skipped")
			continue
		}
		if a := pfx.Addr(); a.Is4In6() && !v6 {
			bits := pfx.Bits() - 96
			if bits < 0 {
				p.warn(ip, s, "invalid CIDR "+q(s)+"; skipped")
				continue
			}
			pfx = netip.PrefixFrom(a.Unmap(), bits)
		}
		if pfx.Addr().Is4() == v6 || pfx.Addr().Zone() != "" {
			fam := "IPv4"
			if v6 {
				fam = "IPv6"
			}
			p.warn(ip, s, "CIDR "+q(s)+" is not "+fam+"; skipped")
			continue
		}
		out = append(out, pfx.Masked())
	}
	return out
}
