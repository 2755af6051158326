package dir

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/control"
)

func TestStatusBeforeRun(t *testing.T) {
	s := New(t.TempDir(), Options{})
	st := s.Status()
	if st.Generation != 0 || len(st.Files) != len(control.Files()) {
		t.Fatalf("status before Run: %+v", st)
	}
	for i, name := range control.Files() {
		if fs := st.Files[i]; fs.Name != name || fs.Present {
			t.Errorf("file %d: %+v", i, fs)
		}
	}
}

// A rejected file is read again on every poll, so a fix that keeps its
// size and modification time (a tool restoring mtimes) is still noticed.
func TestRejectedFileReadAgain(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, control.FileSnapshot)
	good := fixtureBytes(t, "atc/CrConfig.json")
	bad := bytes.Clone(good)
	bad[0] = 'x'
	old := time.Now().Add(-time.Hour)
	write(t, p, bad)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	h := start(t, dir, "")
	h.waitFor("rejection", func() bool {
		fs, _ := h.src.Status().File(control.FileSnapshot)
		return fs.RejectedCount == 1
	})
	write(t, p, good)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the fixed snapshot", func() bool { return h.last() != nil })
	if fs, _ := h.src.Status().File(control.FileSnapshot); fs.RejectedCount != 1 || fs.AcceptedCount != 1 || fs.Hash != h.last().Snapshot.Hash {
		t.Errorf("status %+v", fs)
	}
}

// A file removed from the directory keeps serving until restart, logged
// once, without a new Set.
func TestRemovedFileKeepsServing(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, control.FileSnapshot), fixtureBytes(t, "atc/CrConfig.json"))
	write(t, filepath.Join(dir, control.FileSteering), fixtureBytes(t, "atc/steering.json"))
	h := start(t, dir, "")
	h.waitFor("first set", func() bool { return h.last() != nil })
	if err := os.Remove(filepath.Join(dir, control.FileSteering)); err != nil {
		t.Fatal(err)
	}
	const msg = "file removed from the source directory"
	h.waitFor("removal logged", func() bool { return strings.Contains(h.logs.String(), msg) })
	time.Sleep(100 * time.Millisecond)
	if n := strings.Count(h.logs.String(), msg); n != 1 {
		t.Errorf("removal logged %d times", n)
	}
	if h.count() != 1 || h.last().Steering == nil {
		t.Errorf("%d sets; steering %v", h.count(), h.last().Steering)
	}
	if fs, _ := h.src.Status().File(control.FileSteering); !fs.Present {
		t.Errorf("status %+v", fs)
	}
}
