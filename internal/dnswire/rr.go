package dnswire

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// rdataKind says how Writer emits a template's RDATA.
type rdataKind uint8

const (
	rdataRaw  rdataKind = iota // copied as is
	rdataName                  // one name, compressed on write (NS, CNAME)
	rdataSOA                   // two names, compressed, then 20 bytes
)

// RR is a pre-encoded resource record without its owner: type, class, TTL
// and RDATA, built once (at table build time) and emitted by Writer.Append by
// copying bytes. Names inside NS, CNAME and SOA RDATA are compressed on
// write. An RR is immutable once built and safe to share between goroutines.
type RR struct {
	// Type, Class and TTL are written as is (Writer.AppendTTL overrides TTL).
	Type  uint16
	Class uint16
	TTL   uint32
	kind  rdataKind
	rdata []byte
	// name2 is the offset of the second name (SOA RNAME) in rdata.
	name2 int
}

// RData returns the uncompressed RDATA. The slice aliases the template.
func (r *RR) RData() []byte { return r.rdata }

// ErrBadRData reports RDATA that does not fit its type.
var ErrBadRData = errors.New("dnswire: invalid rdata")

// NewRR returns a template with raw RDATA copied as is (no name
// compression): any type the server does not need to compress.
func NewRR(typ, class uint16, ttl uint32, rdata []byte) (RR, error) {
	if len(rdata) > MaxTCPSize {
		return RR{}, ErrBadRData
	}
	return RR{Type: typ, Class: class, TTL: ttl, rdata: append([]byte(nil), rdata...)}, nil
}

// NewA returns an A record template for an IPv4 address.
func NewA(addr netip.Addr, ttl uint32) (RR, error) {
	if !addr.Is4() {
		return RR{}, ErrBadRData
	}
	a := addr.As4()
	return NewRR(TypeA, ClassIN, ttl, a[:])
}

// NewAAAA returns an AAAA record template for an IPv6 address.
func NewAAAA(addr netip.Addr, ttl uint32) (RR, error) {
	if !addr.Is6() || addr.Is4In6() {
		return RR{}, ErrBadRData
	}
	a := addr.As16()
	return NewRR(TypeAAAA, ClassIN, ttl, a[:])
}

// NewCNAME returns a CNAME template; target is a presentation name.
func NewCNAME(target string, ttl uint32) (RR, error) {
	return newNameRR(TypeCNAME, target, ttl)
}

// NewNS returns an NS template; host is a presentation name.
func NewNS(host string, ttl uint32) (RR, error) {
	return newNameRR(TypeNS, host, ttl)
}

func newNameRR(typ uint16, name string, ttl uint32) (RR, error) {
	b, err := AppendName(nil, name)
	if err != nil {
		return RR{}, err
	}
	return RR{Type: typ, Class: ClassIN, TTL: ttl, kind: rdataName, rdata: b}, nil
}

// SOA holds the fields of an SOA record.
type SOA struct {
	MName, RName                            string
	Serial, Refresh, Retry, Expire, Minimum uint32
}

// NewSOA returns an SOA template.
func NewSOA(s SOA, ttl uint32) (RR, error) {
	b, err := AppendName(nil, s.MName)
	if err != nil {
		return RR{}, err
	}
	name2 := len(b)
	if b, err = AppendName(b, s.RName); err != nil {
		return RR{}, err
	}
	for _, v := range [...]uint32{s.Serial, s.Refresh, s.Retry, s.Expire, s.Minimum} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return RR{Type: TypeSOA, Class: ClassIN, TTL: ttl, kind: rdataSOA, rdata: b, name2: name2}, nil
}

// NewTXT returns a TXT template with one character-string per element; each
// must be at most 255 bytes.
func NewTXT(ttl uint32, strs ...string) (RR, error) {
	var b []byte
	for _, s := range strs {
		if len(s) > 255 {
			return RR{}, ErrBadRData
		}
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	if len(strs) == 0 {
		b = []byte{0}
	}
	return NewRR(TypeTXT, ClassIN, ttl, b)
}
