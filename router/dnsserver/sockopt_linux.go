//go:build linux

package dnsserver

import (
	"net"

	"golang.org/x/sys/unix"
)

// setSocketBuffers sizes a UDP socket's receive and send buffers so that a
// burst of queries survives a short stall of the serving goroutines (a
// table build or a GC cycle on a busy core) instead of being dropped by
// the kernel. As root the size is forced past net.core.rmem_max; otherwise
// the kernel caps it at rmem_max/wmem_max. Failures leave the defaults.
func setSocketBuffers(uc *net.UDPConn, size int) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, size)
		}
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, size) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, size)
		}
	})
}

// dontFragment sets IP_PMTUDISC_PROBE (and IPV6_PMTUDISC_PROBE on an IPv6
// socket): answers leave with DF set and are sized by the interface MTU,
// never by a path MTU learned from ICMP. This is RFC 9715's R1 (UDP
// responders set IP_DONTFRAG / IPV6_DONTFRAG; BIND 9 sets DF too): an
// answer is never fragmented, so a spoofed "fragmentation needed", a known
// cache-poisoning aid, can neither fragment nor shrink it (answers over UDP
// are at most 1232 bytes, which fits any interface a DNS server runs on).
// Against IP_PMTUDISC_OMIT (no DF, what Knot DNS and gdnsd set) it also
// spares the kernel the per-datagram IPv4 ID hash (__ip_select_ident: about
// 2.5 % of the server's CPU under dnsperf); like OMIT, it spares the route
// MTU lookup. Failures leave the kernel default.
func dontFragment(uc *net.UDPConn) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE)
		if dom, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN); err == nil && dom == unix.AF_INET6 {
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_PROBE)
		}
	})
}
