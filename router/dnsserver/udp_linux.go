//go:build linux

package dnsserver

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/signpost-cdn/signpost/internal/dnswire"
)

// rxSlot is the receive buffer per datagram. Larger queries are dropped
// (DropOversize); real queries are far smaller.
const rxSlot = 4096

// sockaddrLen holds a sockaddr_in6 (28 bytes), which also fits sockaddr_in.
const sockaddrLen = unix.SizeofSockaddrInet6

// udpBatch is one worker's fixed slab: receive and transmit buffers, the
// peer addresses and the mmsghdr arrays for recvmmsg/sendmmsg, allocated
// once. golang.org/x/net/ipv4.PacketConn.ReadBatch is not used: it
// allocates a *net.UDPAddr and its IP slice per message (x/net v0.62.0
// internal/socket parseInetAddr); calling recvmmsg through
// syscall.RawConn with pre-bound closures allocates nothing.
type udpBatch struct {
	rx, tx   []byte
	names    [][sockaddrLen]byte
	rxHdrs   []unix.Mmsghdr
	txHdrs   []unix.Mmsghdr
	rxIov    []unix.Iovec
	txIov    []unix.Iovec
	n        int // result of the last system call
	errno    syscall.Errno
	sendFrom int
	sendTo   int
	recvFn   func(fd uintptr) bool
	sendFn   func(fd uintptr) bool
}

func newUDPBatch(n int) *udpBatch {
	b := &udpBatch{
		rx:     make([]byte, n*rxSlot),
		tx:     make([]byte, n*dnswire.MaxUDPSize),
		names:  make([][sockaddrLen]byte, n),
		rxHdrs: make([]unix.Mmsghdr, n),
		txHdrs: make([]unix.Mmsghdr, n),
		rxIov:  make([]unix.Iovec, n),
		txIov:  make([]unix.Iovec, n),
	}
	for i := range n {
		b.rxIov[i].Base = &b.rx[i*rxSlot]
		b.rxIov[i].SetLen(rxSlot)
		b.rxHdrs[i].Hdr.Iov = &b.rxIov[i]
		b.rxHdrs[i].Hdr.SetIovlen(1)
		b.rxHdrs[i].Hdr.Name = &b.names[i][0]
		b.txHdrs[i].Hdr.Iov = &b.txIov[i]
		b.txHdrs[i].Hdr.SetIovlen(1)
	}
	b.recvFn = b.recv
	b.sendFn = b.send
	return b
}

func (b *udpBatch) recv(fd uintptr) bool {
	for i := range b.rxHdrs {
		b.rxHdrs[i].Hdr.Namelen = sockaddrLen
		b.rxHdrs[i].Hdr.Flags = 0
	}
	n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.rxHdrs[0])), uintptr(len(b.rxHdrs)), unix.MSG_DONTWAIT, 0, 0)
	if errno == unix.EAGAIN || errno == unix.EINTR {
		return false
	}
	b.n, b.errno = int(n), errno
	return true
}

func (b *udpBatch) send(fd uintptr) bool {
	hdrs := b.txHdrs[b.sendFrom:b.sendTo]
	n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), unix.MSG_DONTWAIT, 0, 0)
	if errno == unix.EAGAIN || errno == unix.EINTR {
		return false
	}
	b.n, b.errno = int(n), errno
	return true
}

// sockaddrAddrPort decodes a sockaddr_in or sockaddr_in6 without
// allocating; IPv4-mapped IPv6 addresses are unmapped.
func sockaddrAddrPort(sa []byte) netip.AddrPort {
	port := binary.BigEndian.Uint16(sa[2:4])
	switch binary.NativeEndian.Uint16(sa[0:2]) {
	case unix.AF_INET:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(sa[4:8])), port)
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(sa[8:24])).Unmap(), port)
	}
	return netip.AddrPort{}
}

// serveUDP runs one worker on one socket until ctx ends.
func (s *Server) serveUDP(ctx context.Context, c *net.UDPConn, p *Processor) error {
	if s.cfg.portable {
		return s.serveUDPPortable(ctx, c, p)
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	b := newUDPBatch(s.cfg.Batch)
	for {
		if err := rc.Read(b.recvFn); err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		if b.errno != 0 {
			// Transient errors (ICMP-induced ECONNREFUSED, ENOMEM): retry.
			if ctx.Err() != nil {
				return nil
			}
			continue
		}
		s.processBatch(b, p)
		if err := s.flushBatch(rc, b, p); err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
	}
}

// processBatch runs every received datagram through p and queues the
// responses, addressed to the sender, in the transmit headers.
func (s *Server) processBatch(b *udpBatch, p *Processor) {
	m := 0
	for i := range b.n {
		h := &b.rxHdrs[i]
		if h.Hdr.Flags&unix.MSG_TRUNC != 0 {
			p.shard.queries.Add(1)
			p.shard.drops[DropOversize].Add(1)
			continue
		}
		msg := b.rx[i*rxSlot : i*rxSlot+int(h.Len)]
		client := sockaddrAddrPort(b.names[i][:])
		dst := b.tx[m*dnswire.MaxUDPSize : m*dnswire.MaxUDPSize : (m+1)*dnswire.MaxUDPSize]
		resp := p.Serve(dst, msg, client, UDP)
		if resp == nil {
			continue
		}
		t := &b.txHdrs[m]
		t.Hdr.Name = &b.names[i][0]
		t.Hdr.Namelen = h.Hdr.Namelen
		b.txIov[m].Base = &b.tx[m*dnswire.MaxUDPSize]
		b.txIov[m].SetLen(len(resp))
		m++
	}
	b.sendFrom, b.sendTo = 0, m
}

// flushBatch sends the queued responses, skipping one that the kernel
// refuses (counted) and retrying the rest.
func (s *Server) flushBatch(rc syscall.RawConn, b *udpBatch, p *Processor) error {
	for b.sendFrom < b.sendTo {
		if err := rc.Write(b.sendFn); err != nil {
			return err
		}
		if b.errno != 0 {
			p.shard.drops[DropWriteError].Add(1)
			b.sendFrom++
			continue
		}
		b.sendFrom += b.n
	}
	return nil
}
