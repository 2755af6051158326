//go:build linux

package dnsserver

import (
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"

	"github.com/signpost-cdn/signpost/internal/testtool"
)

// TestUDPAnswersDontFragment: the server's UDP sockets are in
// IP_PMTUDISC_PROBE (IPV6_PMTUDISC_PROBE on IPv6), and an answer as it
// crosses loopback, captured with a raw socket, has DF set in its IPv4
// header (RFC 9715 R1). The capture needs CAP_NET_RAW: without it the
// test skips that half, except under CI, where it fails.
func TestUDPAnswersDontFragment(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		s, err := New(Config{Addr: addr, Handler: newStaticHandler(t), Workers: 1})
		if err != nil {
			if addr[0] == '[' {
				t.Logf("no IPv6 loopback: %v", err)
				continue
			}
			t.Fatal(err)
		}
		level, opt := unix.IPPROTO_IP, unix.IP_MTU_DISCOVER
		if addr[0] == '[' {
			level, opt = unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER
		}
		got := sockoptInt(t, s.udp[0], level, opt)
		s.closeAll()
		if got != unix.IP_PMTUDISC_PROBE { // IPV6_PMTUDISC_PROBE has the same value
			t.Fatalf("%s: MTU discovery mode %d, want %d (PROBE: DF set, path MTU ignored)", addr, got, unix.IP_PMTUDISC_PROBE)
		}
	}

	raw, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		if errors.Is(err, unix.EPERM) && !testtool.InCI() {
			t.Skipf("skipping the capture: a raw socket needs CAP_NET_RAW: %v", err)
		}
		t.Fatalf("raw socket: %v", err)
	}
	defer unix.Close(raw)
	tv := unix.NsecToTimeval((2 * time.Second).Nanoseconds())
	if err := unix.SetsockoptTimeval(raw, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}

	s := startServer(t, Config{Handler: newStaticHandler(t), Workers: 1})
	srv := s.udp[0].LocalAddr().(*net.UDPAddr)
	c, err := net.DialUDP("udp4", nil, srv)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	client := c.LocalAddr().(*net.UDPAddr)
	q, err := newQuery("www.test.example.", dns.TypeA).Pack()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(q); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	for {
		n, _, err := unix.Recvfrom(raw, buf, 0)
		if err != nil {
			t.Fatalf("no answer captured from %s to %s: %v", srv, client, err)
		}
		ip := buf[:n]
		if n < 20 || ip[0]>>4 != 4 {
			continue
		}
		hl := int(ip[0]&0xF) * 4
		if n < hl+8 {
			continue
		}
		udp := ip[hl:]
		if int(binary.BigEndian.Uint16(udp[0:])) != srv.Port || int(binary.BigEndian.Uint16(udp[2:])) != client.Port {
			continue // the query, or other traffic
		}
		frag := binary.BigEndian.Uint16(ip[6:])
		if frag&0x4000 == 0 {
			t.Fatalf("answer from %s left without DF (flags and fragment offset %#04x)", srv, frag)
		}
		t.Logf("answer %d bytes, DF set, IP ID %d", n-hl-8, binary.BigEndian.Uint16(ip[4:]))
		return
	}
}
