// Package testtool gates tests on external programs (dig, kdig, dnsperf,
// curl, chromium, ...). A missing tool skips the test with a clear message,
// except under CI (CI=true) where it is a failure: CI installs every tool.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// Require returns the absolute path of the named program, skipping (or,
// under CI, failing) the test when it is not installed.
func Require(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if InCI() {
		tb.Fatalf("required tool %q is not installed (CI=true; .ci/run must install it)", name)
	}
	tb.Skipf("skipping: tool %q is not installed (apt-get install the package that provides it)", name)
	return ""
}

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }
