package dnsserver

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/signpost-cdn/signpost/internal/dnswire"
)

// rawQuery assembles a message from a header and raw section bytes.
func rawQuery(id, flags, qd, an, ns, ar uint16, body ...[]byte) []byte {
	b := make([]byte, 12)
	for i, v := range []uint16{id, flags, qd, an, ns, ar} {
		binary.BigEndian.PutUint16(b[2*i:], v)
	}
	for _, p := range body {
		b = append(b, p...)
	}
	return b
}

// qname "a.test.example." in wire form, and A/IN.
var (
	qnameA = []byte("\x01a\x04test\x07example\x00")
	typeA  = []byte{0, 1, 0, 1}
)

// opt returns an OPT record with the given version, size and options.
func opt(version byte, size uint16, options ...[]byte) []byte {
	var rdata []byte
	for _, o := range options {
		rdata = append(rdata, o...)
	}
	b := []byte{0, 0, 41, byte(size >> 8), byte(size), 0, version, 0, 0, byte(len(rdata) >> 8), byte(len(rdata))}
	return append(b, rdata...)
}

// ecs returns an ECS option (code 8) with raw family, prefixes and address.
func ecs(family uint16, source, scope byte, addr ...byte) []byte {
	n := 4 + len(addr)
	b := []byte{0, 8, byte(n >> 8), byte(n), byte(family >> 8), byte(family), source, scope}
	return append(b, addr...)
}

