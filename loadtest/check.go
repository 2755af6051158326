package loadtest

import (
	"bytes"
	"encoding/binary"
	"net/netip"
)

// verdict is the classification of one answer. bad is the offending
// address of a wrong DNS answer (for the sample).
type verdict struct {
	out outcome
	why reason
	bad netip.Addr
	// miss is set for an answer without a cache, which missCheck compares
	// with the routing table.
	miss missKind
}

// checkDNS classifies msg, the response to q. It allocates nothing.
func (c *CDN) checkDNS(q *dnsQuery, msg []byte) verdict {
	if len(msg) < 12 || msg[2]&0x80 == 0 {
		return verdict{out: outError, why: reasonMalformed}
	}
	if msg[2]&0x02 != 0 {
		return verdict{out: outError, why: reasonTruncated}
	}
	if rc := msg[3] & 0x0f; rc != 0 {
		v := verdict{out: outError, why: reason(rc)}
		if rc == 3 {
			v.miss = missNoCache // NXDOMAIN
		}
		return v
	}
	qd := int(binary.BigEndian.Uint16(msg[4:]))
	an := int(binary.BigEndian.Uint16(msg[6:]))
	off := 12
	for range qd {
		off = skipName(msg, off)
		if off < 0 || off+4 > len(msg) {
			return verdict{out: outError, why: reasonMalformed}
		}
		off += 4
	}
	svc := &c.Services[q.svc]
	var addrs int
	var cnameOK bool
	for range an {
		off = skipName(msg, off)
		if off < 0 || off+10 > len(msg) {
			return verdict{out: outError, why: reasonMalformed}
		}
		typ := binary.BigEndian.Uint16(msg[off:])
		rdlen := int(binary.BigEndian.Uint16(msg[off+8:]))
		off += 10
		if off+rdlen > len(msg) {
			return verdict{out: outError, why: reasonMalformed}
		}
		rd := msg[off : off+rdlen]
		switch {
		case typ == 1 && rdlen == 4:
			a := netip.AddrFrom4([4]byte(rd))
			if _, ok := svc.Addrs[a]; !ok {
				return verdict{out: outWrong, why: reasonWrongAddr, bad: a}
			}
			addrs++
		case typ == 28 && rdlen == 16:
			a := netip.AddrFrom16([16]byte(rd)).Unmap()
			if _, ok := svc.Addrs[a]; !ok {
				return verdict{out: outWrong, why: reasonWrongAddr, bad: a}
			}
			addrs++
		case typ == 5:
			var buf [256]byte
			n := readName(msg, off, buf[:])
			if n < 0 {
				return verdict{out: outError, why: reasonMalformed}
			}
			if q.client.cname == "" || string(buf[:n]) != q.client.cname {
				return verdict{out: outWrong, why: reasonWrongCNAME}
			}
			cnameOK = true
		}
		off += rdlen
	}
	if addrs == 0 && !cnameOK && (q.qtype != 28 || svc.IP6) {
		return verdict{out: outWrong, why: reasonEmpty, miss: missNoCache}
	}
	return verdict{out: outOK}
}

// skipName returns the offset after the (possibly compressed) name at off,
// or -1.
func skipName(msg []byte, off int) int {
	for off < len(msg) {
		l := int(msg[off])
		switch {
		case l == 0:
			return off + 1
		case l&0xc0 == 0xc0:
			if off+2 > len(msg) {
				return -1
			}
			return off + 2
		case l&0xc0 != 0:
			return -1
		}
		off += 1 + l
	}
	return -1
}

// readName writes the name at off in lower case with dots between labels
// and no trailing dot into buf and returns its length, or -1.
func readName(msg []byte, off int, buf []byte) int {
	n, jumps := 0, 0
	for off < len(msg) {
		l := int(msg[off])
		switch {
		case l == 0:
			return n
		case l&0xc0 == 0xc0:
			if off+2 > len(msg) || jumps > 16 {
				return -1
			}
			off = int(binary.BigEndian.Uint16(msg[off:]) & 0x3fff)
			jumps++
			continue
		case l&0xc0 != 0:
			return -1
		}
		if off+1+l > len(msg) || n+l+1 > len(buf) {
			return -1
		}
		if n > 0 {
			buf[n] = '.'
			n++
		}
		for _, b := range msg[off+1 : off+1+l] {
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			buf[n] = b
			n++
		}
		off += 1 + l
	}
	return -1
}

// checkRedirect classifies an HTTP answer for the service of req: a 302
// (or 301, 303, 307, 308) whose Location host is a cache of the service.
// A 503 and a redirect to the service's bypass destination carry no cache
// and are marked for missCheck.
func (c *CDN) checkRedirect(req *httpRequest, status int, location []byte) verdict {
	if status == 503 {
		return verdict{out: outError, why: reasonUnavailable, miss: missNoCache}
	}
	if status < 300 || status > 308 || status == 304 || status == 305 || status == 306 {
		return verdict{out: outError, why: reasonStatus}
	}
	if len(location) == 0 {
		return verdict{out: outWrong, why: reasonNoLocation}
	}
	host := redirectHost(location)
	svc := &c.Services[req.svc]
	if _, ok := svc.Hosts[string(host)]; ok {
		return verdict{out: outOK}
	}
	var buf [256]byte
	if len(host) > len(buf) {
		return verdict{out: outWrong, why: reasonWrongHost}
	}
	// Retry lower-cased (hosts are stored lower-case).
	n := copy(buf[:], host)
	for i := range n {
		if 'A' <= buf[i] && buf[i] <= 'Z' {
			buf[i] += 'a' - 'A'
		}
	}
	if _, ok := svc.Hosts[string(buf[:n])]; ok {
		return verdict{out: outOK}
	}
	for _, b := range svc.BypassHosts {
		if string(buf[:n]) == b {
			return verdict{out: outError, why: reasonBypass, miss: missBypass}
		}
	}
	return verdict{out: outWrong, why: reasonWrongHost}
}

// redirectHost returns the host of an absolute URL (no port, no brackets).
func redirectHost(u []byte) []byte {
	if i := bytes.Index(u, []byte("://")); i >= 0 {
		u = u[i+3:]
	}
	if i := bytes.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	if i := bytes.LastIndexByte(u, '@'); i >= 0 {
		u = u[i+1:]
	}
	if len(u) > 0 && u[0] == '[' {
		if i := bytes.IndexByte(u, ']'); i > 0 {
			return u[1:i]
		}
	}
	if i := bytes.LastIndexByte(u, ':'); i >= 0 {
		u = u[:i]
	}
	return bytes.TrimSuffix(u, []byte("."))
}
