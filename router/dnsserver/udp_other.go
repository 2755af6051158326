//go:build !linux

package dnsserver

import (
	"context"
	"net"
)

// serveUDP runs the portable loop: recvmmsg batching is Linux-only.
func (s *Server) serveUDP(ctx context.Context, c *net.UDPConn, dstInfo bool, p *Processor) error {
	return s.serveUDPPortable(ctx, c, dstInfo, p)
}
