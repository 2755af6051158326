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

// omitPathMTU sets IP_PMTUDISC_OMIT (and IPV6_PMTUDISC_OMIT on an IPv6
// socket) as Knot DNS and gdnsd do: answers leave without DF and are sized
// by the interface MTU, never by a path MTU learned from ICMP, which a
// spoofed "fragmentation needed" could lower to fragment answers for
// cache poisoning (answers over UDP are at most 1232 bytes anyway). It
// also spares the per-datagram route MTU lookup (about 1 % of the CPU
// under dnsperf). Failures leave the kernel default.
func omitPathMTU(uc *net.UDPConn) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_OMIT)
		if dom, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN); err == nil && dom == unix.AF_INET6 {
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_OMIT)
		}
	})
}
