// Package routertest is the test kit shared by the router's packages:
// loading a snapshot directory into a control.Set, copying the fixture
// directory, and a log buffer safe for concurrent writers. It does not
// import package router, so router's own tests can use it.
package routertest

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
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

// SyncBuffer is a bytes.Buffer safe for a logger writing from several
// goroutines while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
