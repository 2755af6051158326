package dnswire

import (
	"bytes"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func pack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	return b
}

func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 0x1234
	return m
}

func withECS(m *dns.Msg, size uint16, do bool, subnets ...string) *dns.Msg {
	m.SetEdns0(size, do)
	opt := m.IsEdns0()
	for _, s := range subnets {
		p := netip.MustParsePrefix(s)
		e := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, SourceNetmask: uint8(p.Bits()), Address: net.IP(p.Addr().AsSlice())}
		e.Family = 1
		if p.Addr().Is6() {
			e.Family = 2
		}
		opt.Option = append(opt.Option, e)
	}
	return m
}

func wireName(t testing.TB, s string) []byte {
	t.Helper()
	b, err := AppendName(nil, s)
	if err != nil {
		t.Fatalf("AppendName(%q): %v", s, err)
	}
	return b
}

func TestParseQuestion(t *testing.T) {
	var q Query
	msg := pack(t, query("WwW.Example.COM.", dns.TypeAAAA))
	if v := q.Parse(msg); v != Accept {
		t.Fatalf("verdict %v rcode %d", v, q.Rcode)
	}
	if !bytes.Equal(q.Name(), wireName(t, "www.example.com")) || q.Labels() != 3 {
		t.Fatalf("name %q labels %d", q.Name(), q.Labels())
	}
	if q.Type != dns.TypeAAAA || q.Class != ClassIN || q.ID != 0x1234 || !q.RD || q.EDNS {
		t.Fatalf("fields %+v", q)
	}
	if q.UDPLimit() != 512 {
		t.Fatalf("UDPLimit %d", q.UDPLimit())
	}
}

func TestParseEDNS(t *testing.T) {
	var q Query
	// D12: two ECS options, the longest source prefix wins.
	msg := pack(t, withECS(query("a.example.", dns.TypeA), 4096, true, "192.168.0.0/16", "192.168.33.0/24"))
	if v := q.Parse(msg); v != Accept {
		t.Fatalf("verdict %v rcode %d", v, q.Rcode)
	}
	p, ok := q.ECSPrefix()
	if !q.EDNS || !q.DO || q.UDPSize != 4096 || !ok || p != netip.MustParsePrefix("192.168.33.0/24") {
		t.Fatalf("edns %v do %v size %d ecs %v %v", q.EDNS, q.DO, q.UDPSize, p, ok)
	}
	if q.UDPLimit() != MaxUDPSize {
		t.Fatalf("UDPLimit %d", q.UDPLimit())
	}
	msg = pack(t, withECS(query("a.example.", dns.TypeA), 100, false, "2001:db8::/56"))
	if v := q.Parse(msg); v != Accept || q.UDPLimit() != 512 || q.ECSFamily != 2 || q.ECSSource != 56 {
		t.Fatalf("v6: %v limit %d %+v", v, q.UDPLimit(), q)
	}
}

// TestParseECSAddress checks the address assembled from the option's
// bytes for every source prefix length of both families.
func TestParseECSAddress(t *testing.T) {
	full := []netip.Addr{netip.MustParseAddr("203.0.113.219"), netip.MustParseAddr("2001:db8:a5c3:7e11:9f02:4b6d:e18c:37ff")}
	var q Query
	for _, a := range full {
		for bits := 0; bits <= a.BitLen(); bits++ {
			p := netip.PrefixFrom(a, bits).Masked()
			msg := pack(t, withECS(query("a.example.", dns.TypeA), 1232, false, p.String()))
			if v := q.Parse(msg); v != Accept {
				t.Fatalf("%s: verdict %v rcode %d", p, v, q.Rcode)
			}
			if got, ok := q.ECSPrefix(); !ok || got != p {
				t.Fatalf("%s: ECSPrefix %s %v", p, got, ok)
			}
		}
	}
}

func TestReadNameLimits(t *testing.T) {
	long := strings.Repeat("a", 63)
	name := long + "." + long + "." + long + "." + strings.Repeat("b", 61) // 255 octets on the wire
	b, err := AppendName(nil, name)
	if err != nil || len(b) != 255 {
		t.Fatalf("255-octet name: len %d err %v", len(b), err)
	}
	if _, err := AppendName(nil, name+"b"); err != ErrNameTooLong {
		t.Fatalf("256: %v", err)
	}
	if _, err := AppendName(nil, strings.Repeat("c", 64)+".x"); err != ErrLabelTooLong {
		t.Fatalf("64-byte label: %v", err)
	}
	if _, err := AppendName(nil, "a..b"); err != ErrEmptyLabel {
		t.Fatalf("empty label: %v", err)
	}
	if _, err := AppendName(nil, `a\.b`); err != ErrInvalidNameChar {
		t.Fatalf("escape: %v", err)
	}
}

