package dnsload

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/internal/testtool"
	"github.com/signpost-cdn/signpost/router/service"
)

// TestProfileRoute serves the bench-dns CDN with the route service (as
// `signpost route` does) inside the test process while dnsperf sends one
// workload for SIGNPOST_PROFILE_SECONDS (default 10). Run it pinned, with a
// CPU profile, to see where the whole server's time goes (syscalls and
// runtime included, which BenchmarkServe leaves out):
//
//	SIGNPOST_PROFILE=routed GOMAXPROCS=1 taskset -c 1 go test -run ProfileRoute \
//	    -cpuprofile cpu.out -v ./loadtest/dnsload
//	go tool pprof -top cpu.out
//
// SIGNPOST_PROFILE names the workload: static, routed, mix, tcp or
// routed_tcp. dnsperf runs on CPU 0 when taskset exists.
func TestProfileRoute(t *testing.T) {
	wl := os.Getenv("SIGNPOST_PROFILE")
	if wl == "" {
		t.Skip("set SIGNPOST_PROFILE=static|routed|mix|tcp|routed_tcp to profile the route service under dnsperf")
	}
	dnsperf := testtool.Require(t, "dnsperf")
	dir := t.TempDir()
	if _, err := Write(dir, Defaults()); err != nil {
		t.Fatal(err)
	}
	args := map[string][]string{
		"static":     {"-d", filepath.Join(dir, "queries-static.txt")},
		"routed":     {"-B", "-d", filepath.Join(dir, "queries-ecs.bin")},
		"mix":        {"-d", filepath.Join(dir, "queries-mix.txt")},
		"tcp":        {"-m", "tcp", "-d", filepath.Join(dir, "queries-static.txt")},
		"routed_tcp": {"-m", "tcp", "-B", "-d", filepath.Join(dir, "queries-ecs.bin")},
	}[wl]
	if args == nil {
		t.Fatalf("SIGNPOST_PROFILE=%q: unknown workload", wl)
	}
	seconds := os.Getenv("SIGNPOST_PROFILE_SECONDS")
	if seconds == "" {
		seconds = "10"
	}
	ready := make(chan service.Addrs, 1)
	svc, err := service.New(service.Config{
		Source: filepath.Join(dir, "signpost"), StateDir: filepath.Join(dir, "state"),
		DNS: "127.0.0.1:0", HashMode: hashring.MD5, PollInterval: time.Second,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnReady: func(a service.Addrs) { ready <- a },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	var addrs service.Addrs
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("route service: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("route service not ready after 30 s")
	}
	host, port, err := net.SplitHostPort(addrs.DNS)
	if err != nil {
		t.Fatal(err)
	}
	cmdArgs := append([]string{"-s", host, "-p", port, "-l", seconds, "-c", "4", "-q", "100", "-t", "1"}, args...)
	cmd := exec.Command(dnsperf, cmdArgs...)
	if ts, err := exec.LookPath("taskset"); err == nil {
		cmd = exec.Command(ts, append([]string{"-c", "0", dnsperf}, cmdArgs...)...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dnsperf: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Queries per second") {
		t.Fatalf("dnsperf gave no statistics:\n%s", out)
	}
	t.Logf("%s\n%s", wl, out)
}
