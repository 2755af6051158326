// Package routertest is the test kit shared by the router's packages:
// loading a snapshot directory into a control.Set and copying the fixture
// directory. It does not import package router, so router's own tests can
// use it.
package routertest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/control"
)

// LoadSet reads the dataset files of a snapshot directory into a
// control.Set (generation 1), failing the test on any invalid file.
func LoadSet(tb testing.TB, dir string) *control.Set {
	tb.Helper()
	ds := map[string]control.Dataset{}
	for _, name := range control.Files() {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			tb.Fatal(err)
		}
		d, err := control.ParseFile(name, data)
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		ds[name] = d
	}
	return control.Assemble(ds, 1, time.Now())
}

// CopyDir copies the regular files of src into a new temporary directory
// and returns its path.
func CopyDir(tb testing.TB, src string) string {
	tb.Helper()
	dst := tb.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dst
}