func TestIsSubdomain(t *testing.T) {
	zone := wireName(t, "example.com")
	for _, c := range []struct {
		name string
		want bool
	}{{"example.com", true}, {"a.example.com", true}, {"b.a.example.com", true}, {"xexample.com", false}, {"com", false}, {"example.org", false}} {
		if got := IsSubdomain(wireName(t, c.name), zone); got != c.want {
			t.Errorf("IsSubdomain(%s) = %v", c.name, got)
		}
	}
	if !IsSubdomain(wireName(t, "x"), []byte{0}) {
		t.Error("everything is below the root")
	}
}

// mustRR returns a template built at test setup; a build error is a bug in
// the test itself.
func mustRR(rr RR, err error) *RR {
	if err != nil {
		panic(err)
	}
	return &rr
}

// mustParse returns msg parsed; a query the parser refuses is a bug in the
// test itself.
func mustParse(tb testing.TB, msg []byte) *Query {
	tb.Helper()
	q := new(Query)
	if q.Parse(msg) != Accept {
		tb.Fatal("parse")
	}
	return q
}

func TestWriterRoundTrip(t *testing.T) {
	var q Query
	msg := pack(t, withECS(query("Foo.Example.com.", dns.TypeA), 1232, true, "10.1.2.0/24"))
	if v := q.Parse(msg); v != Accept {
		t.Fatalf("verdict %v", v)
	}
	a1 := mustRR(NewA(netip.MustParseAddr("192.0.2.1"), 30))
	a2 := mustRR(NewA(netip.MustParseAddr("192.0.2.2"), 30))
	ns := mustRR(NewNS("ns1.example.com.", 3600))
	soa := mustRR(NewSOA(SOA{MName: "ns1.example.com", RName: "hostmaster.example.com", Serial: 7, Refresh: 1, Retry: 2, Expire: 3, Minimum: 4}, 900))
	cname := mustRR(NewCNAME("target.example.net.", 60))
	txt := mustRR(NewTXT(5, "hello", "world"))
	nsA := mustRR(NewA(netip.MustParseAddr("192.0.2.53"), 3600))
	aaaa := mustRR(NewAAAA(netip.MustParseAddr("2001:db8::1"), 3600))

	var w Writer
	w.Start(make([]byte, 0, 4096), &q, q.UDPLimit())
	w.SetAuthoritative(true)
	w.SetECSScope(20)
	ok := w.Append(Answer, OwnerAt(QuestionOffset), a1) &&
		w.AppendTTL(Answer, OwnerAt(QuestionOffset), a2, 7) &&
		w.Append(Answer, OwnerName(wireName(t, "c.example.com")), cname) &&
		w.Append(Answer, OwnerName(wireName(t, "t.example.com")), txt) &&
		w.Append(Authority, OwnerName(wireName(t, "example.com")), ns) &&
		w.Append(Authority, OwnerName(wireName(t, "example.com")), soa) &&
		w.Append(Additional, OwnerName(wireName(t, "ns1.example.com")), nsA) &&
		w.Append(Additional, OwnerName(wireName(t, "ns1.example.com")), aaaa)
	if !ok {
		t.Fatal("append failed")
	}
	out := w.Finish()
	var m dns.Msg
	if err := m.Unpack(out); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	if m.Id != 0x1234 || !m.Response || !m.Authoritative || !m.RecursionDesired || m.Truncated || m.Rcode != 0 {
		t.Fatalf("header %+v", m.MsgHdr)
	}
	if m.Question[0].Name != "Foo.Example.com." {
		t.Fatalf("question case not echoed: %q", m.Question[0].Name)
	}
	want := []string{
		"Foo.Example.com.\t30\tIN\tA\t192.0.2.1",
		"Foo.Example.com.\t7\tIN\tA\t192.0.2.2",
		"c.example.com.\t60\tIN\tCNAME\ttarget.example.net.",
		"t.example.com.\t5\tIN\tTXT\t\"hello\" \"world\"",
		"example.com.\t3600\tIN\tNS\tns1.example.com.",
		"example.com.\t900\tIN\tSOA\tns1.example.com. hostmaster.example.com. 7 1 2 3 4",
		"ns1.example.com.\t3600\tIN\tA\t192.0.2.53",
		"ns1.example.com.\t3600\tIN\tAAAA\t2001:db8::1",
	}
	var got []string
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			if rr.Header().Rrtype != dns.TypeOPT {
				got = append(got, rr.String())
			}
		}
	}
	// Names compressed against the question take its letter case (as in
	// BIND); DNS names compare case-insensitively.
	if !strings.EqualFold(strings.Join(got, "\n"), strings.Join(want, "\n")) {
		t.Fatalf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	opt := m.IsEdns0()
	if opt == nil || opt.UDPSize() != MaxUDPSize || !opt.Do() || opt.Version() != 0 || len(opt.Option) != 1 {
		t.Fatalf("opt %v", opt)
	}
	e := opt.Option[0].(*dns.EDNS0_SUBNET)
	if e.SourceNetmask != 24 || e.SourceScope != 20 || !e.Address.Equal(net.ParseIP("10.1.2.0")) {
		t.Fatalf("ecs %v", e)
	}
	// Compression: the message must be smaller than miekg's uncompressed packing.
	m.Compress = false
	plain, _ := m.Pack()
	if len(out) >= len(plain) {
		t.Fatalf("no compression: %d >= %d", len(out), len(plain))
	}
}

