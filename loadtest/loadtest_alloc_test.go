//go:build !race

package loadtest

import (
	"testing"
	"time"
)

// The generator's per-request paths allocate nothing: a batch of UDP
// queries sent and every answer received and checked, a DNS-over-TCP
// exchange, an HTTP redirect fetched and checked. testing.AllocsPerRun
// counts every goroutine's allocations, so the receiver goroutine and the
// loopback responders are included.
func TestUDPRoundTripAllocs(t *testing.T) {
	e, rec := newTestUDPEngine(t, udpResponder(t, false))
	e.roundTrip(udpBatch) // warm up
	if n := testing.AllocsPerRun(200, func() { e.roundTrip(udpBatch) }); n != 0 {
		t.Fatalf("UDP batch of %d: %v allocations, want 0", udpBatch, n)
	}
	if rec.c.ok == 0 || rec.c.wrong+rec.c.errors+rec.c.timeouts != 0 {
		t.Fatalf("counts %+v", rec.c)
	}
}

func TestTCPExchangeAllocs(t *testing.T) {
	sh := &shared{cdn: fakeCDN(), s: &sampler{max: 5}, start: time.Now(), timeout: 2 * time.Second}
	rec := newRecorder(ProtoDNSTCP, sh.s)
	w := newTCPWorker(sh, rec, tcpResponder(t), fakeQueries(t, 16), 0)
	defer w.close()
	w.one(-1)
	if n := testing.AllocsPerRun(500, func() { w.one(-1) }); n != 0 {
		t.Fatalf("DNS over TCP exchange: %v allocations, want 0", n)
	}
	if rec.c.ok == 0 || rec.c.wrong+rec.c.errors+rec.c.timeouts != 0 {
		t.Fatalf("counts %+v", rec.c)
	}
}

func TestHTTPRequestAllocs(t *testing.T) {
	w, rec := newTestHTTPWorker(t)
	for range 10 {
		w.one(-1)
	}
	if n := testing.AllocsPerRun(500, func() { w.one(-1) }); n != 0 {
		t.Fatalf("HTTP request: %v allocations, want 0", n)
	}
	if rec.c.ok == 0 || rec.c.wrong+rec.c.errors+rec.c.timeouts != 0 {
		t.Fatalf("counts %+v", rec.c)
	}
}

func TestCheckAllocs(t *testing.T) {
	cdn := fakeCDN()
	q := fakeQueries(t, 1)[0]
	ans := appendAnswer(nil, q.wire, mustAddr("10.0.0.1"))
	req := &httpRequest{svc: 0}
	loc := []byte("http://Cache-1.svc.example.net:8080/x")
	if n := testing.AllocsPerRun(1000, func() {
		if cdn.checkDNS(&q, ans).out != outOK || cdn.checkRedirect(req, 302, loc).out != outOK {
			t.Fatal("not ok")
		}
	}); n != 0 {
		t.Fatalf("checks: %v allocations, want 0", n)
	}
}
