package dnsserver

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/signpost-cdn/signpost/internal/testtool"
)

// loopbackCZF maps loopback networks to fixture cache groups so that
// dig -b 127.0.N.x places the client: 127.0.0.0/24 in location-0 and
// 127.0.4.0/24 in location-4 (with their coordinates).
const loopbackCZF = `{
  "revision": "loopback test", "customerName": "signpost",
  "coverageZones": {
    "location-0": {"network": ["127.0.0.0/24"], "coordinates": {"latitude": 33.0, "longitude": -84.0}},
    "location-4": {"network": ["127.0.4.0/24"], "coordinates": {"latitude": 41.0, "longitude": -87.0}}
  }
}`

// startRouting starts a real server (UDP and TCP on 127.0.0.1) answering
// from a copy of the fixture with the loopback coverage zone file.
func startRouting(t *testing.T, config map[string]string) (*Server, []string) {
	t.Helper()
	return startRoutingWait(t, config, WaitAuto)
}

// startRoutingWait is startRouting with the UDP workers' wait mode.
func startRoutingWait(t *testing.T, config map[string]string, wait UDPWait) (*Server, []string) {
	t.Helper()
	dir := copyFixture(t, config)
	if err := os.WriteFile(filepath.Join(dir, "czmap.json"), []byte(loopbackCZF), 0o644); err != nil {
		t.Fatal(err)
	}
	h, _ := newRouting(t, dir, Options{})
	s := startServer(t, Config{Handler: h, UDPWait: wait})
	at := []string{"@" + s.UDPAddr().Addr().String(), "-p", strconv.Itoa(int(s.UDPAddr().Port()))}
	return s, at
}

// TestRoutingDig queries a running server with dig from several loopback
// source addresses (coverage zones) and with ECS, with the UDP workers
// asleep in recvmmsg and parked on epoll.
func TestRoutingDig(t *testing.T) {
	dig := testtool.Require(t, "dig")
	for _, wait := range []UDPWait{WaitKernel, WaitPoll} {
		t.Run(wait.String(), func(t *testing.T) { testRoutingDig(t, dig, wait) })
	}
}

func testRoutingDig(t *testing.T, dig string, wait UDPWait) {
	_, at := startRoutingWait(t, map[string]string{"ecsEnable": "true"}, wait)
	q := func(args ...string) string {
		return norm(run(t, dig, append(append([]string{}, at...), append([]string{"+tries=1", "+time=2"}, args...)...)...))
	}

	out := q("-b", "127.0.0.10", "edge.dns-test.thecdn.example.com", "A")
	mustContain(t, "CZ location-0", out, "status: NOERROR", "flags: qr aa rd;", "ANSWER: 2", " 30 IN A 12.34.0.10")

	out = q("-b", "127.0.4.10", "edge.federation-test.thecdn.example.com", "A")
	mustContain(t, "CZ location-4", out, "ANSWER: 3", "12.34.4.100", "12.34.4.101", "12.34.4.102")

	// ECS wins over the source address and is echoed with scope = source.
	out = q("-b", "127.0.4.10", "+subnet=12.34.10.1/32", "edge.federation-test.thecdn.example.com", "A")
	mustContain(t, "ECS federation", out, "CLIENT-SUBNET: 12.34.10.1/32/32", "CNAME foo.kabletown.net.", "flags: qr rd;")

	out = q("nonexistent.thecdn.example.com", "A")
	mustContain(t, "NXDOMAIN", out, "status: NXDOMAIN", "flags: qr aa rd;", "operations.thecdn.example.com. 2016060500 28800 7200 604800 30")

	out = q("www.google.com", "A")
	mustContain(t, "REFUSED", out, "status: REFUSED")

	out = q("mm-cname.steering-test-1.thecdn.example.com", "A")
	mustContain(t, "CNAME chase", out, "ANSWER: 2", "CNAME mm.steering-test-1.thecdn.example.com.", "A 10.20.30.42")

	// D1 from a client without coverage zone: the localized miss set.
	out = q("-b", "127.0.9.1", "tr.http-only-test.thecdn.example.com", "A")
	mustContain(t, "D1", out, "ANSWER: 4", "AUTHORITY: 4", "12.34.21.2", "12.34.21.3", "12.34.21.7", "12.34.21.8",
		"NS edge-testing-tr-02.thecdn.example.com.", "NS edge-testing-tr-08.thecdn.example.com.")
}

// TestRoutingKdigPipelined sends several queries over one TCP connection.
func TestRoutingKdigPipelined(t *testing.T) {
	kdig := testtool.Require(t, "kdig")
	s, _ := startRouting(t, nil)
	out := norm(run(t, kdig, "@"+s.TCPAddr().Addr().String(), "-p", strconv.Itoa(int(s.TCPAddr().Port())), "+tcp", "+keepopen",
		"thecdn.example.com", "SOA", "mm.steering-test-1.thecdn.example.com", "A",
		"nonexistent.thecdn.example.com", "A", "tr.http-only-test.thecdn.example.com", "AAAA"))
	if n := strings.Count(out, "status: NOERROR"); n != 3 {
		t.Errorf("NOERROR answers: %d, want 3\n%s", n, out)
	}
	mustContain(t, "kdig", out, "status: NXDOMAIN", "10.20.30.42", "2001:dead:beef:124:1::2")
	if st := s.Stats(); st.TCPAccepted != 1 {
		t.Fatalf("kdig +keepopen used %d connections, want 1", st.TCPAccepted)
	}
}

// norm collapses white space so that checks do not depend on the tools'
// column alignment.
func norm(s string) string { return strings.Join(strings.Fields(s), " ") }
