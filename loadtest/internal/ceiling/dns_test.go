package main

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"
)

func query(id uint16, name string, qtype uint16) []byte {
	q := []byte{byte(id >> 8), byte(id), 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}
	for _, l := range bytes.Split([]byte(name), []byte(".")) {
		q = append(q, byte(len(l)))
		q = append(q, l...)
	}
	q = append(q, 0, byte(qtype>>8), byte(qtype), 0, 1)
	return append(q, 0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0) // OPT, dropped in the answer
}

// TestServeDNSBatches sends bursts from two clients (so the server's
// batches hold runs of equal answers to each, sent segmented where the
// kernel can) and checks every answer goes to its client with the right
// record.
func TestServeDNSBatches(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	d := &dnsAnswers{a4: map[string][4]byte{"a.example": {10, 0, 0, 1}, "long.name.example": {10, 0, 0, 2}},
		a6: map[string][16]byte{"a.example": {0xfd, 15: 1}}}
	done := make(chan error, 1)
	go func() { done <- serveDNS(c, d) }()
	defer func() { c.Close(); <-done }()
	names := []string{"a.example", "a.example", "long.name.example", "a.example", "missing.example"}
	types := []uint16{1, 1, 1, 28, 1}
	clients := make([]*net.UDPConn, 2)
	for i := range clients {
		if clients[i], err = net.DialUDP("udp", nil, c.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
		defer clients[i].Close()
	}
	// Bursts of 8 rounds (80 datagrams, well inside the default socket
	// buffers): 400 at once overflowed them on a busy machine and the
	// kernel dropped queries.
	const rounds, burst = 40, 8
	buf := make([]byte, 4096)
	for r0 := 0; r0 < rounds; r0 += burst {
		for r := r0; r < r0+burst; r++ {
			for ci, cl := range clients {
				for j := range names {
					if _, err := cl.Write(query(uint16(r*100+j*10+ci), names[j], types[j])); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		for ci, cl := range clients {
			_ = cl.SetReadDeadline(time.Now().Add(5 * time.Second))
			for range burst * len(names) {
				n, err := cl.Read(buf)
				if err != nil {
					t.Fatalf("client %d: %v", ci, err)
				}
				checkAnswer(t, d, ci, buf[:n], names, types)
			}
		}
	}
}

// checkAnswer checks one answer read by client ci.
func checkAnswer(t *testing.T, d *dnsAnswers, ci int, m []byte, names []string, types []uint16) {
	t.Helper()
	id := binary.BigEndian.Uint16(m)
	j, owner := int(id%100)/10, int(id%10)
	if owner != ci || m[2]&0x80 == 0 || binary.BigEndian.Uint16(m[10:]) != 0 {
		t.Fatalf("client %d got answer %d (client %d, flags %#x, additional %d)", ci, id, owner, m[2], binary.BigEndian.Uint16(m[10:]))
	}
	an := binary.BigEndian.Uint16(m[6:])
	var rd []byte
	switch {
	case names[j] == "missing.example":
	case types[j] == 28:
		a := d.a6[names[j]]
		rd = a[:]
	default:
		a := d.a4[names[j]]
		rd = a[:]
	}
	if rd == nil {
		if an != 0 {
			t.Fatalf("%s: %d answers, want none", names[j], an)
		}
		return
	}
	if an != 1 || !bytes.HasSuffix(m, rd) {
		t.Fatalf("%s type %d: answer % x, want one record ending % x", names[j], types[j], m, rd)
	}
}