func TestWriterTruncation(t *testing.T) {
	q := mustParse(t, pack(t, query("x.example.", dns.TypeA)))
	var w Writer
	w.Start(make([]byte, 0, 4096), q, q.UDPLimit())
	n := 0
	for i := range 100 {
		a := mustRR(NewA(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 1))
		if !w.Append(Answer, OwnerAt(QuestionOffset), a) {
			break
		}
		n++
	}
	if n == 0 || n == 100 || !w.Truncated() {
		t.Fatalf("n %d truncated %v", n, w.Truncated())
	}
	// The whole answer RRset (one owner, one type) was removed.
	out := w.Finish()
	var m dns.Msg
	if err := m.Unpack(out); err != nil || !m.Truncated || len(m.Answer) != 0 || len(out) > 512 {
		t.Fatalf("err %v tc %v answers %d len %d", err, m.Truncated, len(m.Answer), len(out))
	}

	// Additional drops do not set TC; earlier RRsets survive.
	w.Start(make([]byte, 0, 4096), q, 512)
	a := mustRR(NewA(netip.MustParseAddr("192.0.2.1"), 1))
	big := mustRR(NewTXT(1, strings.Repeat("x", 255), strings.Repeat("y", 255)))
	if !w.Append(Answer, OwnerAt(QuestionOffset), a) || w.Append(Additional, OwnerAt(QuestionOffset), big) {
		t.Fatal("append")
	}
	if w.Truncated() || w.Append(Additional, OwnerAt(QuestionOffset), a) {
		t.Fatal("after a drop nothing is appended, and TC stays clear")
	}
	if err := m.Unpack(w.Finish()); err != nil || m.Truncated || len(m.Answer) != 1 || len(m.Extra) != 0 {
		t.Fatalf("err %v %v", err, &m)
	}
}

func TestWriterRcodes(t *testing.T) {
	var q Query
	msg := pack(t, query("x.example.", dns.TypeA))
	msg2 := append([]byte(nil), msg...)
	m := withECS(query("x.example.", dns.TypeA), 4096, true)
	m.IsEdns0().SetVersion(1)
	if v := q.Parse(pack(t, m)); v != Reply || q.Rcode != RcodeBadVers {
		t.Fatalf("edns=1: %v %d", v, q.Rcode)
	}
	var w Writer
	w.Start(make([]byte, 0, 512), &q, 512)
	w.SetRcode(q.Rcode)
	var r dns.Msg
	if err := r.Unpack(w.Finish()); err != nil || r.Rcode != dns.RcodeBadVers || r.IsEdns0() == nil || r.IsEdns0().Version() != 0 {
		t.Fatalf("BADVERS: %v %v", err, &r)
	}
	// Without EDNS an extended rcode cannot be expressed: SERVFAIL.
	q.Parse(msg2)
	w.Start(make([]byte, 0, 512), &q, 512)
	w.SetRcode(RcodeBadVers)
	if err := r.Unpack(w.Finish()); err != nil || r.Rcode != dns.RcodeServerFailure || r.IsEdns0() != nil {
		t.Fatalf("no EDNS: %v %v", err, &r)
	}
}

