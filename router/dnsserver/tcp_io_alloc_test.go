//go:build !race

package dnsserver

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/signpost-cdn/signpost/internal/dnswire"
)

// TestConnIOAllocs: connIO's raw read and write allocate nothing per call
// (the callbacks are bound once per connIO).
func TestConnIOAllocs(t *testing.T) {
	server, client := tcpPair(t)
	x := newConnIO()
	x.attach(server)
	msg := []byte("0123456789abcdef")
	buf := make([]byte, 64)
	_ = client.SetDeadline(time.Now().Add(30 * time.Second))
	if n := testing.AllocsPerRun(1000, func() {
		if err := x.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(client, buf[:len(msg)]); err != nil {
			t.Fatal(err)
		}
		if _, err := client.Write(msg); err != nil {
			t.Fatal(err)
		}
		for got := 0; got < len(msg); {
			n, err := x.Read(buf[got:len(msg)])
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
	}); n != 0 {
		t.Fatalf("%v allocations per write and read, want 0", n)
	}
}

// BenchmarkServerTCP is one query and its answer per iteration over one
// loopback TCP connection to a running Server: the TCP path end to end
// (connIO's reads and writes, the deadlines, Processor.Serve), with the
// client's system calls in the figure too.
func BenchmarkServerTCP(b *testing.B) {
	s := startServer(b, Config{Handler: newStaticHandler(b)})
	c, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	q, err := newQuery("a.test.example.", dns.TypeA).Pack()
	if err != nil {
		b.Fatal(err)
	}
	framed := append([]byte{byte(len(q) >> 8), byte(len(q))}, q...)
	buf := make([]byte, 2+dnswire.MaxTCPSize)
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(framed); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf[:2]); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf[2:2+(int(buf[0])<<8|int(buf[1]))]); err != nil {
			b.Fatal(err)
		}
	}
}
