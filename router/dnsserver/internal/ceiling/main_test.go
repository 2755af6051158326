package main

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestAppendAnswer: the go mode's answer parses, echoes the ID, the
// question and RD, sets QR and AA and carries the one A record; datagrams
// that are not plain one-question queries get none.
func TestAppendAnswer(t *testing.T) {
	q := new(dns.Msg)
	q.SetQuestion("Edge.Geo.cdn.test.", dns.TypeA)
	q.Id = 4242
	q.SetEdns0(1232, false)
	wire, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out, ok := appendAnswer(nil, wire, [4]byte{192, 0, 2, 20})
	if !ok {
		t.Fatal("no answer to a plain query")
	}
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatalf("answer does not parse: %v", err)
	}
	if r.Id != q.Id || !r.Response || !r.Authoritative || !r.RecursionDesired || r.Rcode != dns.RcodeSuccess {
		t.Errorf("header: %+v", r.MsgHdr)
	}
	if len(r.Question) != 1 || r.Question[0] != q.Question[0] {
		t.Errorf("question: %v", r.Question)
	}
	if len(r.Answer) != 1 || r.Answer[0].String() != "Edge.Geo.cdn.test.\t300\tIN\tA\t192.0.2.20" || len(r.Ns) != 0 || len(r.Extra) != 0 {
		t.Errorf("sections: %v / %v / %v", r.Answer, r.Ns, r.Extra)
	}

	resp := append([]byte(nil), wire...)
	resp[2] |= 0x80
	twoQ := append([]byte(nil), wire...)
	twoQ[5] = 2
	pointer := append(append([]byte(nil), wire[:12]...), 0xC0, 12, 0, 1, 0, 1)
	for name, msg := range map[string][]byte{
		"short":           wire[:14],
		"a response":      resp,
		"two questions":   twoQ,
		"a name pointer":  pointer,
		"cut in the type": wire[:12+len("\x04Edge\x03Geo\x03cdn\x04test\x00")+2],
	} {
		if _, ok := appendAnswer(nil, msg, [4]byte{}); ok {
			t.Errorf("%s: answered", name)
		}
	}
}

// TestModesAnswer: both modes answer a real query over UDP.
func TestModesAnswer(t *testing.T) {
	for _, mode := range []string{"go", "server"} {
		t.Run(mode, func(t *testing.T) {
			c, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := c.LocalAddr().String()
			c.Close()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				if mode == "go" {
					done <- serveGo(ctx, addr, [4]byte{192, 0, 2, 20})
				} else {
					done <- serveServer(ctx, addr, netip.MustParseAddr("192.0.2.20"))
				}
			}()
			q := new(dns.Msg)
			q.SetQuestion("edge.geo.cdn.test.", dns.TypeA)
			cl := &dns.Client{Timeout: 200 * time.Millisecond}
			// The server binds in its goroutine: until then a query is
			// refused (ICMP) or times out; retry for up to 5 s.
			var r *dns.Msg
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if r, _, err = cl.Exchange(q, addr); err == nil {
					break
				}
			}
			if err != nil {
				t.Fatalf("no answer from %s: %v", addr, err)
			}
			if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.20" {
				t.Errorf("answer: %v", r.Answer)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("did not stop")
			}
		})
	}
}
