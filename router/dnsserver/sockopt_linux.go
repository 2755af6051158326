//go:build linux

package dnsserver

import (
	"fmt"
	"net"
	"net/netip"
	"unsafe"

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

// ctrlSlot is the control buffer per datagram of a socket that reports
// destinations (recvDestination): room for one IPV6_PKTINFO message
// (unix.CmsgSpace(20) is 40 bytes on 64-bit Linux), the largest it gets.
const ctrlSlot = 64

// recvDestination makes a UDP socket bound to a wildcard address (0.0.0.0
// or ::) report each datagram's destination address (IP_PKTINFO; on an
// IPv6 socket IPV6_RECVPKTINFO, which also reports the IPv4 destinations
// of a dual-stack socket as v4-mapped addresses), and reports whether it
// did. The answer then leaves from the address the query was sent to
// (replySource): without it the kernel picks the source by route, which on
// a host with more than one address (an anycast service address on lo, a
// second address on an interface) is not the queried one, and resolvers
// drop an answer from an address they did not ask. A socket bound to one
// address needs none of this and gets no control messages.
func recvDestination(uc *net.UDPConn) (bool, error) {
	la, ok := uc.LocalAddr().(*net.UDPAddr)
	if !ok || !la.IP.IsUnspecified() {
		return false, nil
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return false, err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		dom, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
		switch {
		case err != nil:
			serr = fmt.Errorf("socket domain (SO_DOMAIN): %w", err)
		case dom == unix.AF_INET6:
			if err := unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1); err != nil {
				serr = fmt.Errorf("destination addresses (IPV6_RECVPKTINFO): %w", err)
			}
		default:
			if err := unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1); err != nil {
				serr = fmt.Errorf("destination addresses (IP_PKTINFO): %w", err)
			}
		}
	}); err != nil {
		return false, err
	}
	return serr == nil, serr
}

// replySource turns the control messages received with a query (ctrl, as
// long as the kernel filled it) into the ones its answer is sent with,
// in place, and returns their length: the packet-info message keeps the
// local address the query arrived at as the answer's source and drops the
// interface, so that the answer is routed as any other and only its source
// is fixed. IPv4: ipi_spec_dst, which the kernel set to the destination
// (to the interface's address for a broadcast), stays; ipi_ifindex becomes
// 0. IPv6: ipi6_ifindex becomes 0 unless the address is link-local, whose
// scope needs it. Without a well-formed packet-info message, or for an
// IPv6 multicast destination (never a source), it returns 0: the kernel
// picks the source, as for a socket without recvDestination.
func replySource(ctrl []byte) int {
	for off := 0; off+unix.SizeofCmsghdr <= len(ctrl); {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&ctrl[off]))
		n := int(h.Len)
		if n < unix.SizeofCmsghdr || off+n > len(ctrl) {
			return 0
		}
		data := ctrl[off+unix.CmsgLen(0) : off+n]
		switch {
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			pi := (*unix.Inet4Pktinfo)(unsafe.Pointer(&data[0]))
			pi.Ifindex = 0
			return len(ctrl)
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			pi := (*unix.Inet6Pktinfo)(unsafe.Pointer(&data[0]))
			a := netip.AddrFrom16(pi.Addr)
			if a.IsMulticast() {
				return 0
			}
			if !a.IsLinkLocalUnicast() {
				pi.Ifindex = 0
			}
			return len(ctrl)
		}
		off += unix.CmsgSpace(n - unix.CmsgLen(0))
	}
	return 0
}
