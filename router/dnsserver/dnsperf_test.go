package dnsserver

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/signpost-cdn/signpost/internal/testtool"
)

// TestDnsperfLoopback measures loopback UDP throughput of the engine with
// the static handler. It runs only with SIGNPOST_DNSPERF=1 since it takes
// seconds and its figure depends on the machine. Pin it as
// BENCHMARKING.md asks:
//
//	SIGNPOST_DNSPERF=1 GOMAXPROCS=1 taskset -c 1 go test -run Dnsperf -v ./router/dnsserver/
//
// (dnsperf itself is pinned to CPU 0 by the test when taskset exists).
func TestDnsperfLoopback(t *testing.T) {
	if os.Getenv("SIGNPOST_DNSPERF") != "1" {
		t.Skip("set SIGNPOST_DNSPERF=1 to measure loopback throughput")
	}
	dnsperf := testtool.Require(t, "dnsperf")
	s := startServer(t, Config{Handler: newStaticHandler(t), Workers: 1})
	qf := filepath.Join(t.TempDir(), "queries.txt")
	if err := os.WriteFile(qf, []byte("a.test.example A\nb.test.example A\nx.y.test.example A\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-s", s.UDPAddr().Addr().String(), "-p", strconv.Itoa(int(s.UDPAddr().Port())), "-d", qf, "-l", "10", "-c", "4", "-q", "100", "-t", "1"}
	cmd := exec.Command(dnsperf, args...)
	if ts, err := exec.LookPath("taskset"); err == nil {
		cmd = exec.Command(ts, append([]string{"-c", "0", dnsperf}, args...)...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dnsperf: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Queries per second:\s+([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no qps in dnsperf output:\n%s", out)
	}
	t.Logf("loopback UDP: %s qps\n%s", m[1], out)
	if st := s.Stats(); st.Drops != ([NumDropReasons]uint64{}) {
		t.Errorf("drops during the run: %v", st.Drops)
	}
}
