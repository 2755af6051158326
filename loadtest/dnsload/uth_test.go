package dnsload

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestReadBinaryQueries: a dnsperf -B file round-trips; a file cut short
// is refused with its name and offset.
func TestReadBinaryQueries(t *testing.T) {
	var b []byte
	for _, name := range []string{"a.example.", "b.example.", "c.example."} {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		wire, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(wire)))
		b = append(b, wire...)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "q.bin")
	if err := os.WriteFile(good, b, 0o644); err != nil {
		t.Fatal(err)
	}
	msgs, err := ReadBinaryQueries(good)
	if err != nil || len(msgs) != 3 || msgs[2].Question[0].Name != "c.example." {
		t.Fatalf("got %d messages, %v", len(msgs), err)
	}
	cut := filepath.Join(dir, "cut.bin")
	if err := os.WriteFile(cut, b[:len(b)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBinaryQueries(cut); err == nil || !strings.Contains(err.Error(), "cut.bin: offset") {
		t.Errorf("cut file: %v", err)
	}
}

// TestUTH: the closed loop gets answers from a real UDP server and counts
// no failures.
func TestUTH(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	defer srv.Shutdown()
	m := new(dns.Msg)
	m.SetQuestion("edge.geo.cdn.test.", dns.TypeA)
	r, err := UTH(context.Background(), pc.LocalAddr().String(), []*dns.Msg{m}, 4, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.Answers == 0 || r.Failures != 0 || r.QPS() <= 0 {
		t.Errorf("%+v", r)
	}
}
