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
	quiet := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		name           string
		cfg            service.Config
		wait           dnsserver.UDPWait
		workers, procs int
	}{
		{"dns only, auto", service.Config{DNS: ":0"}, dnsserver.WaitKernel, procs, 2 * procs},
		{"dns only, 3 workers", service.Config{DNS: ":0", DNSWorkers: 3}, dnsserver.WaitKernel, 3, procs + 3},
		{"dns and http, auto", service.Config{DNS: ":0", HTTP: ":0"}, dnsserver.WaitPoll, procs, procs},
		{"dns and https, kernel asked", service.Config{DNS: ":0", HTTPS: ":0", DNSWait: dnsserver.WaitKernel}, dnsserver.WaitKernel, procs, 2 * procs},
		{"dns only, poll asked", service.Config{DNS: ":0", DNSWait: dnsserver.WaitPoll}, dnsserver.WaitPoll, procs, procs},
		{"no dns", service.Config{HTTP: ":0"}, dnsserver.WaitAuto, 0, procs},
	} {
		t.Run(c.name, func(t *testing.T) {
			runtime.GOMAXPROCS(procs)
			cfg := c.cfg
			cfg.Logger = quiet
			reserveDNSProcs(&cfg)
			if runtime.GOOS != "linux" {
				if runtime.GOMAXPROCS(0) != procs {
					t.Fatal("GOMAXPROCS changed off Linux")
				}
				return
			}
			if cfg.DNSWait != c.wait || cfg.DNSWorkers != c.workers || runtime.GOMAXPROCS(0) != c.procs {
				t.Fatalf("wait %v workers %d GOMAXPROCS %d, want %v %d %d", cfg.DNSWait, cfg.DNSWorkers, runtime.GOMAXPROCS(0), c.wait, c.workers, c.procs)
			}
		})
	}
	if code, _, errOut := runCLI(t, "route", "--dns-workers", "-1"); code != 2 || !strings.Contains(errOut, "--dns-workers -1") {
		t.Fatalf("--dns-workers -1: code %d, %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "route", "--dns-wait", "spin"); code != 2 || !strings.Contains(errOut, `--dns-wait "spin"`) {
		t.Fatalf("--dns-wait spin: code %d, %q", code, errOut)
	}
}
