package dnswire

import (
	"encoding/binary"
	"net/netip"
)

// Response codes (RFC 1035, RFC 6891). Values above 15 need an OPT record.
const (
	RcodeSuccess  = 0
	RcodeFormErr  = 1
	RcodeServFail = 2
	RcodeNXDomain = 3
	RcodeNotImp   = 4
	RcodeRefused  = 5
	RcodeBadVers  = 16
)

// Record types and classes the wire layer knows about.
const (
	TypeA     uint16 = 1
	TypeNS    uint16 = 2
	TypeCNAME uint16 = 5
	TypeSOA   uint16 = 6
	TypeTXT   uint16 = 16
	TypeAAAA  uint16 = 28
	TypeOPT   uint16 = 41
	TypeANY   uint16 = 255

	ClassIN  uint16 = 1
	ClassCH  uint16 = 3
	ClassANY uint16 = 255

	// OptionECS is the EDNS option code of Client Subnet (RFC 7871).
	OptionECS uint16 = 8
)

// Verdict is what Query.Parse decided about a message.
type Verdict uint8

const (
	// Drop: send nothing (unreadable header, or QR=1: a response sent to a
	// server must never be answered, to avoid loops).
	Drop Verdict = iota
	// Reply: answer at once with Query.Rcode (FORMERR, NOTIMP, REFUSED or
	// BADVERS); the handler is not consulted.
	Reply
	// Accept: a well-formed query for the handler.
	Accept
)

// String names the verdict.
func (v Verdict) String() string {
	switch v {
	case Drop:
		return "drop"
	case Reply:
		return "reply"
	case Accept:
		return "accept"
	}
	return "invalid"
}

// Header flag bits (second 16-bit word of the header).
const (
	flagQR = 1 << 15
	flagAA = 1 << 10
	flagTC = 1 << 9
	flagRD = 1 << 8
	flagCD = 1 << 4
)

// Query is a parsed query. Parse fills it from raw bytes without allocating;
// reuse one Query per worker. The fields are valid until the next Parse;
// the raw message passed to Parse must stay unchanged while a response is
// built from this Query (Writer.Start copies the question from it).
type Query struct {
	// ID is the message ID.
	ID uint16
	// Opcode is the header opcode (0 = QUERY).
	Opcode uint8
	// RD and CD are the recursion-desired and checking-disabled flags; both
	// are copied into the response.
	RD, CD bool
	// Type and Class are QTYPE and QCLASS.
	Type, Class uint16
	// Rcode is the response code to send when Parse returned Reply.
	Rcode int

	// EDNS reports an OPT record in the additional section; the fields below
	// it are meaningful only then.
	EDNS bool
	// EDNSVersion is the version field of the OPT record.
	EDNSVersion uint8
	// DO is the DNSSEC OK bit.
	DO bool
	// UDPSize is the payload size the client advertised, as sent.
	UDPSize uint16

	// ECS reports a valid EDNS Client Subnet option. When the query carries
	// several, the one with the longest source prefix wins (the first on
	// ties), as Traffic Router does.
	ECS bool
	// ECSFamily is 1 (IPv4) or 2 (IPv6).
	ECSFamily uint16
	// ECSSource is the source prefix length.
	ECSSource uint8
	// ECSAddr is the address, zero-filled beyond the prefix.
	ECSAddr netip.Addr

	msg      []byte // the raw message
	qEnd     int    // end offset of the question in msg (0: none parsed)
	nameLen  int
	labels   int
	name     [MaxNameLen]byte
	ecsBytes int // address bytes of the chosen ECS option
}

// Name returns QNAME in uncompressed wire form, lower-cased. The slice
// aliases the Query.
func (q *Query) Name() []byte { return q.name[:q.nameLen] }

// Labels returns the number of labels in QNAME (the root excluded).
func (q *Query) Labels() int { return q.labels }

// HasQuestion reports whether the question section was parsed; responses
// echo it only then.
func (q *Query) HasQuestion() bool { return q.qEnd > 0 }

// plainName reports whether the parsed QNAME has no compression pointer:
// then it takes as many octets in the message as uncompressed (a pointer
// never does: it stands for 1 or 3+ octets).
func (q *Query) plainName() bool { return q.qEnd-4-HeaderLen == q.nameLen }

