package dnswire

import (
	"encoding/binary"
	"net/netip"
)

// parseCommon is Parse for the queries a server sees all day, in one pass
// that calls out only for the name (readName) and the Client Subnet option
// (parseECS, the general path's own check): a QUERY with one question
// whose name has no compression pointer, class IN, and either nothing
// after the question or exactly one OPT record (version 0, owned by the
// root, ending the message) with at most one Client Subnet option among
// its options. It
// fills every field as Parse would and reports true for such a query (an
// Accept); for anything else it reports false having decided nothing, and
// Parse takes the general path, which sets every field again.
//
// FuzzParse and TestParseCommonMatchesGeneral check that both paths agree
// wherever this one accepts.
func (q *Query) parseCommon(msg []byte) bool {
	if len(msg) < HeaderLen+5 {
		return false
	}
	flags := binary.BigEndian.Uint16(msg[2:])
	// QR=0 and opcode QUERY; QDCOUNT 1, ANCOUNT and NSCOUNT 0.
	if flags&(flagQR|0xF<<11) != 0 || binary.BigEndian.Uint64(msg[4:])&^0xFFFF != 1<<48 {
		return false
	}
	ar := binary.BigEndian.Uint16(msg[10:])
	if ar > 1 {
		return false
	}
	// The name, lower-cased into q.name; one with a pointer is left to the
	// general path (its octets in the message then differ from its length).
	n, labels, end, err := readName(msg, HeaderLen, &q.name)
	if err != nil || end-HeaderLen != n {
		return false
	}
	if end+4 > len(msg) || binary.BigEndian.Uint16(msg[end+2:]) != ClassIN {
		return false
	}
	qEnd := end + 4
	q.EDNS, q.EDNSVersion, q.DO, q.UDPSize = false, 0, false, 0
	q.ECS, q.ECSFamily, q.ECSSource, q.ECSAddr, q.ecsBytes = false, 0, 0, netip.Addr{}, 0
	if ar == 0 {
		if qEnd != len(msg) {
			return false
		}
	} else {
		// One OPT record owned by the root: 0, type 41, class (the UDP
		// size), TTL (extended RCODE, version, flags), RDLENGTH, and its
		// RDATA running exactly to the end of the message.
		rest := msg[qEnd:]
		if len(rest) < 11 || rest[0] != 0 || binary.BigEndian.Uint16(rest[1:]) != TypeOPT {
			return false
		}
		ttl := binary.BigEndian.Uint32(rest[5:])
		if ttl>>16&0xFF != 0 || int(binary.BigEndian.Uint16(rest[9:])) != len(rest)-11 {
			return false // a version above 0 (BADVERS) or a length to check
		}
		q.EDNS, q.UDPSize, q.DO = true, binary.BigEndian.Uint16(rest[3:]), ttl&(1<<15) != 0
		for opts := rest[11:]; len(opts) > 0; {
			if len(opts) < 4 {
				return false
			}
			n := int(binary.BigEndian.Uint16(opts[2:]))
			if 4+n > len(opts) {
				return false
			}
			if binary.BigEndian.Uint16(opts) == OptionECS {
				if q.ECS || !q.parseECS(opts[4:4+n]) {
					return false // several, or invalid: the general path decides
				}
			}
			opts = opts[4+n:]
		}
	}
	q.ID = binary.BigEndian.Uint16(msg)
	q.Opcode, q.RD, q.CD, q.Rcode = 0, flags&flagRD != 0, flags&flagCD != 0, 0
	q.Type, q.Class = binary.BigEndian.Uint16(msg[end:]), ClassIN
	q.msg, q.qEnd, q.nameLen, q.labels = msg, qEnd, n, labels
	return true
}
