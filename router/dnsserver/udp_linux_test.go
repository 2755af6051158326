//go:build linux

package dnsserver

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"unsafe"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// fillBatch puts the queries into b as recvmmsg would, each from its own
// IPv4 sender port (10000 + index).
func fillBatch(tb testing.TB, b *udpBatch, qs []string) {
	tb.Helper()
	for i, name := range qs {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		m.Id = uint16(i)
		msg, err := m.Pack()
		if err != nil {
			tb.Fatal(err)
		}
		copy(b.rx[i*rxSlot:], msg)
		b.rxHdrs[i].Len = uint32(len(msg))
		b.rxHdrs[i].Hdr.Flags = 0
		b.rxHdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet4
		sa := b.names[i][:]
		clear(sa)
		binary.NativeEndian.PutUint16(sa[0:2], unix.AF_INET)
		binary.BigEndian.PutUint16(sa[2:4], uint16(10000+i))
		copy(sa[4:8], []byte{127, 0, 0, 1})
	}
	b.n = len(qs)
}

// TestProcessBatchRecoversPanic: a panicking handler drops its query only
// (counted as DropPanic); the queries before and after it in the batch are
// answered and addressed to their own senders.
func TestProcessBatchRecoversPanic(t *testing.T) {
	s := &Server{}
	p := NewProcessor(newStaticHandler(t))
	b := newUDPBatch(8)
	qs := []string{"panic.test.example.", "a.test.example.", "panic.test.example.", "panic.test.example.", "b.test.example.", "panic.test.example."}
	fillBatch(t, b, qs)
	s.processBatch(b, p)
	if b.sendFrom != 0 || b.sendTo != 2 {
		t.Fatalf("queued [%d, %d), want [0, 2)", b.sendFrom, b.sendTo)
	}
	for k, want := range []int{1, 4} {
		h := &b.txHdrs[k]
		if h.Hdr.Name != &b.names[want][0] || h.Hdr.Namelen != unix.SizeofSockaddrInet4 {
			t.Fatalf("response %d not addressed to sender %d", k, want)
		}
		if got := sockaddrAddrPort(b.names[want][:]); got != netip.MustParseAddrPort("127.0.0.1:"+[]string{"10001", "10004"}[k]) {
			t.Fatalf("response %d: sender %s", k, got)
		}
		resp := unsafe.Slice(b.txIov[k].Base, b.txIov[k].Len)
		var r dns.Msg
		if err := r.Unpack(resp); err != nil {
			t.Fatal(err)
		}
		if int(r.Id) != want || r.Question[0].Name != qs[want] || len(r.Answer) != 1 {
			t.Fatalf("response %d: %v", k, &r)
		}
	}
	if st := p.Stats(); st.Drops[DropPanic] != 4 || st.Rcodes[0] != 2 {
		t.Fatalf("drops %v, rcodes %v", st.Drops, st.Rcodes)
	}
}

// BenchmarkProcessBatch measures the Linux UDP engine's per-query path
// (per query: ns/op over a batch of 32) without the system calls.
func BenchmarkProcessBatch(b *testing.B) {
	s := &Server{}
	p := NewProcessor(newStaticHandler(b))
	bt := newUDPBatch(DefaultBatch)
	qs := make([]string, DefaultBatch)
	for i := range qs {
		qs[i] = "www.test.example."
	}
	fillBatch(b, bt, qs)
	b.ReportAllocs()
	for b.Loop() {
		s.processBatch(bt, p)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*DefaultBatch), "ns/query")
}
