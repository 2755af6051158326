//go:build linux

package dnsserver

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"

	"github.com/signpost-cdn/signpost/internal/testrun"
)

// TestWildcardAnswersFromQueriedAddress: a server bound to a wildcard
// address answers each UDP query from the address it was sent to, not
// from the address the kernel would pick by route (127.0.0.1 for a query
// to 127.0.0.5 on loopback; on a router, the unicast address instead of
// the anycast service address), in every UDP loop, over an IPv4 socket
// (IP_PKTINFO) and a dual-stack IPv6 one (IPV6_PKTINFO, IPv4 destinations
// v4-mapped).
func TestWildcardAnswersFromQueriedAddress(t *testing.T) {
	for _, mode := range udpLoops() {
		for _, bind := range []struct{ network, addr string }{{"udp4", "0.0.0.0:0"}, {"udp", "[::]:0"}} {
			t.Run(mode.name+"/"+bind.network, func(t *testing.T) {
				uc, err := net.ListenUDP(bind.network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(bind.addr)))
				if err != nil {
					t.Skipf("no %s socket: %v", bind.network, err)
				}
				s, err := New(Config{UDPConns: []*net.UDPConn{uc}, Handler: newStaticHandler(t), UDPWait: mode.wait, portable: mode.portable})
				if err != nil {
					t.Fatal(err)
				}
				testrun.Start(t, "Run", 5*time.Second, s.Run)
				port := uint16(uc.LocalAddr().(*net.UDPAddr).Port)
				dsts := []string{"127.0.0.5", "127.0.0.1", "127.9.8.7"}
				if bind.network == "udp" && ipv6Loopback() {
					dsts = append(dsts, "::1")
				}
				for _, dst := range dsts {
					to := netip.AddrPortFrom(netip.MustParseAddr(dst), port)
					from := queryFrom(t, to)
					if from != to {
						t.Errorf("query to %s answered from %s", to, from)
					}
				}
			})
		}
	}
}

// queryFrom sends one query to `to` from an unconnected socket and returns
// the address the answer came from.
func queryFrom(t *testing.T, to netip.AddrPort) netip.AddrPort {
	t.Helper()
	network, local := "udp4", "127.0.0.1:0"
	if to.Addr().Is6() {
		network, local = "udp6", "[::1]:0"
	}
	c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(local)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q, err := newQuery("a.test.example.", dns.TypeA).Pack()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteToUDPAddrPort(q, to); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1500)
	n, from, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("query to %s: %v", to, err)
	}
	var m dns.Msg
	if err := m.Unpack(buf[:n]); err != nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) == 0 {
		t.Fatalf("query to %s: answer %v, unpack error %v", to, &m, err)
	}
	return netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
}

func ipv6Loopback() bool {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// putPktinfo4 writes into dst, without allocating, the IP_PKTINFO message
// that a socket bound to 0.0.0.0 receives with a query to 192.0.2.53, and
// returns its length.
func putPktinfo4(dst []byte) int {
	n := unix.CmsgSpace(unix.SizeofInet4Pktinfo)
	clear(dst[:n])
	h := (*unix.Cmsghdr)(unsafe.Pointer(&dst[0]))
	h.Level, h.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
	h.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
	*(*unix.Inet4Pktinfo)(unsafe.Pointer(&dst[unix.CmsgLen(0)])) = unix.Inet4Pktinfo{
		Ifindex: 2, Spec_dst: [4]byte{192, 0, 2, 53}, Addr: [4]byte{192, 0, 2, 53},
	}
	return n
}

// BenchmarkProcessBatchRoutedWildcard is BenchmarkProcessBatchRouted on a
// socket bound to a wildcard address: every answer also gets its source
// from the query's destination (replySource).
func BenchmarkProcessBatchRoutedWildcard(b *testing.B) {
	s, p, bt, msgs := routedBatch(b)
	bt.withControl()
	benchProcessBatch(b, s, p, bt, msgs)
}

// TestReplySource: the control messages a query arrived with become its
// answer's: the interface dropped (kept for an IPv6 link-local address),
// the local address kept; nothing for a multicast destination, a
// truncated buffer or other messages.
func TestReplySource(t *testing.T) {
	v4 := func(ifindex int32, specDst, addr string) []byte {
		pi := unix.Inet4Pktinfo{Ifindex: ifindex, Spec_dst: netip.MustParseAddr(specDst).As4(), Addr: netip.MustParseAddr(addr).As4()}
		return cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, unsafe.Slice((*byte)(unsafe.Pointer(&pi)), unix.SizeofInet4Pktinfo))
	}
	v6 := func(ifindex uint32, addr string) []byte {
		pi := unix.Inet6Pktinfo{Addr: netip.MustParseAddr(addr).As16(), Ifindex: ifindex}
		return cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unsafe.Slice((*byte)(unsafe.Pointer(&pi)), unix.SizeofInet6Pktinfo))
	}
	other := cmsg(unix.SOL_SOCKET, unix.SO_TIMESTAMP, make([]byte, 16))
	for _, tc := range []struct {
		name    string
		in, out []byte // out nil: length 0 returned
	}{
		{"ipv4", v4(3, "192.0.2.53", "192.0.2.53"), v4(0, "192.0.2.53", "192.0.2.53")},
		{"ipv4 broadcast", v4(3, "192.0.2.1", "192.0.2.255"), v4(0, "192.0.2.1", "192.0.2.255")},
		{"ipv6", v6(3, "2001:db8::53"), v6(0, "2001:db8::53")},
		{"ipv6 v4-mapped", v6(1, "::ffff:127.0.0.5"), v6(0, "::ffff:127.0.0.5")},
		{"ipv6 link-local", v6(3, "fe80::1"), v6(3, "fe80::1")},
		{"after another message", append(other, v4(3, "192.0.2.53", "192.0.2.53")...), append(other, v4(0, "192.0.2.53", "192.0.2.53")...)},
		{"ipv6 multicast", v6(3, "ff02::1"), nil},
		{"other message only", other, nil},
		{"empty", nil, nil},
		{"truncated header", v4(3, "192.0.2.53", "192.0.2.53")[:8], nil},
		{"truncated data", v4(3, "192.0.2.53", "192.0.2.53")[:unix.CmsgLen(4)], nil},
	} {
		buf := bytes.Clone(tc.in)
		n := replySource(buf)
		if !bytes.Equal(buf[:n], tc.out) {
			t.Errorf("%s: got % x, want % x", tc.name, buf[:n], tc.out)
		}
	}
}

// cmsg is one control message with its padding.
func cmsg(level, typ int, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = int32(level), int32(typ)
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}