// ECSPrefix returns the client subnet as a prefix (ok is false without ECS).
func (q *Query) ECSPrefix() (p netip.Prefix, ok bool) {
	if !q.ECS {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(q.ECSAddr, int(q.ECSSource)), true
}

// UDPLimit is the largest UDP response for this query: the client's EDNS
// size clamped to [MinUDPSize, MaxUDPSize], or MinUDPSize without EDNS.
func (q *Query) UDPLimit() int {
	if !q.EDNS {
		return MinUDPSize
	}
	n := int(q.UDPSize)
	if n < MinUDPSize {
		return MinUDPSize
	}
	if n > MaxUDPSize {
		return MaxUDPSize
	}
	return n
}

func (q *Query) reset(msg []byte) {
	// Keep the name buffer as is: nameLen bounds what is read.
	q.ID, q.Opcode, q.RD, q.CD, q.Type, q.Class, q.Rcode = 0, 0, false, false, 0, 0, 0
	q.EDNS, q.EDNSVersion, q.DO, q.UDPSize = false, 0, false, 0
	q.ECS, q.ECSFamily, q.ECSSource, q.ECSAddr = false, 0, 0, netip.Addr{}
	q.msg, q.qEnd, q.nameLen, q.labels, q.ecsBytes = msg, 0, 0, 0, 0
}

func (q *Query) reply(rcode int) Verdict {
	q.Rcode = rcode
	return Reply
}

// Parse checks the header of msg on raw bytes and parses the question and
// the additional section. The rules, in order:
//
//   - shorter than a header, or QR=1: Drop;
//   - opcode other than QUERY: NOTIMP;
//   - QDCOUNT != 1, or ANCOUNT/NSCOUNT != 0: FORMERR;
//   - a malformed question (including any compression pointer in it, since
//     it could only point into the header), a malformed additional record,
//     trailing bytes, more than one OPT record, an OPT owner other than the
//     root, or an invalid Client Subnet option (RFC 7871 §6): FORMERR;
//   - EDNS version above 0: BADVERS (the response carries OPT version 0);
//   - QCLASS other than IN or ANY (CH included): REFUSED;
//   - otherwise Accept.
//
// Records other than OPT in the additional section (TSIG, SIG(0)) are
// skipped and not interpreted.
func (q *Query) Parse(msg []byte) Verdict {
	if q.parseCommon(msg) {
		return Accept
	}
	return q.parseGeneral(msg)
}

// parseGeneral is Parse for every message (parseCommon serves the usual
// ones faster).
func (q *Query) parseGeneral(msg []byte) Verdict {
	q.reset(msg)
	if len(msg) < HeaderLen {
		return Drop
	}
	q.ID = binary.BigEndian.Uint16(msg[0:])
	flags := binary.BigEndian.Uint16(msg[2:])
	if flags&flagQR != 0 {
		return Drop
	}
	q.Opcode = uint8(flags>>11) & 0xF
	q.RD = flags&flagRD != 0
	q.CD = flags&flagCD != 0
	if q.Opcode != 0 {
		return q.reply(RcodeNotImp)
	}
	qd := binary.BigEndian.Uint16(msg[4:])
	an := binary.BigEndian.Uint16(msg[6:])
	ns := binary.BigEndian.Uint16(msg[8:])
	ar := int(binary.BigEndian.Uint16(msg[10:]))
	if qd != 1 || an != 0 || ns != 0 {
		return q.reply(RcodeFormErr)
	}
	n, labels, end, err := readName(msg, HeaderLen, &q.name)
	if err != nil || end+4 > len(msg) {
		return q.reply(RcodeFormErr)
	}
	q.nameLen, q.labels = n, labels
	q.Type = binary.BigEndian.Uint16(msg[end:])
	q.Class = binary.BigEndian.Uint16(msg[end+2:])
	q.qEnd = end + 4
	off := q.qEnd
	for range ar {
		var ok bool
		if off, ok = q.parseAdditional(msg, off); !ok {
			q.EDNS, q.ECS = false, false // do not echo a broken OPT
			return q.reply(RcodeFormErr)
		}
	}
	if off != len(msg) {
		q.EDNS, q.ECS = false, false
		return q.reply(RcodeFormErr)
	}
	if q.EDNS && q.EDNSVersion > 0 {
		return q.reply(RcodeBadVers)
	}
	if q.Class != ClassIN && q.Class != ClassANY {
		return q.reply(RcodeRefused)
	}
	return Accept
}

// parseAdditional reads one record of the additional section at off.
func (q *Query) parseAdditional(msg []byte, off int) (int, bool) {
	isRoot := off < len(msg) && msg[off] == 0
	end := off + 1 // the root, as in every OPT record
	if !isRoot {
		var err error
		if _, _, end, err = readName(msg, off, nil); err != nil {
			return 0, false
		}
	}
	if end+10 > len(msg) {
		return 0, false
	}
	typ := binary.BigEndian.Uint16(msg[end:])
	class := binary.BigEndian.Uint16(msg[end+2:])
	ttl := binary.BigEndian.Uint32(msg[end+4:])
	rdlen := int(binary.BigEndian.Uint16(msg[end+8:]))
	rdata := end + 10
	if rdata+rdlen > len(msg) {
		return 0, false
	}
	if typ != TypeOPT {
		return rdata + rdlen, true
	}
	if q.EDNS || !isRoot { // RFC 6891 §6.1.1: one OPT, owned by the root
		return 0, false
	}
	q.EDNS = true
	q.UDPSize = class
	q.EDNSVersion = uint8(ttl >> 16)
	q.DO = ttl&(1<<15) != 0
	if !q.parseOptions(msg[rdata : rdata+rdlen]) {
		return 0, false
	}
	return rdata + rdlen, true
}

// parseOptions walks the EDNS options and validates Client Subnet.
func (q *Query) parseOptions(opts []byte) bool {
	for len(opts) > 0 {
		if len(opts) < 4 {
			return false
		}
		code := binary.BigEndian.Uint16(opts)
		n := int(binary.BigEndian.Uint16(opts[2:]))
		if 4+n > len(opts) {
			return false
		}
		if code == OptionECS && !q.parseECS(opts[4:4+n]) {
			return false
		}
		opts = opts[4+n:]
	}
	return true
}

// parseECS validates one Client Subnet option (RFC 7871 §6): a known
// family, a source prefix within the family, exactly ceil(source/8) address
// bytes, and zero bits beyond the prefix. Anything else is FORMERR.
func (q *Query) parseECS(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	family := binary.BigEndian.Uint16(b)
	source := b[2]
	addr := b[4:]
	var maxBits int
	switch family {
	case 1:
		maxBits = 32
	case 2:
		maxBits = 128
	default:
		return false
	}
	if int(source) > maxBits || len(addr) != (int(source)+7)/8 {
		return false
	}
	if rem := source % 8; rem != 0 && addr[len(addr)-1]&(0xFF>>rem) != 0 {
		return false
	}
	if q.ECS && source <= q.ECSSource {
		return true // keep the longer (or earlier) prefix
	}
	// The address is assembled in registers and stored whole: copying the
	// option's bytes into an array and reading it back as words stalls
	// until the byte stores retire.
	var a netip.Addr
	if family == 1 {
		var a4 [4]byte
		binary.BigEndian.PutUint32(a4[:], uint32(prefixUint64(addr)>>32))
		a = netip.AddrFrom4(a4)
	} else {
		var a16 [16]byte
		binary.BigEndian.PutUint64(a16[:8], prefixUint64(addr))
		if len(addr) > 8 {
			binary.BigEndian.PutUint64(a16[8:], prefixUint64(addr[8:]))
		}
		a = netip.AddrFrom16(a16)
	}
	q.ECS, q.ECSFamily, q.ECSSource, q.ECSAddr, q.ecsBytes = true, family, source, a, len(addr)
	return true
}

// prefixUint64 returns up to eight bytes of b as the high bytes of a
// big-endian word, zero-filled: with one load when eight bytes can be read
// from b's start (within its capacity), the bytes past len(b) masked off.
func prefixUint64(b []byte) uint64 {
	n := len(b)
	switch {
	case n >= 8:
		return binary.BigEndian.Uint64(b)
	case n == 0:
		return 0
	case cap(b) >= 8:
		return binary.BigEndian.Uint64(b[:8]) &^ (1<<(64-8*n) - 1)
	}
	var v uint64
	for i, c := range b {
		v |= uint64(c) << (56 - 8*uint(i))
	}
	return v
}
