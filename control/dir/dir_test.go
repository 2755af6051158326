package dir

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/internal/syncbuf"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/internal/fixture"
)

// harness runs a Source and records what it publishes.
type harness struct {
	t      *testing.T
	src    *Source
	dir    string
	state  string
	logs   *syncbuf.Buffer
	mu     sync.Mutex
	sets   []*control.Set
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, dir, state string) *harness {
	t.Helper()
	h := &harness{t: t, dir: dir, state: state, logs: &syncbuf.Buffer{}, done: make(chan error, 1)}
	h.src = New(dir, Options{StateDir: state, PollInterval: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(h.logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		h.done <- h.src.Run(ctx, func(s *control.Set) {
			h.mu.Lock()
			h.sets = append(h.sets, s)
			h.mu.Unlock()
		})
	}()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	if err := <-h.done; err != nil {
		h.t.Errorf("Run: %v", err)
	}
}

func (h *harness) last() *control.Set {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.sets) == 0 {
		return nil
	}
	return h.sets[len(h.sets)-1]
}

func (h *harness) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sets)
}

// waitFor polls cond for up to a second (the promised reaction time).
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("not within a second: %s\nlogs:\n%s", what, h.logs.String())
}

func fixtureBytes(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// write replaces path atomically (temp file and rename), as publishing
// tools do, so a poll never sees a half-written file unless a test writes
// one on purpose.
func write(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp-test"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// changedSnapshot returns the fixture with a different CDN name.
func changedSnapshot(t *testing.T, name string) []byte {
	b := fixtureBytes(t, "atc/CrConfig.json")
	return bytes.Replace(b, []byte(`"CDN_name": "thecdn"`), []byte(`"CDN_name": "`+name+`"`), 1)
}

func TestStartChangeAndReject(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	write(t, filepath.Join(dir, control.FileSnapshot), fixtureBytes(t, "atc/CrConfig.json"))
	write(t, filepath.Join(dir, control.FileSteering), fixtureBytes(t, "atc/steering.json"))
	h := start(t, dir, state)
	h.waitFor("first set", func() bool { return h.last() != nil })
	first := h.last()
	if first.Generation != 1 || first.Snapshot == nil || first.Steering == nil || first.Health != nil || first.Federations != nil {
		t.Fatalf("first set %+v", first)
	}
	if first.Hashes[control.FileSnapshot] != first.Snapshot.Hash || len(first.Hashes) != 2 {
		t.Errorf("hashes %v", first.Hashes)
	}
	// Persisted to the state directory with its hash.
	if b, err := os.ReadFile(filepath.Join(state, control.FileSnapshot)); err != nil || !bytes.Equal(b, fixtureBytes(t, "atc/CrConfig.json")) {
		t.Errorf("state copy: %v", err)
	}

	// A new file and a change are picked up within a second.
	write(t, filepath.Join(dir, control.FileFederations), fixtureBytes(t, "atc/federations.json"))
	h.waitFor("federations", func() bool { return h.last().Federations != nil })
	write(t, filepath.Join(dir, control.FileSnapshot), changedSnapshot(t, "cdn2"))
	h.waitFor("changed snapshot", func() bool { return h.last().Snapshot.Stats.CDNName == "cdn2" })
	if !strings.Contains(h.logs.String(), "snapshot accepted although its date did not increase") {
		t.Error("no date anomaly warning")
	}
	gen := h.last().Generation

	// A bad snapshot is rejected; the previous one keeps serving while the
	// steering file still updates.
	write(t, filepath.Join(dir, control.FileSnapshot), []byte(`{"config":`))
	write(t, filepath.Join(dir, control.FileSteering), fixtureBytes(t, "atc/steering2.json"))
	h.waitFor("steering2", func() bool {
		e, ok := h.last().Steering.Entry("steering-test-1")
		return ok && e.Targets[0].Weight == 2000
	})
	h.waitFor("rejection status", func() bool {
		fs, _ := h.src.Status().File(control.FileSnapshot)
		return fs.RejectedCount == 1
	})
	st := h.src.Status()
	fs, _ := st.File(control.FileSnapshot)
	if fs.LastError != "crconfig.json: invalid JSON: unexpected end of input at byte 10 (truncated file?)" || fs.Hash != h.last().Snapshot.Hash || fs.AcceptedCount != 2 {
		t.Errorf("status %+v", fs)
	}
	if h.last().Snapshot.Stats.CDNName != "cdn2" || h.last().Generation != gen+1 || st.Generation != gen+1 {
		t.Errorf("serving %q gen %d (status %d), want cdn2 gen %d", h.last().Snapshot.Stats.CDNName, h.last().Generation, st.Generation, gen+1)
	}
	if !strings.Contains(h.logs.String(), "dataset rejected; previous version kept") {
		t.Error("rejection not logged")
	}
	// Unchanged content publishes nothing.
	n := h.count()
	time.Sleep(100 * time.Millisecond)
	if h.count() != n {
		t.Errorf("published without change: %d -> %d", n, h.count())
	}
	if fs, _ := h.src.Status().File(control.FileSnapshot); fs.RejectedCount != 1 {
		t.Errorf("same bad bytes counted again: %d", fs.RejectedCount)
	}
}

func TestHalfWrittenThenCompleted(t *testing.T) {
	dir := t.TempDir()
	full := fixtureBytes(t, "atc/CrConfig.json")
	h := start(t, dir, "")
	write(t, filepath.Join(dir, control.FileSnapshot), full[:len(full)/2])
	h.waitFor("rejection of the half-written file", func() bool {
		fs, _ := h.src.Status().File(control.FileSnapshot)
		return fs.RejectedCount >= 1
	})
	if h.last() != nil {
		t.Fatal("published a truncated snapshot")
	}
	// Complete the write in place (same path, same mtime granularity).
	f, err := os.OpenFile(filepath.Join(dir, control.FileSnapshot), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(full[len(full)/2:])
	f.Close()
	h.waitFor("completed snapshot", func() bool { return h.last() != nil })
	if len(h.last().Snapshot.DeliveryServices) != 24 {
		t.Error("wrong snapshot")
	}
}

func TestStateDirectoryFallback(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	write(t, filepath.Join(dir, control.FileSnapshot), fixtureBytes(t, "atc/CrConfig.json"))
	write(t, filepath.Join(dir, control.FileHealth), fixtureBytes(t, "atc/CrStates"))
	h := start(t, dir, state)
	h.waitFor("first set", func() bool { return h.last() != nil })
	want := h.last().Snapshot.Hash
	h.stop()

	// Invalid source file at start: the state copy serves.
	write(t, filepath.Join(dir, control.FileSnapshot), []byte("garbage"))
	h2 := start(t, dir, state)
	h2.waitFor("set from state", func() bool { return h2.last() != nil })
	if h2.last().Snapshot.Hash != want || h2.last().Health == nil {
		t.Errorf("state fallback served %q", h2.last().Snapshot.Hash)
	}
	fs, _ := h2.src.Status().File(control.FileSnapshot)
	if !fs.FromState || fs.RejectedCount != 1 || !strings.Contains(h2.logs.String(), "serving the last known good copy") {
		t.Errorf("status %+v", fs)
	}
	h2.stop()

	// Unreadable (missing) source directory: everything from state.
	h3 := start(t, filepath.Join(dir, "missing"), state)
	h3.waitFor("set from state", func() bool { return h3.last() != nil })
	if h3.last().Snapshot.Hash != want || h3.last().Health == nil {
		t.Error("unreadable source: wrong set")
	}
	h3.stop()

	// A state copy failing its hash is not used.
	write(t, filepath.Join(state, control.FileSnapshot+".sha256"), []byte("0000\n"))
	h4 := start(t, filepath.Join(dir, "missing"), state)
	time.Sleep(100 * time.Millisecond)
	if h4.last() != nil || !strings.Contains(h4.logs.String(), "fails its hash check") {
		t.Error("corrupt state copy used")
	}
	if st := h4.src.Status(); st.Generation != 0 {
		t.Errorf("generation %d", st.Generation)
	}
}

func TestFixtureCDNDirectory(t *testing.T) {
	dir := filepath.Join(fixture.RepoRoot(t), "examples", "fixture-cdn")
	h := start(t, dir, t.TempDir())
	h.waitFor("first set", func() bool { return h.last() != nil })
	s := h.last()
	if s.Snapshot == nil || s.Health == nil || s.CoverageZones == nil || s.DeepCoverageZones == nil || s.Geo == nil ||
		s.AnonymousIP == nil || s.AnonymousPolicy == nil || s.RegionalGeoblock == nil || s.Steering == nil ||
		s.Federations == nil || s.TLSKeys == nil {
		t.Errorf("incomplete set: %+v", s)
	}
	if s.DNSSECKeys != nil || len(s.Hashes) != 11 {
		t.Errorf("hashes %v", s.Hashes)
	}
}
