package accesslog

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is an io.Writer safe to read while Run writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startWriter runs w until the returned stop function is called; stop waits for Run.
func startWriter(t *testing.T, w *Writer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

func dnsRecordN(t testing.TB, i int) DNSRecord {
	r := baseDNS(t)
	r.ID = uint16(i)
	r.Service = "ds-" + fmt.Sprint(i)
	return r
}

func TestWriterConcurrentNothingLostOnStop(t *testing.T) {
	var out lockedBuffer
	w, err := New(Config{Out: &out, ChunkBytes: 4096, QueueChunks: 256, Shards: 8, FlushInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := startWriter(t, w)
	const goroutines, perG = 16, 300
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				if i%2 == 0 {
					r := dnsRecordN(t, g*perG+i)
					w.LogDNS(&r)
				} else {
					r := baseHTTP()
					r.Services = []string{fmt.Sprintf("ds-%d", g*perG+i)}
					w.LogHTTP(&r)
				}
			}
		})
	}
	wg.Wait()
	stop()
	st := w.Stats()
	if st.Accepted+st.Dropped != goroutines*perG {
		t.Fatalf("accepted %d + dropped %d != %d", st.Accepted, st.Dropped, goroutines*perG)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if uint64(len(lines)) != st.Accepted {
		t.Fatalf("wrote %d lines, accepted %d (dropped %d)", len(lines), st.Accepted, st.Dropped)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		if !strings.HasPrefix(l, "144140678.000 qtype=") || !strings.HasSuffix(l, `"`) {
			t.Fatalf("torn line %q", l)
		}
		i := strings.Index(l, `svc="`)
		seen[l[i:]] = true
	}
	if uint64(len(seen)) != st.Accepted {
		t.Errorf("%d distinct lines, want %d", len(seen), st.Accepted)
	}
	if st.Written != uint64(len(out.String())) {
		t.Errorf("Written = %d, want %d", st.Written, len(out.String()))
	}
	// After Run returned nothing is accepted.
	r := baseDNS(t)
	if w.LogDNS(&r) {
		t.Error("LogDNS accepted a line after Run returned")
	}
}