func TestAppendOrderAndOwner(t *testing.T) {
	var q Query
	q.Parse(pack(t, query("x.example.", dns.TypeA)))
	a := mustRR(NewA(netip.MustParseAddr("192.0.2.1"), 1))
	var w Writer
	w.Start(make([]byte, 0, 512), &q, 512)
	if !w.Append(Authority, OwnerAt(QuestionOffset), a) || w.Append(Answer, OwnerAt(QuestionOffset), a) {
		t.Fatal("sections must be appended in order")
	}
	if w.Append(Authority, OwnerAt(5), a) || w.Append(Authority, OwnerAt(4000), a) || w.Append(Authority, OwnerName(nil), a) {
		t.Fatal("bad owners must be refused")
	}
	if w.Truncated() {
		t.Fatal("refusals are not truncation")
	}
}

// TestReadNameFastPath: readName's walk for names without pointers gives
// what readNameGeneral gives, at and around its limits and wherever it
// hands over (pointers, reserved label types, truncation).
func TestReadNameFastPath(t *testing.T) {
	hdr := make([]byte, HeaderLen)
	label := func(n int, c byte) []byte { return append([]byte{byte(n)}, bytes.Repeat([]byte{c}, n)...) }
	name255 := slices.Concat(label(63, 'A'), label(63, 'a'), label(63, 'B'), label(61, 'b'), []byte{0})
	name256 := slices.Concat(label(63, 'A'), label(63, 'a'), label(63, 'B'), label(62, 'b'), []byte{0})
	cases := map[string][]byte{
		"plain":               slices.Concat(hdr, []byte("\x03WwW\x07Example\x03cOm\x00"), []byte{0, 1, 0, 1}),
		"root":                slices.Concat(hdr, []byte{0}),
		"255 octets":          slices.Concat(hdr, name255),
		"256 octets":          slices.Concat(hdr, name256),
		"256 without root":    slices.Concat(hdr, name256[:len(name256)-1]),
		"runs past the end":   slices.Concat(hdr, []byte("\x03www\x07exam")),
		"no root":             slices.Concat(hdr, []byte("\x03www")),
		"pointer to header":   slices.Concat(hdr, []byte{0xC0, 0x00}),
		"pointer after label": slices.Concat(hdr, []byte("\x01a\x00\x01b"), []byte{0xC0, 12}),
		"reserved 0x40":       slices.Concat(hdr, []byte("\x01a\x40")),
		"reserved 0x80":       slices.Concat(hdr, []byte("\x01a\x80")),
		"long label":          slices.Concat(hdr, label(63, 'x'), label(63, 'y'), []byte{0}),
		"empty":               hdr,
	}
	for name, msg := range cases {
		t.Run(name, func(t *testing.T) {
			checkReadNamePaths(t, msg, HeaderLen)
			for off := HeaderLen; off < len(msg); off++ {
				checkReadNamePaths(t, msg, off)
			}
		})
	}
	var dst [MaxNameLen]byte
	if n, labels, end, err := readName(cases["255 octets"], HeaderLen, &dst); err != nil || n != 255 || labels != 4 || end != HeaderLen+255 {
		t.Fatalf("255 octets: %d, %d labels, end %d, %v", n, labels, end, err)
	}
	if _, _, _, err := readName(cases["256 octets"], HeaderLen, &dst); err != ErrNameTooLong {
		t.Fatalf("256 octets: %v", err)
	}
	if n, _, _, err := readName(cases["plain"], HeaderLen, &dst); err != nil || string(dst[:n]) != "\x03www\x07example\x03com\x00" {
		t.Fatalf("plain: %q, %v", dst[:n], err)
	}
}

