package healthfeed

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/router"
)

// fakeMonitor is a health monitor serving /publish/CrStates with a body,
// status and behaviour the test controls.
type fakeMonitor struct {
	*httptest.Server
	mu       sync.Mutex
	body     []byte
	status   int
	delay    time.Duration
	gen      func(n int64) []byte // when set, the body of request n
	plain    atomic.Bool          // never gzip
	requests atomic.Int64
	gzipped  atomic.Int64 // answers sent gzip-encoded
}

func newFakeMonitor(t *testing.T, body []byte) *fakeMonitor {
	t.Helper()
	m := &fakeMonitor{body: body, status: http.StatusOK}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.Close)
	return m
}

func (m *fakeMonitor) serve(w http.ResponseWriter, r *http.Request) {
	n := m.requests.Add(1)
	if r.URL.Path != CrStatesPath {
		http.NotFound(w, r)
		return
	}
	m.mu.Lock()
	body, status, delay, gen := m.body, m.status, m.delay, m.gen
	m.mu.Unlock()
	if gen != nil {
		body = gen(n)
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if status != http.StatusOK {
		http.Error(w, "monitor not ready", status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if !m.plain.Load() && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		m.gzipped.Add(1)
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		_, _ = gz.Write(body)
		_ = gz.Close()
		return
	}
	_, _ = w.Write(body)
}

func (m *fakeMonitor) set(body []byte) { m.mu.Lock(); m.body = body; m.mu.Unlock() }
func (m *fakeMonitor) setStatus(code int) {
	m.mu.Lock()
	m.status = code
	m.mu.Unlock()
}
func (m *fakeMonitor) setGen(g func(n int64) []byte) {
	m.mu.Lock()
	m.gen = g
	m.mu.Unlock()
}
func (m *fakeMonitor) setDelay(d time.Duration) { m.mu.Lock(); m.delay = d; m.mu.Unlock() }

// fixtureSet reads the fixture snapshot directory into a control.Set.
func fixtureSet(tb testing.TB) *control.Set {
	tb.Helper()
	return dirSet(tb, fixture.DefaultDir(tb), nil)
}

// dirSet reads a snapshot directory; edit may rewrite a file's bytes.
func dirSet(tb testing.TB, dir string, edit func(name string, data []byte) []byte) *control.Set {
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
		if edit != nil {
			if data = edit(name, data); data == nil {
				continue
			}
		}
		d, err := control.ParseFile(name, data)
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		ds[name] = d
	}
	return control.Assemble(ds, 1, time.Now())
}

// fixtureRouter is a router serving the fixture CDN (its own crstates.json
// applied).
func fixtureRouter(tb testing.TB) *router.Router {
	tb.Helper()
	r := router.New(hashring.MD5, nil)
	if _, err := r.Publish(fixtureSet(tb)); err != nil {
		tb.Fatal(err)
	}
	return r
}

// fixtureRouterNoTable is a router that has not published a table yet.
func fixtureRouterNoTable() *router.Router { return router.New(hashring.MD5, nil) }

// fixtureCaches lists the fixture table's cache ids.
func fixtureCaches(tb testing.TB) []string {
	tb.Helper()
	var ids []string
	for _, c := range fixtureRouter(tb).Load().Caches() {
		ids = append(ids, c.ID)
	}
	return ids
}

// crStates renders a CrStates body in the monitor's shape: every id in
// ids, available unless listed in down. lastPoll varies with stamp so
// bodies differ while the verdict does not.
func crStates(tb testing.TB, ids []string, down map[string]bool, stamp int) []byte {
	tb.Helper()
	type cache struct {
		IsAvailable   bool   `json:"isAvailable"`
		IPv4Available bool   `json:"ipv4Available"`
		IPv6Available bool   `json:"ipv6Available"`
		Status        string `json:"status"`
		LastPoll      string `json:"lastPoll"`
	}
	doc := struct {
		Caches           map[string]cache `json:"caches"`
		DeliveryServices map[string]any   `json:"deliveryServices"`
	}{Caches: map[string]cache{}, DeliveryServices: map[string]any{}}
	at := time.Unix(1700000000+int64(stamp), 0).UTC().Format(time.RFC3339Nano)
	for _, id := range ids {
		up := !down[id]
		st := "REPORTED - available"
		if !up {
			st = "REPORTED - system.notAvailable == true"
		}
		doc.Caches[id] = cache{up, up, up, st, at}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// downSet builds a set of ids.
func downSet(ids ...string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// available reports whether the router's current view lets cache id serve
// IPv4 clients.
func available(tb testing.TB, r *router.Router, id string) bool {
	tb.Helper()
	t := r.Load()
	c, ok := t.Cache(id)
	if !ok {
		tb.Fatalf("no cache %s in the table", id)
	}
	return t.Health().CacheAvailable(c.Index, false)
}

// routeR1 routes spec vector R1 (http-only-test from 12.34.0.123, a
// location-0 client) and returns the chosen caches, best first.
func routeR1(tb testing.TB, r *router.Router) []string {
	tb.Helper()
	t := r.Load()
	req := &router.Request{Host: []byte("tr.http-only-test.thecdn.example.com"), Path: []byte("/stuff"),
		Client: netip.MustParseAddr("12.34.0.123"), HTTP: true}
	var sc router.Scratch
	var sel router.Selection
	if err := t.RouteHTTP(req, &sc, &sel); err != nil {
		tb.Fatal(err)
	}
	ids := make([]string, 0, len(sel.Caches))
	for _, ci := range sel.Caches {
		ids = append(ids, t.Caches()[ci].ID)
	}
	return ids
}

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) count(sub string) int { return strings.Count(l.String(), sub) }

func testLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	var w io.Writer = lb
	if testing.Verbose() {
		w = io.MultiWriter(lb, os.Stderr)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

// start runs a follower until stop is called or the test ends.
func start(t *testing.T, cfg Config) (f *Follower, stop func()) {
	t.Helper()
	if cfg.Interval == 0 {
		cfg.Interval = 20 * time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 500 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger, _ = testLogger(t)
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return f, stop
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
