package dnsserver

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/signpost-cdn/signpost/internal/testtool"
)

func run(t *testing.T, tool string, args ...string) string {
	t.Helper()
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func mustContain(t *testing.T, what, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("%s: output lacks %q:\n%s", what, s, out)
		}
	}
}

func mustNotContain(t *testing.T, what, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(out, s) {
			t.Errorf("%s: output has %q:\n%s", what, s, out)
		}
	}
}

// TestDig checks the wire behaviour against BIND's dig (RFC 8906 checklist
// rows that apply to the transport layer).
func TestDig(t *testing.T) {
	dig := testtool.Require(t, "dig")
	s := startServer(t, Config{Handler: newStaticHandler(t)})
	at := []string{"@" + s.UDPAddr().Addr().String(), "-p", strconv.Itoa(int(s.UDPAddr().Port())), "+tries=1", "+time=2"}
	q := func(args ...string) string { return run(t, dig, append(append([]string{}, at...), args...)...) }

	out := q("+noedns", "a.test.example", "A")
	mustContain(t, "+noedns", out, "status: NOERROR", "flags: qr aa rd;", "192.0.2.1")
	mustNotContain(t, "+noedns", out, "OPT PSEUDOSECTION")

	out = q("+edns=0", "a.test.example", "A")
	mustContain(t, "+edns=0", out, "status: NOERROR", "EDNS: version: 0, flags:; udp: 1232")

	out = q("+dnssec", "a.test.example", "A")
	mustContain(t, "+dnssec", out, "EDNS: version: 0, flags: do; udp: 1232")

	out = q("+subnet=192.168.33.0/24", "a.test.example", "A")
	mustContain(t, "+subnet", out, "CLIENT-SUBNET: 192.168.33.0/24/24")

	// D10: TR answers NOTIMP with an OPT of payload 0 (quirk 16); we answer
	// BADVERS with OPT version 0, as RFC 6891 requires.
	out = q("+edns=1", "+noednsneg", "a.test.example", "A")
	mustContain(t, "+edns=1", out, "status: BADVERS", "EDNS: version: 0")
	mustNotContain(t, "+edns=1", out, "192.0.2.1")

	// D11: class CH is REFUSED.
	out = q("-c", "CH", "version.bind", "TXT")
	mustContain(t, "class CH", out, "status: REFUSED")

	// TC over UDP, then dig's own retry over TCP gets everything.
	out = q("+bufsize=1232", "many.test.example", "A")
	mustContain(t, "truncation", out, "Truncated, retrying in TCP mode", "ANSWER: 100")

	out = q("+header-only", "+opcode=notify", "a.test.example")
	mustContain(t, "opcode", out, "status: NOTIMP")
}

// TestKdigKeepOpen sends several queries over one TCP connection with
// kdig +keepopen (RFC 7766 connection reuse).
func TestKdigKeepOpen(t *testing.T) {
	kdig := testtool.Require(t, "kdig")
	s := startServer(t, Config{Handler: newStaticHandler(t)})
	out := run(t, kdig, "@"+s.TCPAddr().Addr().String(), "-p", strconv.Itoa(int(s.TCPAddr().Port())), "+tcp", "+keepopen",
		"a.test.example", "A", "b.test.example", "A", "x.y.test.example", "A", "many.test.example", "A")
	if n := strings.Count(out, "status: NOERROR"); n != 3 {
		t.Errorf("NOERROR answers: %d, want 3\n%s", n, out)
	}
	mustContain(t, "kdig", out, "status: NXDOMAIN", "192.0.2.1", "ANSWER: 100")
	if st := s.Stats(); st.TCPAccepted != 1 {
		t.Fatalf("kdig +keepopen used %d connections, want 1", st.TCPAccepted)
	}
}

// TestDigWildcardBind: dig, which rejects an answer from an address it did
// not query ("reply from unexpected source"), gets its answers over UDP
// from a server bound to the wildcard address when it queries another
// loopback address than 127.0.0.1, the source the kernel would pick.
func TestDigWildcardBind(t *testing.T) {
	dig := testtool.Require(t, "dig")
	for _, wait := range []UDPWait{WaitKernel, WaitPoll} {
		s := startServer(t, Config{Addr: "0.0.0.0:0", Handler: newStaticHandler(t), UDPWait: wait})
		out := run(t, dig, "@127.0.0.53", "-p", strconv.Itoa(int(s.UDPAddr().Port())), "+tries=1", "+time=2", "+notcp", "a.test.example", "A")
		mustContain(t, "dig @127.0.0.53", out, "status: NOERROR", "192.0.2.1", "SERVER: 127.0.0.53#")
		mustNotContain(t, "dig @127.0.0.53", out, "unexpected source")
	}
}