func TestWriterDropsWhenFull(t *testing.T) {
	var out lockedBuffer
	r := baseDNS(t)
	line := len(AppendDNS(nil, &r)) + 1
	w, err := New(Config{Out: &out, ChunkBytes: 3 * line, QueueChunks: 1, Shards: 1, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// Without Run nothing drains: 1 shard chunk + 1 spare hold 6 lines.
	accepted := 0
	for range 10 {
		if w.LogDNS(&r) {
			accepted++
		}
	}
	if accepted != 6 {
		t.Fatalf("accepted %d lines, want 6", accepted)
	}
	st := w.Stats()
	if st.Dropped != 4 || st.Accepted != 6 {
		t.Fatalf("stats %+v, want 6 accepted, 4 dropped", st)
	}
	stop := startWriter(t, w)
	stop()
	if n := strings.Count(out.String(), "\n"); n != 6 {
		t.Errorf("wrote %d lines, want 6", n)
	}
}

func TestWriterDropsOversizeLine(t *testing.T) {
	var out lockedBuffer
	w, err := New(Config{Out: &out, ChunkBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	r := baseDNS(t)
	if w.LogDNS(&r) {
		t.Fatal("accepted a line longer than ChunkBytes")
	}
	if st := w.Stats(); st.Dropped != 1 {
		t.Errorf("Dropped = %d, want 1", st.Dropped)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func TestWriterRotatesBySize(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	r0 := dnsRecordN(t, 10000)
	lineLen := int64(len(AppendDNS(nil, &r0)) + 1) // IDs 10000..10039 keep lengths equal
	w, err := New(Config{Path: path, MaxBytes: 3*lineLen + lineLen/2, Keep: 2, ChunkBytes: 2048, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	stop := startWriter(t, w)
	for i := range 40 {
		r := dnsRecordN(t, 10000+i)
		if !w.LogDNS(&r) {
			t.Fatalf("line %d dropped", i)
		}
	}
	stop()
	// 40 lines, 3 per file: the current file holds the last line, .1 and .2 the three
	// before each; .3 must not exist.
	cur, one, two := readLines(t, path), readLines(t, path+".1"), readLines(t, path+".2")
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("%s.3 exists (Keep 2): %v", path, err)
	}
	wantIDs := func(lines []string, from int) {
		t.Helper()
		for k, l := range lines {
			if want := fmt.Sprintf("xn=%d ", 10000+from+k); !strings.Contains(l, want) {
				t.Errorf("line %q lacks %q", l, want)
			}
		}
	}
	if len(cur) != 1 || len(one) != 3 || len(two) != 3 {
		t.Fatalf("line counts cur=%d .1=%d .2=%d, want 1, 3, 3", len(cur), len(one), len(two))
	}
	wantIDs(cur, 39)
	wantIDs(one, 36)
	wantIDs(two, 33)
	for _, p := range []string{path, path + ".1", path + ".2"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 3*lineLen+lineLen/2 {
			t.Errorf("%s is %d bytes, over MaxBytes", p, st.Size())
		}
	}
	if st := w.Stats(); st.Rotations != 13 {
		t.Errorf("Rotations = %d, want 13", st.Rotations)
	}
}

func TestWriterLineLongerThanMaxBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	w, err := New(Config{Path: path, MaxBytes: 50, Keep: 3})
	if err != nil {
		t.Fatal(err)
	}
	stop := startWriter(t, w)
	for i := range 2 {
		r := dnsRecordN(t, i)
		w.LogDNS(&r)
	}
	stop()
	// Each line (longer than 50 bytes) gets a file of its own.
	if l := readLines(t, path+".1"); len(l) != 1 || !strings.Contains(l[0], "xn=1 ") {
		t.Errorf(".1 = %q", l)
	}
	if l := readLines(t, path+".2"); len(l) != 1 || !strings.Contains(l[0], "xn=0 ") {
		t.Errorf(".2 = %q", l)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestWriterReopenAndRotate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	w, err := New(Config{Path: path, Keep: 1, FlushInterval: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := startWriter(t, w)
	exists := func(p string) func() bool {
		return func() bool { _, err := os.Stat(p); return err == nil }
	}
	r := dnsRecordN(t, 1)
	w.LogDNS(&r)
	waitFor(t, "first line", func() bool { b, _ := os.ReadFile(path); return len(b) > 0 })

	// External rotation: logrotate renames, then the router calls Reopen.
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	w.Reopen()
	waitFor(t, "reopened file", exists(path))
	r = dnsRecordN(t, 2)
	w.LogDNS(&r)
	waitFor(t, "second line", func() bool { b, _ := os.ReadFile(path); return len(b) > 0 })

	w.Rotate()
	waitFor(t, "rotated file", exists(path+".1"))
	r = dnsRecordN(t, 3)
	w.LogDNS(&r)
	stop()

	for _, c := range []struct {
		p  string
		id string
	}{{path + ".moved", "xn=1 "}, {path + ".1", "xn=2 "}, {path, "xn=3 "}} {
		l := readLines(t, c.p)
		if len(l) != 1 || !strings.Contains(l[0], c.id) {
			t.Errorf("%s = %q, want one line with %q", filepath.Base(c.p), l, c.id)
		}
	}
}

func TestWriterRunTwice(t *testing.T) {
	w, err := New(Config{Out: &lockedBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	stop := startWriter(t, w)
	defer stop()
	waitFor(t, "Run to start", w.ran.Load)
	if err := w.Run(context.Background()); err == nil {
		t.Error("second Run returned nil")
	}
}

func TestNewValidation(t *testing.T) {
	_, err := New(Config{MaxBytes: -1, Keep: -2, ChunkBytes: -3})
	if err == nil {
		t.Fatal("New accepted a bad config")
	}
	for _, want := range []string{"exactly one of Path and Out", "MaxBytes -1", "Keep -2", "ChunkBytes -3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := New(Config{Out: &lockedBuffer{}, MaxBytes: 10}); err == nil || !strings.Contains(err.Error(), "need Path") {
		t.Errorf("MaxBytes with Out: err = %v", err)
	}
	if _, err := New(Config{Path: filepath.Join(t.TempDir(), "no", "such", "dir", "access.log")}); err == nil || !strings.Contains(err.Error(), "access.log") {
		t.Errorf("unopenable path: err = %v", err)
	}
}
