package lkg

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/internal/syncbuf"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/internal/fixture"
)

func fixtureFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixture.DefaultDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOfferRejectPersistRestore(t *testing.T) {
	state := t.TempDir()
	logs := &syncbuf.Buffer{}
	f := New(Options{StateDir: state, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	var sets []*control.Set
	pub := func(s *control.Set) { sets = append(sets, s) }

	if f.Publish(pub) {
		t.Fatal("published without a snapshot")
	}
	snap := fixtureFile(t, control.FileSnapshot)
	if !f.Offer(control.FileSnapshot, snap) {
		t.Fatal("valid snapshot not accepted")
	}
	if f.Offer(control.FileSnapshot, snap) {
		t.Fatal("same bytes accepted twice")
	}
	steer := fixtureFile(t, control.FileSteering)
	if !f.Offer(control.FileSteering, steer) {
		t.Fatal("steering not accepted")
	}
	if !f.Publish(pub) || len(sets) != 1 || sets[0].Generation != 1 || sets[0].Steering == nil || sets[0].Snapshot == nil {
		t.Fatalf("publish: %+v", sets)
	}

	// A bad version is rejected, named, and the good one keeps serving.
	if f.Offer(control.FileSteering, []byte(`{"response": [`)) {
		t.Fatal("bad steering accepted")
	}
	st := f.Status()
	fs, _ := st.File(control.FileSteering)
	if !fs.Present || fs.RejectedCount != 1 || fs.LastError == "" || fs.Hash != sets[0].Hashes[control.FileSteering] {
		t.Fatalf("status after rejection: %+v", fs)
	}
	if !strings.Contains(logs.String(), "dataset rejected; previous version kept") {
		t.Fatalf("rejection not logged: %s", logs)
	}

	// The state directory holds the accepted bytes and their hash.
	got, err := os.ReadFile(filepath.Join(state, control.FileSteering))
	if err != nil || !bytes.Equal(got, steer) {
		t.Fatalf("state copy: %v", err)
	}

	// A new Files restores both from the state directory.
	g := New(Options{StateDir: state, Logger: quiet()})
	if !g.LoadAllState() {
		t.Fatal("nothing restored")
	}
	if _, ok := g.Accepted(control.FileSteering); !ok || g.Snapshot() == nil {
		t.Fatal("steering or snapshot not restored")
	}
	if fs, _ := g.Status().File(control.FileSnapshot); !fs.FromState {
		t.Fatalf("FromState not set: %+v", fs)
	}
	// The source confirming the same bytes clears FromState.
	g.Offer(control.FileSnapshot, snap)
	if fs, _ := g.Status().File(control.FileSnapshot); fs.FromState {
		t.Fatalf("FromState still set: %+v", fs)
	}

	// Remove drops an optional file and its state copy; the snapshot stays.
	if !g.Remove(control.FileSteering) || g.Remove(control.FileSnapshot) {
		t.Fatal("Remove")
	}
	if _, err := os.Stat(filepath.Join(state, control.FileSteering)); !os.IsNotExist(err) {
		t.Fatalf("state copy not removed: %v", err)
	}
	var last *control.Set
	g.Publish(func(s *control.Set) { last = s })
	if last.Steering != nil || last.Snapshot == nil {
		t.Fatal("removed file still published")
	}
}

func TestRejected(t *testing.T) {
	f := New(Options{Logger: quiet()})
	snap := fixtureFile(t, control.FileSnapshot)
	if f.Rejected(control.FileSnapshot) || f.Rejected("unknown.json") {
		t.Fatal("rejected before any offer")
	}
	f.Offer(control.FileSnapshot, []byte("{"))
	if !f.Rejected(control.FileSnapshot) {
		t.Fatal("bad bytes not reported as rejected")
	}
	f.Offer(control.FileSnapshot, snap)
	if f.Rejected(control.FileSnapshot) {
		t.Fatal("still rejected after a good version")
	}
	f.Reject(control.FileSnapshot, "fetch: connection refused")
	if f.Rejected(control.FileSnapshot) {
		t.Fatal("a failed delivery counts as a rejected version")
	}
	f.Offer(control.FileSnapshot, []byte("{"))
	f.Offer(control.FileSnapshot, snap) // the version in use again
	if f.Rejected(control.FileSnapshot) {
		t.Fatal("still rejected after the version in use was offered again")
	}
}

func TestStateHashMismatchIgnored(t *testing.T) {
	state := t.TempDir()
	f := New(Options{StateDir: state, Logger: quiet()})
	f.Offer(control.FileSnapshot, fixtureFile(t, control.FileSnapshot))
	p := filepath.Join(state, control.FileSnapshot)
	if err := os.WriteFile(p, []byte(`{"response":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	g := New(Options{StateDir: state, Logger: quiet()})
	if g.LoadState(control.FileSnapshot) {
		t.Fatal("tampered copy used")
	}
}

func TestLocal(t *testing.T) {
	dir := t.TempDir()
	f := New(Options{Logger: quiet()})
	l := NewLocal(dir, LocalFiles()...)
	if l.Offer(f) {
		t.Fatal("nothing to offer")
	}
	if err := os.WriteFile(filepath.Join(dir, control.FileGeo), fixtureFile(t, control.FileGeo), 0o644); err != nil {
		t.Fatal(err)
	}
	if !l.Offer(f) {
		t.Fatal("geo.mmdb not accepted")
	}
	if l.Offer(f) {
		t.Fatal("unchanged geo.mmdb accepted again")
	}
	if _, ok := f.Accepted(control.FileGeo); !ok {
		t.Fatal("geo not accepted")
	}
	if NewLocal("", control.FileGeo).Offer(f) {
		t.Fatal("empty dir offered something")
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: 400 * time.Millisecond}
	want := []time.Duration{100, 200, 400, 400}
	for i, w := range want {
		d := b.Next()
		w *= time.Millisecond
		if d < w/2 || d > w {
			t.Fatalf("step %d: %v not in [%v, %v]", i, d, w/2, w)
		}
	}
	b.Reset()
	if d := b.Next(); d > 100*time.Millisecond {
		t.Fatalf("after reset: %v", d)
	}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestReadCredentials(t *testing.T) {
	p := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(p, []byte(" user:pa:ss \nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u, pw, err := ReadCredentials(p)
	if err != nil || u != "user" || pw != "pa:ss" {
		t.Fatalf("%q %q %v", u, pw, err)
	}
	if err := os.WriteFile(p, []byte("secretonly\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadCredentials(p); err == nil || strings.Contains(err.Error(), "secretonly") {
		t.Fatalf("bad file: %v", err)
	}
}
