package httpserver_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/internal/testtool"
	"github.com/signpost-cdn/signpost/router/routertest"
	"github.com/signpost-cdn/signpost/router/service"
)

const steeringHost = "foo.steering-test-1.thecdn.example.com"

// curlTargets asks the routing port for every path with one curl process
// (keep-alive) and returns the steering target of each (the second label
// of the Location host).
func curlTargets(t *testing.T, addr string, paths []string) []string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "curl.cfg")
	var b strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&b, "url = \"http://%s%s?fakeClientIpAddress=12.34.3.5\"\n", addr, p)
	}
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("curl", "-sS", "-H", "Host: "+steeringHost, "-w", "%{http_code} %{redirect_url}\\n", "-K", cfg).Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(paths) {
		t.Fatalf("curl: %d answers for %d paths", len(lines), len(paths))
	}
	targets := make([]string, len(lines))
	for i, l := range lines {
		code, loc, _ := strings.Cut(l, " ")
		host := strings.TrimPrefix(loc, "http://")
		labels := strings.Split(host, ".")
		if code != "302" || len(labels) < 3 {
			t.Fatalf("%s: %q", paths[i], l)
		}
		targets[i] = labels[1]
	}
	return targets
}

// TestSteeringReloadService runs the real route service on a copy of the
// fixture directory, asks curl for 10,000 random paths of steering-test-1
// (weights 1000/9000), swaps in steering2.json (2000/8000) while a client
// keeps requesting, and asks again: no request fails, only paths of
// steering-target-2 move, all to steering-target-1, and the share moved is
// the weight change (10%).
func TestSteeringReloadService(t *testing.T) {
	testtool.Require(t, "curl")
	dir := routertest.CopyDir(t, fixture.DefaultDir(t))
	ready := make(chan service.Addrs, 1)
	svc, err := service.New(service.Config{Source: dir, HTTP: "127.0.0.1:0", API: "127.0.0.1:0",
		PollInterval: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		OnReady: func(a service.Addrs) { ready <- a }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var addrs service.Addrs
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("service stopped: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}

	rng := rand.New(rand.NewPCG(5, 6))
	paths := make([]string, 10000)
	for i := range paths {
		paths[i] = fmt.Sprintf("/%x/%x/segment-%d.ts", rng.Uint64(), rng.Uint32(), i)
	}
	before := curlTargets(t, addrs.HTTP, paths)

	// A client keeps requesting during the swap.
	var sent, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout: 5 * time.Second}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", "http://"+addrs.HTTP+paths[(i*4+w)%len(paths)]+"?fakeClientIpAddress=12.34.3.5", nil)
				req.Host = steeringHost
				resp, err := client.Do(req)
				sent.Add(1)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 302 {
					failed.Add(1)
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	swapped, err := os.ReadFile(fixture.Path(t, "atc/steering2.json"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".steering.json.tmp")
	if err := os.WriteFile(tmp, swapped, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "steering.json")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addrs.API + "/crs/steering")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), `"deliveryService":"steering-target-1","weight":2000`) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("steering2.json not loaded after 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || sent.Load() == 0 {
		t.Errorf("during the swap %d of %d requests failed", failed.Load(), sent.Load())
	}

	after := curlTargets(t, addrs.HTTP, paths)
	moved, one := 0, 0
	for i := range paths {
		if before[i] == "steering-target-1" {
			one++
			if after[i] != before[i] {
				t.Fatalf("%s left the growing target for %s", paths[i], after[i])
			}
		}
		if before[i] != after[i] {
			moved++
		}
	}
	shareOne, shareMoved := float64(one)/float64(len(paths)), float64(moved)/float64(len(paths))
	t.Logf("%d requests during the swap; target-1 share before %.4f; moved %.4f", sent.Load(), shareOne, shareMoved)
	if shareOne < 0.085 || shareOne > 0.115 || shareMoved < 0.085 || shareMoved > 0.115 {
		t.Errorf("target-1 share %.4f, moved %.4f: want about 0.10 each", shareOne, shareMoved)
	}

	// A bad steering.json (a filter pattern RE2 cannot run) is rejected
	// whole: steering2.json keeps serving.
	bad := `{"response":[{"deliveryService":"steering-test-1","targets":[{"deliveryService":"steering-target-1","weight":1}],
		"filters":[{"pattern":"(?=lookahead)","deliveryService":"steering-target-1"}]}]}`
	if err := os.WriteFile(filepath.Join(dir, "steering.json"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	resp, err := http.Get("http://" + addrs.API + "/crs/steering")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"deliveryService":"steering-target-1","weight":2000`) {
		t.Errorf("after a bad steering.json: %s", b)
	}
	if again := curlTargets(t, addrs.HTTP, paths[:200]); !slicesEqual(again, after[:200]) {
		t.Error("routing changed after a rejected steering.json")
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
