package service

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/router/routertest"
)

type running struct {
	addrs  Addrs
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, src, state string) *running {
	t.Helper()
	return startWith(t, Config{Source: src, StateDir: state, PollInterval: 50 * time.Millisecond})
}

// location asks the HTTP routing port for R1 and returns the Location.
func location(t *testing.T, addr, host string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/stuff?fakeClientIpAddress=12.34.0.123", nil)
	req.Host = host
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

func TestServeReloadReject(t *testing.T) {
	src := routertest.CopyDir(t, fixture.DefaultDir(t))
	state := t.TempDir()
	r := start(t, src, state)

	code, loc := location(t, r.addrs.HTTP, "tr.http-only-test.thecdn.example.com")
	if code != 302 || loc != "http://edge-cache-001.http-only-test.thecdn.example.com:8090/stuff?fakeClientIpAddress=12.34.0.123" {
		t.Fatalf("R1: %d %q", code, loc)
	}
	m := new(dns.Msg)
	m.SetQuestion("edge.dns-test.thecdn.example.com.", dns.TypeA)
	in, err := dns.Exchange(m, r.addrs.DNS)
	if err != nil || in.Rcode != dns.RcodeSuccess || len(in.Answer) == 0 {
		t.Fatalf("DNS: %v %v", err, in)
	}

	// A changed snapshot is picked up within a second: the routing name
	// of http-only-test changes from "tr" to "ccr".
	crc := filepath.Join(src, "crconfig.json")
	orig, _ := os.ReadFile(crc)
	changed := strings.Replace(string(orig), `"routingName": "tr",`, `"routingName": "ccr",`, 1)
	if changed == string(orig) {
		t.Fatal("fixture edit did not apply")
	}
	writeAtomic(t, crc, []byte(changed))
	waitFor(t, time.Second+500*time.Millisecond, func() bool {
		return strings.Contains(metricsText(t, r.addrs.API), "signpost_table_generation 2")
	})
	if c, _ := location(t, r.addrs.HTTP, "ccr.http-only-test.thecdn.example.com"); c != 302 {
		t.Fatalf("after the reload: status %d", c)
	}

	// A truncated snapshot is rejected; the last good one keeps serving.
	writeAtomic(t, crc, []byte(changed[:len(changed)/2]))
	time.Sleep(400 * time.Millisecond)
	if c, _ := location(t, r.addrs.HTTP, "ccr.http-only-test.thecdn.example.com"); c != 302 {
		t.Fatalf("after a bad snapshot: status %d, want the last good table serving", c)
	}
	if body := metricsText(t, r.addrs.API); !strings.Contains(body, "signpost_table_generation 2") ||
		!strings.Contains(body, "signpost_control_rejected_versions 1") {
		t.Errorf("metrics after the bad snapshot:\n%s", grepLines(body, "generation")+"\n"+grepLines(body, "rejected"))
	}

	// The state directory holds the last good snapshot.
	saved, err := os.ReadFile(filepath.Join(state, "crconfig.json"))
	if err != nil || string(saved) != changed {
		t.Fatalf("state dir crconfig.json: %v (equal to the last good: %v, len %d vs %d, orig %v)", err, string(saved) == changed, len(saved), len(changed), string(saved) == string(orig))
	}
}

// TestStartFromStateDir: with the source unreadable at start, the router
// serves the last good datasets from the state directory.
func TestStartFromStateDir(t *testing.T) {
	src := routertest.CopyDir(t, fixture.DefaultDir(t))
	state := t.TempDir()
	r := start(t, src, state)
	r.cancel()
	<-r.done
	r.done <- nil // for the cleanup of the first run

	if err := os.WriteFile(filepath.Join(src, "crconfig.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	r2 := start(t, src, state)
	if code, _ := location(t, r2.addrs.HTTP, "tr.http-only-test.thecdn.example.com"); code != 302 {
		t.Fatalf("from state dir: status %d", code)
	}
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ok() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("condition not met within %v", d)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func metricsText(t *testing.T, api string) string {
	t.Helper()
	resp, err := http.Get("http://" + api + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// TestFollowMonitor: with --monitor, health from the monitor steers R1 away
// from a cache the monitor marks down.
func TestFollowMonitor(t *testing.T) {
	states := fixture.Read(t, "atc/CrStates")
	down := strings.Replace(string(states), `"edge-cache-002": {"isAvailable": true}`, `"edge-cache-002": {"isAvailable": false}`, 1)
	if down == string(states) {
		t.Fatal("fixture edit did not apply")
	}
	tm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/publish/CrStates" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, down)
	}))
	defer tm.Close()

	src := routertest.CopyDir(t, fixture.DefaultDir(t))
	ready := make(chan Addrs, 1)
	svc, err := New(Config{Source: src, StateDir: t.TempDir(), Monitors: []string{tm.URL},
		HTTP: "127.0.0.1:0", PollInterval: 50 * time.Millisecond, OnReady: func(a Addrs) { ready <- a }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	a := <-ready
	waitFor(t, 3*time.Second, func() bool {
		tab := svc.Router().Load()
		c, ok := tab.Cache("edge-cache-002")
		return ok && !tab.Health().CacheAvailable(c.Index, false)
	})
	if code, _ := location(t, a.HTTP, "tr.http-only-test.thecdn.example.com"); code != 302 {
		t.Fatalf("R1 with edge-cache-002 down: status %d", code)
	}
	if st, ok := svc.HealthStatus(); !ok || st.LastMonitor == "" {
		t.Fatalf("health status: %+v %v", st, ok)
	}
}

// writeAtomic replaces path with a temp file and a rename, as publishing
// tools do, so the source never reads a half-written file.
func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path+".tmp-test", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp-test", path); err != nil {
		t.Fatal(err)
	}
}
