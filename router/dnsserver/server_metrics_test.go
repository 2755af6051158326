package dnsserver

import (
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/signpost-cdn/signpost/internal/metrics"
)

// TestRegisterMetrics: the server's own counters appear on /metrics with
// the values of Stats (a malformed datagram dropped, an answered query, a
// TCP connection) and the workers with their wait mode.
func TestRegisterMetrics(t *testing.T) {
	s := startServer(t, Config{Handler: newStaticHandler(t), Workers: 1, UDPWait: WaitKernel})
	reg := metrics.NewRegistry(metrics.Options{})
	s.RegisterMetrics(reg)
	if err := reg.Err(); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(s.UDPAddr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte{1, 2, 3}); err != nil { // shorter than a header
		t.Fatal(err)
	}
	// Answered over TCP, then over UDP after the malformed datagram.
	exchange(t, "tcp", s.UDPAddr().String(), newQuery("a.test.example.", dns.TypeA))
	exchange(t, "udp", s.UDPAddr().String(), newQuery("a.test.example.", dns.TypeA))
	text := string(reg.AppendText(nil))
	for _, want := range []string{
		"signpost_dns_received_total 3\n",
		`signpost_dns_dropped_total{reason="malformed"} 1` + "\n",
		`signpost_dns_dropped_total{reason="write_error"} 0` + "\n",
		"signpost_dns_truncated_total 0\n",
		`signpost_dns_tcp_connections_total{result="accepted"} 1` + "\n",
		`signpost_dns_tcp_connections_total{result="rejected"} 0` + "\n",
		"# TYPE signpost_dns_tcp_connections_active gauge\n",
		`signpost_dns_udp_workers{wait="kernel"} 1` + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
}
