package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/signpost-cdn/signpost/loadtest/internal/lttest"
)

// genNoFallback writes the small generated CDN and gives every cache
// group backupLocations {"fallbackToClosest": "false", "list": [itself]}:
// a coverage-zone client whose group has no cache for a delivery service
// then gets MISS (DNS NXDOMAIN, HTTP 503 or the bypass redirect), as
// Traffic Router answers (spec 4.4).
func genNoFallback(t *testing.T) string {
	t.Helper()
	dir := lttest.GenSmall(t)
	path := filepath.Join(dir, "crconfig.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var snap map[string]any
	if err := d.Decode(&snap); err != nil {
		t.Fatal(err)
	}
	locs, ok := snap["edgeLocations"].(map[string]any)
	if !ok || len(locs) == 0 {
		t.Fatalf("%s: no edgeLocations", path)
	}
	for name, l := range locs {
		l.(map[string]any)["backupLocations"] = map[string]any{"fallbackToClosest": "false", "list": []string{name}}
	}
	if data, err = json.Marshal(snap); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestExpectedMissesAgainstRouter runs DNS (UDP and TCP) and HTTP load
// from coverage-zone clients at a router serving a CDN whose cache groups
// do not fall back to the closest group: the router's MISS answers are
// expected misses, not errors, and nothing else goes wrong.
func TestExpectedMissesAgainstRouter(t *testing.T) {
	dir := genNoFallback(t)
	a := lttest.StartRouter(t, dir)
	cfg := Config{DNS: a.DNS, HTTP: a.HTTP, Snapshot: dir, Mode: ClosedLoop, Concurrency: 8,
		Duration: Duration(2 * time.Second), Mix: Mix{DNS: 1, DNSTCP: 0.5, HTTP: 1, AAAA: 0.1, CoverageZone: 1}}
	res, err := Run(context.Background(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary())
	tot := res.Total
	if tot.Wrong != 0 || tot.Errors != 0 || tot.Timeouts != 0 {
		t.Fatalf("want no wrong answers, errors or timeouts:\n%s", res.Summary())
	}
	for _, p := range res.Protocols {
		if p.ExpectedMisses == 0 || p.OK == 0 {
			t.Errorf("%s: %d ok, %d expected misses; want both > 0", p.Protocol, p.OK, p.ExpectedMisses)
		}
	}
	if tot.MissReasons["rcode NXDOMAIN"] == 0 || tot.MissReasons[reasonUnavailable.String()]+tot.MissReasons[reasonBypass.String()] == 0 {
		t.Errorf("expected-miss reasons %v: want NXDOMAIN and HTTP 503 or bypass", tot.MissReasons)
	}
	if !strings.Contains(res.Summary(), "expected misses (the snapshot selects no cache") {
		t.Errorf("summary does not list expected misses:\n%s", res.Summary())
	}
	var tl uint64
	for _, p := range res.Timeline {
		tl += p.ExpectedMisses
	}
	if tl != tot.ExpectedMisses {
		t.Errorf("timeline expected misses %d, total %d", tl, tot.ExpectedMisses)
	}
	j, _ := json.Marshal(res)
	if !bytes.Contains(j, []byte(`"expectedMisses":`)) || !bytes.Contains(j, []byte(`"expectedMissReasons":`)) {
		t.Errorf("JSON result lacks expectedMisses / expectedMissReasons")
	}
}

// TestMissesTheTableWouldRoute answers every DNS query NXDOMAIN and every
// HTTP request 503, as a broken router would: the answers for which the
// table selects a cache are errors (the sample names the cache), the
// others expected misses.
func TestMissesTheTableWouldRoute(t *testing.T) {
	dir := genNoFallback(t)
	dnsAddr := nxResponder(t)
	httpAddr := statusServer(t, 503)
	cfg := Config{DNS: dnsAddr, HTTP: httpAddr, Snapshot: dir, Mode: ClosedLoop, Concurrency: 8,
		Duration: Duration(time.Second), Mix: Mix{DNS: 1, HTTP: 1, CoverageZone: 1}}
	res, err := Run(context.Background(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary())
	for _, p := range res.Protocols {
		if p.ExpectedMisses == 0 || p.Errors == 0 || p.OK != 0 || p.Wrong != 0 {
			t.Errorf("%s: %d expected misses, %d errors, %d ok, %d wrong; want misses and errors only",
				p.Protocol, p.ExpectedMisses, p.Errors, p.OK, p.Wrong)
		}
	}
	var named bool
	for _, s := range res.Errors {
		named = named || strings.Contains(s.Detail, "the snapshot routes it to cache ")
	}
	if !named {
		t.Errorf("no error sample names the cache the table chose: %+v", res.Errors)
	}
}

// nxResponder answers every DNS query over UDP with NXDOMAIN.
func nxResponder(t *testing.T) string {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { c.Close(); wg.Wait() })
	wg.Go(func() {
		in := make([]byte, 4096)
		for {
			n, from, err := c.ReadFromUDPAddrPort(in)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			end := skipName(in[:n], 12) + 4
			if end < 16 || end > n {
				continue
			}
			out := in[:end]
			out[2] |= 0x80
			out[3] = out[3]&0xf0 | 3
			out[10], out[11] = 0, 0
			_, _ = c.WriteToUDPAddrPort(out, from)
		}
	})
	return c.LocalAddr().String()
}

// statusServer answers every HTTP request with status.
func statusServer(t *testing.T, status int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(status) }}
	done := make(chan struct{})
	go func() { _ = srv.Serve(ln); close(done) }()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}
