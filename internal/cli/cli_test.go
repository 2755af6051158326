package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signpost-cdn/signpost/internal/fixture"
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