// TestParseCommonMatchesGeneral runs the queries the fast path is for, and
// its near misses, through both parse paths (checkParsePaths), and checks
// that the fast path does take the usual ones.
func TestParseCommonMatchesGeneral(t *testing.T) {
	cookie := func(m *dns.Msg) *dns.Msg {
		o := m.IsEdns0()
		o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
		return m
	}
	common := map[string][]byte{
		"plain":          pack(t, query("www.Example.com.", dns.TypeA)),
		"root":           pack(t, query(".", dns.TypeNS)),
		"EDNS":           pack(t, withECS(query("a.example.", dns.TypeAAAA), 1232, true)),
		"ECS v4 /24":     pack(t, withECS(query("edge.geo.cdn.test.", dns.TypeA), 1232, false, "10.1.2.0/24")),
		"ECS v4 /0":      pack(t, withECS(query("edge.geo.cdn.test.", dns.TypeA), 512, false, "0.0.0.0/0")),
		"ECS v4 /32":     pack(t, withECS(query("edge.geo.cdn.test.", dns.TypeA), 4096, false, "10.1.2.3/32")),
		"ECS v4 /17":     pack(t, withECS(query("edge.geo.cdn.test.", dns.TypeA), 1232, false, "10.1.128.0/17")),
		"ECS v6 /56":     pack(t, withECS(query("edge.geo.cdn.test.", dns.TypeAAAA), 1232, true, "2001:db8:1:200::/56")),
		"ECS v6 /128":    pack(t, withECS(query("edge.geo.cdn.test.", dns.TypeAAAA), 1232, true, "2001:db8::1/128")),
		"ECS and cookie": pack(t, cookie(withECS(query("edge.geo.cdn.test.", dns.TypeA), 1232, false, "10.1.2.0/24"))),
		"cookie only":    pack(t, cookie(withECS(query("edge.geo.cdn.test.", dns.TypeA), 1232, false))),
	}
	twoECS := pack(t, withECS(query("a.example.", dns.TypeA), 1232, false, "10.0.0.0/8", "10.1.2.0/24"))
	badvers := withECS(query("a.example.", dns.TypeA), 1232, false)
	badvers.IsEdns0().SetVersion(1)
	chaos := query("version.bind.", dns.TypeTXT)
	chaos.Question[0].Qclass = dns.ClassCHAOS
	other := map[string][]byte{
		"two ECS":         twoECS,
		"BADVERS":         pack(t, badvers),
		"CHAOS":           pack(t, chaos),
		"compressed name": {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1},
	}
	var q Query
	for name, msg := range common {
		checkParsePaths(t, msg)
		if !q.parseCommon(msg) {
			t.Errorf("%s: the fast path did not take it", name)
		}
		// Every prefix, and the message with each byte changed.
		for i := range msg {
			checkParsePaths(t, msg[:i])
			for _, b := range []byte{0, 1, 0x29, 0x3F, 0xC0, 0xFF} {
				m := slices.Clone(msg)
				m[i] = b
				checkParsePaths(t, m)
			}
		}
	}
	for name, msg := range other {
		checkParsePaths(t, msg)
		if q.parseCommon(msg) {
			t.Errorf("%s: the fast path took it", name)
		}
	}
}

// TestWriterECSEchoTight: the Client Subnet echo is the same whether the
// buffer has room past the message for whole-word stores or ends exactly
// where the message does, for every prefix length of both families.
func TestWriterECSEchoTight(t *testing.T) {
	for _, subnet := range []string{"0.0.0.0/0", "10.0.0.0/7", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32",
		"::/0", "2001:db8::/32", "2001:db8:1:200::/56", "2001:db8:1:2:3:4:5:0/112", "2001:db8::1/128"} {
		var q Query
		msg := pack(t, withECS(query("Edge.geo.cdn.test.", dns.TypeA), 1232, false, subnet))
		if v := q.Parse(msg); v != Accept || !q.ECS {
			t.Fatalf("%s: verdict %v, ECS %v", subnet, v, q.ECS)
		}
		build := func(capacity int) []byte {
			var w Writer
			buf := make([]byte, 0, capacity)
			for i := range buf[:capacity] {
				buf[:capacity][i] = 0xEE
			}
			w.Start(buf, &q, q.UDPLimit())
			w.SetECSScope(q.ECSSource)
			w.Append(Answer, OwnerAt(QuestionOffset), mustRR(NewA(netip.MustParseAddr("192.0.2.1"), 30)))
			return slices.Clone(w.Finish())
		}
		want := build(MaxUDPSize)
		if got := build(len(want)); string(got) != string(want) {
			t.Fatalf("%s: tight buffer\n got %x\nwant %x", subnet, got, want)
		}
		var m dns.Msg
		if err := m.Unpack(want); err != nil {
			t.Fatalf("%s: %v", subnet, err)
		}
		e := m.IsEdns0().Option[0].(*dns.EDNS0_SUBNET)
		if p := netip.MustParsePrefix(subnet); int(e.SourceNetmask) != p.Bits() || int(e.SourceScope) != p.Bits() ||
			!e.Address.Equal(net.IP(p.Addr().AsSlice())) {
			t.Fatalf("%s: echoed %v", subnet, e)
		}
	}
}
