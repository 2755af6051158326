//go:build linux

package loadtest

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// TestSendBatchKeepsDatagrams sends runs of equal and different lengths
// with and without UDP segmentation and checks that every datagram
// arrives whole, in order.
func TestSendBatchKeepsDatagrams(t *testing.T) {
	srv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	_ = srv.SetReadBuffer(1 << 20)
	cl, err := net.DialUDP("udp", nil, srv.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	io, err := newUDPIO(cl, udpBatch)
	if err != nil {
		t.Fatal(err)
	}
	m := io.(*mmsgIO)
	t.Logf("kernel UDP GSO: %v", m.gso)
	var bufs [][]byte
	for i, n := range []int{50, 50, 50, 60, 60, 50, 70, 71, 72, 72} {
		b := bytes.Repeat([]byte{byte(i)}, n)
		bufs = append(bufs, b)
	}
	for range 80 { // a run longer than maxGSOSegments
		bufs = append(bufs, bytes.Repeat([]byte{0xee}, 90))
	}
	for _, gso := range []bool{m.gso, false} {
		m.gso = gso
		for off := 0; off < len(bufs); off += udpBatch {
			chunk := bufs[off:min(off+udpBatch, len(bufs))]
			if n, err := m.sendBatch(chunk); err != nil || n != len(chunk) {
				t.Fatalf("gso %v: sent %d of %d: %v", gso, n, len(chunk), err)
			}
		}
		in := make([]byte, 2048)
		_ = srv.SetReadDeadline(time.Now().Add(2 * time.Second))
		for i, want := range bufs {
			n, err := srv.Read(in)
			if err != nil {
				t.Fatalf("gso %v: datagram %d: %v", gso, i, err)
			}
			if !bytes.Equal(in[:n], want) {
				t.Fatalf("gso %v: datagram %d is %d bytes of %#x, want %d of %#x", gso, i, n, in[0], len(want), want[0])
			}
		}
	}
}

// TestPrepareGroupsRuns checks how a batch is cut into messages.
func TestPrepareGroupsRuns(t *testing.T) {
	cl, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	io, err := newUDPIO(cl, udpBatch)
	if err != nil {
		t.Fatal(err)
	}
	m := io.(*mmsgIO)
	var bufs [][]byte
	for _, n := range []int{10, 10, 20, 10, 30, 30, 30} {
		bufs = append(bufs, make([]byte, n))
	}
	m.gso = true
	if h := m.prepare(bufs); h != 4 || m.txRun[0] != 2 || m.txRun[1] != 1 || m.txRun[2] != 1 || m.txRun[3] != 3 {
		t.Fatalf("with GSO: %d messages, runs %v; want 4 messages, runs 2 1 1 3", h, m.txRun[:h])
	}
	if m.txHdrs[0].Hdr.Controllen == 0 || m.txHdrs[1].Hdr.Controllen != 0 {
		t.Fatalf("UDP_SEGMENT control message on the wrong headers")
	}
	m.gso = false
	if h := m.prepare(bufs); h != len(bufs) {
		t.Fatalf("without GSO: %d messages, want %d", h, len(bufs))
	}
}