// TestMalformedCorpus runs the deterministic malformed-packet corpus
// (reliability.md §5.2 M1-M3) through the per-packet path: each row gives
// the expected RCODE, or -1 for no response at all.
func TestMalformedCorpus(t *testing.T) {
	longLabel := append([]byte{64}, []byte(strings.Repeat("a", 64))...)
	var name256 []byte // 4 labels of 63 + 1 of 1 + root = 258 octets
	for range 4 {
		name256 = append(name256, 63)
		name256 = append(name256, strings.Repeat("b", 63)...)
	}
	name256 = append(name256, 1, 'c', 0)
	var manyLabels []byte // 128 one-octet labels: 257 octets
	for range 128 {
		manyLabels = append(manyLabels, 1, 'x')
	}
	manyLabels = append(manyLabels, 0)
	huge := make([]byte, 65535)
	copy(huge, rawQuery(1, 0, 1, 0, 0, 0, qnameA, typeA))

	const drop = -1
	cases := []struct {
		name  string
		msg   []byte
		rcode int
	}{
		{"empty datagram", nil, drop},
		{"11-byte header", make([]byte, 11), drop},
		{"header only, qdcount 0", rawQuery(1, 0, 0, 0, 0, 0), dns.RcodeFormatError},
		{"QR=1", rawQuery(1, 0x8000, 1, 0, 0, 0, qnameA, typeA), drop},
		{"QR=1 garbage", rawQuery(1, 0x8000, 9, 9, 9, 9), drop},
		{"opcode NOTIFY", rawQuery(1, 4<<11, 1, 0, 0, 0, qnameA, typeA), dns.RcodeNotImplemented},
		{"opcode UPDATE", rawQuery(1, 5<<11, 1, 0, 0, 0, qnameA, typeA), dns.RcodeNotImplemented},
		{"opcode 15", rawQuery(1, 15<<11, 0, 0, 0, 0), dns.RcodeNotImplemented},
		{"qdcount 2", rawQuery(1, 0, 2, 0, 0, 0, qnameA, typeA, qnameA, typeA), dns.RcodeFormatError},
		{"qdcount 65535", rawQuery(1, 0, 65535, 0, 0, 0, qnameA, typeA), dns.RcodeFormatError},
		{"answer in query", rawQuery(1, 0, 1, 1, 0, 0, qnameA, typeA), dns.RcodeFormatError},
		{"authority in query", rawQuery(1, 0, 1, 0, 1, 0, qnameA, typeA), dns.RcodeFormatError},
		{"question cut in name", rawQuery(1, 0, 1, 0, 0, 0, qnameA[:5]), dns.RcodeFormatError},
		{"question without type", rawQuery(1, 0, 1, 0, 0, 0, qnameA), dns.RcodeFormatError},
		{"trailing garbage", rawQuery(1, 0, 1, 0, 0, 0, qnameA, typeA, []byte{1, 2, 3}), dns.RcodeFormatError},
		{"label of 64 octets", rawQuery(1, 0, 1, 0, 0, 0, longLabel, []byte{0}, typeA), dns.RcodeFormatError},
		{"name of 258 octets", rawQuery(1, 0, 1, 0, 0, 0, name256, typeA), dns.RcodeFormatError},
		{"128 labels", rawQuery(1, 0, 1, 0, 0, 0, manyLabels, typeA), dns.RcodeFormatError},
		{"reserved label type 0b01", rawQuery(1, 0, 1, 0, 0, 0, []byte{0x40, 0}, typeA), dns.RcodeFormatError},
		{"reserved label type 0b10", rawQuery(1, 0, 1, 0, 0, 0, []byte{0x80, 0}, typeA), dns.RcodeFormatError},
		{"pointer to itself", rawQuery(1, 0, 1, 0, 0, 0, []byte{0xC0, 12}, typeA), dns.RcodeFormatError},
		{"pointer into the header", rawQuery(1, 0, 1, 0, 0, 0, []byte{0xC0, 2}, typeA), dns.RcodeFormatError},
		{"forward pointer", rawQuery(1, 0, 1, 0, 0, 0, []byte{0xC0, 14, 0}, typeA), dns.RcodeFormatError},
		{"pointer 2-cycle in additional", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, []byte{0xC0, 35, 0xC0, 33}, typeA, []byte{0, 0, 0, 0, 0, 0}), dns.RcodeFormatError},
		{"pointer to own label run", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, []byte{1, 'x', 0xC0, 33}, typeA, []byte{0, 0, 0, 0, 0, 0}), dns.RcodeFormatError},
		{"pointer to a pointer", rawQuery(1, 0, 1, 0, 0, 2, qnameA, typeA, []byte{0xC0, 12}, typeA, []byte{0, 0, 0, 0, 0, 0}, []byte{0xC0, 33}, typeA, []byte{0, 0, 0, 0, 0, 0}), dns.RcodeSuccess},
		{"good backward pointer in additional", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, []byte{0xC0, 12}, []byte{0, 16, 0, 1, 0, 0, 0, 0, 0, 0}), dns.RcodeSuccess},
		{"additional record cut", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, []byte{0, 0, 16}), dns.RcodeFormatError},
		{"rdlength beyond message", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, []byte{0, 0, 16, 0, 1, 0, 0, 0, 0, 0, 9}), dns.RcodeFormatError},
		{"two OPT records", rawQuery(1, 0, 1, 0, 0, 2, qnameA, typeA, opt(0, 1232), opt(0, 1232)), dns.RcodeFormatError},
		{"OPT owner not root", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, []byte{1, 'x'}, opt(0, 1232)), dns.RcodeFormatError},
		{"OPT option cut", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, opt(0, 1232, []byte{0, 8, 0})), dns.RcodeFormatError},
		{"OPT option length beyond rdata", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, opt(0, 1232, []byte{0, 10, 0, 9, 1})), dns.RcodeFormatError},
		{"ECS family 3", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, opt(0, 1232, ecs(3, 8, 0, 10))), dns.RcodeFormatError},
		{"ECS v4 source 33", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, opt(0, 1232, ecs(1, 33, 0, 10, 0, 0, 0, 0))), dns.RcodeFormatError},
		{"ECS v6 source 129", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, opt(0, 1232, ecs(2, 129, 0, make([]byte, 17)...))), dns.RcodeFormatError},
		{"ECS address longer than prefix", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, opt(0, 1232, ecs(1, 16, 0, 10, 1, 0))), dns.RcodeFormatError},
		{"ECS address shorter than prefix", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, opt(0, 1232, ecs(1, 24, 0, 10, 1))), dns.RcodeFormatError},
		{"ECS bits beyond prefix", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, opt(0, 1232, ecs(1, 23, 0, 10, 1, 1))), dns.RcodeFormatError},
		{"ECS option too short", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, opt(0, 1232, []byte{0, 8, 0, 2, 0, 1})), dns.RcodeFormatError},
		{"ECS source 0 (opt-out)", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, opt(0, 1232, ecs(1, 0, 0))), dns.RcodeSuccess},
		{"ECS valid /23", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, opt(0, 1232, ecs(1, 23, 0, 10, 1, 0))), dns.RcodeSuccess},
		{"unknown option ignored", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, opt(0, 1232, []byte{0, 100, 0, 1, 7})), dns.RcodeSuccess},
		{"EDNS version 1 (D10)", rawQuery(1, 0, 1, 0, 0, 1, qnameA, typeA, opt(1, 1232)), dns.RcodeBadVers},
		{"class CH (D11)", rawQuery(1, 0, 1, 0, 0, 0, qnameA, []byte{0, 16, 0, 3}), dns.RcodeRefused},
		{"class 254", rawQuery(1, 0, 1, 0, 0, 0, qnameA, []byte{0, 1, 0, 254}), dns.RcodeRefused},
		{"class ANY", rawQuery(1, 0, 1, 0, 0, 0, qnameA, []byte{0, 1, 0, 255}), dns.RcodeSuccess},
		{"Z bit and RCODE set in query", rawQuery(1, 0x0040|0x0005, 1, 0, 0, 0, qnameA, typeA), dns.RcodeSuccess},
		{"handler drop", rawQuery(1, 0, 1, 0, 0, 0, []byte("\x04drop\x04test\x07example\x00"), typeA), drop},
		{"handler panic", rawQuery(1, 0, 1, 0, 0, 0, []byte("\x05panic\x04test\x07example\x00"), typeA), drop},
		{"64 KiB datagram", huge, dns.RcodeFormatError},
	}
	p := NewProcessor(newStaticHandler(t))
	dst := make([]byte, 0, dnswire.MaxTCPSize)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := p.Serve(dst, c.msg, testClient, UDP)
			if c.rcode == drop {
				if out != nil {
					t.Fatalf("want no response, got %d bytes", len(out))
				}
				return
			}
			if out == nil {
				t.Fatalf("no response, want rcode %d", c.rcode)
			}
			var m dns.Msg
			if err := m.Unpack(out); err != nil {
				t.Fatalf("response does not unpack: %v", err)
			}
			if m.Rcode != c.rcode || m.Id != 1 || !m.Response {
				t.Fatalf("rcode %d id %d qr %v, want rcode %d", m.Rcode, m.Id, m.Response, c.rcode)
			}
			if len(out) > dnswire.MinUDPSize && m.IsEdns0() == nil {
				t.Fatalf("UDP response of %d bytes without EDNS", len(out))
			}
		})
	}
	st := p.Stats()
	if st.Drops[DropPanic] != 1 || st.Drops[DropHandler] != 1 || st.Drops[DropMalformed] != 4 {
		t.Fatalf("drops %v", st.Drops)
	}
}
