package dnsserver

import (
	"runtime"

	"github.com/signpost-cdn/signpost/internal/metrics"
)

// RegisterMetrics exports the server's own counters on reg: what happens
// before and after the handler (received, dropped and truncated messages,
// TCP connections) and the UDP workers. The routing handler exports the
// answers by rcode, query type and result type itself. Values are read
// from Stats at each scrape.
func (s *Server) RegisterMetrics(reg *metrics.Registry) {
	reg.CounterVec("signpost_dns_received_total", "DNS messages received over UDP and TCP, answered or not.").
		WithFunc(func() uint64 { return s.Stats().Queries })
	drops := reg.CounterVec("signpost_dns_dropped_total", "DNS messages left without an answer, by reason: malformed, not_ready (no routing table yet), handler, oversize, panic, no_room; write_error counts answers the kernel refused to send.", "reason")
	for i := range NumDropReasons {
		r := DropReason(i)
		drops.WithFunc(func() uint64 { return s.Stats().Drops[r] }, r.String())
	}
	reg.CounterVec("signpost_dns_truncated_total", "DNS answers sent with TC set (too large for the client's UDP size).").
		WithFunc(func() uint64 { return s.Stats().Truncated })
	tcp := reg.CounterVec("signpost_dns_tcp_connections_total", "DNS TCP connections: accepted, or rejected over the overall or per-client cap.", "result")
	tcp.WithFunc(s.tcpAccepted.Load, "accepted")
	tcp.WithFunc(s.tcpRejected.Load, "rejected")
	reg.GaugeFunc("signpost_dns_tcp_connections_active", "DNS TCP connections open now.", func() float64 { return float64(s.tcpActive.Load()) })
	wait := s.cfg.UDPWait.String()
	if s.cfg.portable || runtime.GOOS != "linux" {
		wait = "portable"
	}
	reg.GaugeVec("signpost_dns_udp_workers", "UDP sockets and workers, by how an idle worker waits (kernel: asleep in recvmmsg; poll: parked on epoll; portable: one datagram per call).", "wait").
		With(wait).Set(float64(len(s.udp)))
}
