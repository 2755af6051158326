package dnsserver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"

	"github.com/signpost-cdn/signpost/internal/dnswire"
)

// rxSlot is the receive buffer per datagram. Larger queries are dropped
// (DropOversize); real queries are far smaller.
const rxSlot = 4096

// serveUDPPortable is the one-datagram-per-call loop (ReadMsgUDPAddrPort,
// allocation-free since Go 1.20), used where recvmmsg is unavailable.
func (s *Server) serveUDPPortable(ctx context.Context, c *net.UDPConn, dstInfo bool, p *Processor) error {
	rx := make([]byte, rxSlot)
	tx := make([]byte, 0, dnswire.MaxUDPSize)
	var oob []byte
	if dstInfo {
		oob = make([]byte, ctrlSlot)
	}
	for {
		n, oobn, flags, from, err := c.ReadMsgUDPAddrPort(rx, oob)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
				return nil
			}
			continue
		}
		if flags&unix.MSG_TRUNC != 0 {
			p.shard.drops[DropOversize].Add(1)
			continue
		}
		resp := p.Serve(tx, rx[:n], netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), UDP)
		if resp == nil {
			continue
		}
		if _, _, err := c.WriteMsgUDPAddrPort(resp, oob[:replySource(oob[:oobn])], from); err != nil {
			p.shard.drops[DropWriteError].Add(1)
		}
	}
}
