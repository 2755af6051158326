package opsapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/control/postgres/postgrestest"
	"github.com/signpost-cdn/signpost/ops"
	"github.com/signpost-cdn/signpost/ops/store"
)

func TestOpsServerFollow(t *testing.T) {
	e := newOpsEnv(t)
	base := postgrestest.FixtureFiles(t)
	e.db.Publish(t, "cdn1", postgrestest.WithSerial(t, base, 1))
	state := t.TempDir()
	h := run(t, Options{URL: e.url, CDN: "cdn1", Username: testUser, Password: testPassword, StateDir: state})
	s := h.Next(t, 5*time.Second)
	if serial(s) != "1" || s.Steering == nil || s.Federations == nil || s.TLSKeys == nil || s.CoverageZones == nil ||
		s.DeepCoverageZones == nil || s.RegionalGeoblock == nil || s.AnonymousPolicy == nil || s.DNSSECKeys == nil {
		t.Fatalf("first set incomplete: %v", s.Hashes)
	}
	for name := range s.Hashes {
		if _, err := os.Stat(filepath.Join(state, name)); err != nil {
			t.Errorf("state copy of %s: %v", name, err)
		}
	}
	if !h.src.longPoll {
		t.Fatal("long poll not detected")
	}

	// Long poll: a publish reaches the source within a second; only the
	// changed snapshot is transferred (the others answer 304).
	before := e.reqs.Load()
	e.db.Publish(t, "cdn1", postgrestest.WithSerial(t, base, 2))
	if s := h.Next(t, time.Second); serial(s) != "2" || s.Generation != 2 {
		t.Fatalf("second: %q %d", serial(s), s.Generation)
	}
	if st, _ := h.src.Status().File(control.FileSteering); st.AcceptedCount != 1 {
		t.Fatalf("steering re-accepted: %+v", st)
	}
	if n := e.reqs.Load() - before; n > 12 {
		t.Fatalf("%d requests for one generation", n)
	}

	// A generation without czmap.json removes it.
	less := postgrestest.WithSerial(t, base, 3)
	delete(less, control.FileCoverageZones)
	e.db.Publish(t, "cdn1", less)
	if s := h.Next(t, time.Second); serial(s) != "3" || s.CoverageZones != nil {
		t.Fatalf("third: %q czf %v", serial(s), s.CoverageZones != nil)
	}
	// Idle: no Set, and the long poll holds (few requests).
	before = e.reqs.Load()
	h.None(t, 300*time.Millisecond)
	if n := e.reqs.Load() - before; n > 1 {
		t.Fatalf("%d requests while idle", n)
	}
	if strings.Contains(h.Logs.String(), testPassword) {
		t.Fatal("password logged")
	}
}

// TestInvalidNeverReachesRouter publishes an invalid snapshot through the
// ops API: it is refused with every problem and no router sees it.
func TestInvalidNeverReachesRouter(t *testing.T) {
	e := newOpsEnv(t)
	base := postgrestest.FixtureFiles(t)
	e.db.Publish(t, "cdn1", postgrestest.WithSerial(t, base, 1))
	h := run(t, Options{URL: e.url, CDN: "cdn1", Username: testUser, Password: testPassword})
	h.Next(t, 5*time.Second)

	hash, err := bcrypt.GenerateFromPassword([]byte("pub-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Store.PutUser(context.Background(), "publisher", string(hash), store.RolePublish); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Post(e.url+"/api/5.0/user/login", "application/json", strings.NewReader(`{"u":"publisher","p":"pub-pw"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("login: %v %v", resp, err)
	}
	resp.Body.Close()
	body := `{"files": {"crconfig.json": {"contentServers": 7}, "steering.json": [{"deliveryService": 1}]}}`
	resp, err = c.Post(e.url+"/api/5.0/signpost/cdns/cdn1/generations", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(msg), "contentServers") {
		t.Fatalf("invalid publish: %d %s", resp.StatusCode, msg)
	}
	h.None(t, 300*time.Millisecond)
}

// TestAPIDownAtStart: the router serves from the state directory and picks
// up the API when it returns.
func TestAPIDownAtStart(t *testing.T) {
	e := newOpsEnv(t)
	base := postgrestest.FixtureFiles(t)
	e.db.Publish(t, "cdn1", postgrestest.WithSerial(t, base, 1))
	state := t.TempDir()
	func() {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		src, err := New(Options{URL: e.url, CDN: "cdn1", Username: testUser, Password: testPassword, StateDir: state,
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan struct{})
		go src.Run(ctx, func(*control.Set) { close(got) })
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("first run published nothing")
		}
	}()
	e.down.Store(true)
	e.db.Publish(t, "cdn1", postgrestest.WithSerial(t, base, 2))
	h := run(t, Options{URL: e.url, CDN: "cdn1", Username: testUser, Password: testPassword, StateDir: state})
	s := h.Next(t, 5*time.Second)
	if serial(s) != "1" || s.Steering == nil {
		t.Fatalf("from state: %q", serial(s))
	}
	if st, _ := h.src.Status().File(control.FileSnapshot); !st.FromState {
		t.Fatalf("status: %+v", st)
	}
	e.down.Store(false)
	if s := h.Next(t, 5*time.Second); serial(s) != "2" {
		t.Fatalf("after recovery: %q", serial(s))
	}
	if !strings.Contains(h.Logs.String(), "503 Service Unavailable") || strings.Contains(h.Logs.String(), testPassword) {
		t.Fatalf("log:\n%s", h.Logs)
	}
}

func TestBadCredentials(t *testing.T) {
	e := newOpsEnv(t)
	e.db.Publish(t, "cdn1", postgrestest.FixtureFiles(t))
	h := run(t, Options{URL: e.url, CDN: "cdn1", Username: testUser, Password: "wrong-password-xyz"})
	time.Sleep(200 * time.Millisecond)
	logs := h.Logs.String()
	if !strings.Contains(logs, `login as \"router\": 401 Unauthorized: Invalid username or password.`) || strings.Contains(logs, "wrong-password-xyz") {
		t.Fatalf("log:\n%s", logs)
	}
	h.None(t, 10*time.Millisecond)
}

// TestPublishLatency measures the store publish transaction to the Set
// over 50 publishes through the ops server's long poll.
func TestPublishLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	e := newOpsEnv(t)
	base := postgrestest.FixtureFiles(t)
	e.db.Publish(t, "cdn1", postgrestest.WithSerial(t, base, 0))
	h := run(t, Options{URL: e.url, CDN: "cdn1", Username: testUser, Password: testPassword})
	h.Next(t, 5*time.Second)
	const n = 50
	lat := make([]time.Duration, 0, n)
	for i := 1; i <= n; i++ {
		prep, err := ops.Prepare(postgrestest.WithSerial(t, base, i))
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		if _, _, err := e.db.Store.Publish(context.Background(), store.PublishRequest{CDN: "cdn1", Files: prep.Files, Author: "test"}); err != nil {
			t.Fatal(err)
		}
		s := h.Next(t, time.Second)
		lat = append(lat, s.Loaded.Sub(t0))
		if serial(s) != strconv.Itoa(i) {
			t.Fatalf("publish %d: serial %q", i, serial(s))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("ops API source: store publish transaction start → Set assembled, over %d publishes: p50 %v p99 %v max %v", n, lat[n/2], lat[n*99/100], lat[n-1])
}
