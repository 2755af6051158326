package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/router/dnsserver"
	"github.com/signpost-cdn/signpost/router/service"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageAndUnknown(t *testing.T) {
	if code, out, _ := runCLI(t); code != 0 || !strings.Contains(out, "snapshot validate") {
		t.Fatalf("usage: code %d, %q", code, out)
	}
	if code, _, errOut := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatalf("unknown: code %d, %q", code, errOut)
	}
}

func TestSnapshotValidate(t *testing.T) {
	dir := fixture.DefaultDir(t)
	code, out, errOut := runCLI(t, "snapshot", "validate", dir)
	if code != 0 || !strings.Contains(out, ": OK") {
		t.Fatalf("fixture dir: code %d\n%s%s", code, out, errOut)
	}

	bad := filepath.Join(t.TempDir(), "crconfig.json")
	if err := os.WriteFile(bad, []byte(`{"config":{},"stats":{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "snapshot", "validate", bad)
	if code != 1 || !strings.Contains(out, "crconfig.json") || !strings.Contains(out, "INVALID") {
		t.Fatalf("truncated snapshot: code %d\n%s", code, out)
	}

	if code, _, _ := runCLI(t, "snapshot", "validate"); code != 2 {
		t.Fatalf("missing PATH: code %d", code)
	}
}

func TestReserveDNSProcs(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(procs) })
	cfg := service.Config{DNS: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)}
	reserveDNSProcs(&cfg)
	if runtime.GOOS != "linux" {
		if runtime.GOMAXPROCS(0) != procs {
			t.Fatal("GOMAXPROCS changed off Linux")
		}
		return
	}
	if cfg.DNSWorkers != procs || cfg.DNSWait != dnsserver.WaitKernel || runtime.GOMAXPROCS(0) != 2*procs {
		t.Fatalf("workers %d wait %v GOMAXPROCS %d, want %d, kernel, %d", cfg.DNSWorkers, cfg.DNSWait, runtime.GOMAXPROCS(0), procs, 2*procs)
	}
	runtime.GOMAXPROCS(procs)
	cfg = service.Config{DNS: "127.0.0.1:0", DNSWorkers: 3, Logger: slog.New(slog.DiscardHandler)}
	reserveDNSProcs(&cfg)
	if cfg.DNSWorkers != 3 || runtime.GOMAXPROCS(0) != procs+3 {
		t.Fatalf("--dns-workers 3: workers %d GOMAXPROCS %d", cfg.DNSWorkers, runtime.GOMAXPROCS(0))
	}
	runtime.GOMAXPROCS(procs)
	cfg = service.Config{Logger: slog.New(slog.DiscardHandler)}
	reserveDNSProcs(&cfg)
	if runtime.GOMAXPROCS(0) != procs || cfg.DNSWait != dnsserver.WaitAuto {
		t.Fatal("no DNS listener: GOMAXPROCS or the wait mode changed")
	}
	if code, _, errOut := runCLI(t, "route", "--dns-workers", "-1"); code != 2 || !strings.Contains(errOut, "--dns-workers -1") {
		t.Fatalf("--dns-workers -1: code %d, %q", code, errOut)
	}
}
