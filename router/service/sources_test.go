package service

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/control/postgres/postgrestest"
	"github.com/signpost-cdn/signpost/ops"
	"github.com/signpost-cdn/signpost/ops/store"
)

// startWith runs a service from cfg (listeners on loopback port 0) and
// waits until it serves.
func startWith(t *testing.T, cfg Config) *running {
	t.Helper()
	ready := make(chan Addrs, 1)
	cfg.DNS, cfg.HTTP, cfg.API = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.OnReady = func(a Addrs) { ready <- a }
	cfg.Logger = slog.New(slog.DiscardHandler)
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- svc.Run(ctx) }()
	select {
	case r.addrs = <-ready:
	case err := <-r.done:
		t.Fatalf("service stopped before serving: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("service not ready after 10s")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-r.done; err != nil {
			t.Errorf("service Run: %v", err)
		}
	})
	return r
}

// renamed returns the fixture files with http-only-test's routing name
// changed from "tr" to name.
func renamed(t *testing.T, files map[string][]byte, name string) map[string][]byte {
	t.Helper()
	out := make(map[string][]byte, len(files))
	for k, v := range files {
		out[k] = v
	}
	crc := string(files[control.FileSnapshot])
	changed := strings.Replace(crc, `"routingName": "tr",`, `"routingName": "`+name+`",`, 1)
	if changed == crc {
		t.Fatal("fixture edit did not apply")
	}
	out[control.FileSnapshot] = []byte(changed)
	return out
}

func waitRouted(t *testing.T, r *running, host string) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		if code, _ := location(t, r.addrs.HTTP, host); code == 302 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not routed within a second", host)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOpsAPISource runs `route --source https://host/?cdn=NAME
// --source-credentials FILE` against an ops server: it serves, follows a
// publish within a second, and restarts from the state directory with the
// API down.
func TestOpsAPISource(t *testing.T) {
	db := postgrestest.NewOpsDB(t)
	hash, err := bcrypt.GenerateFromPassword([]byte("router-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store.PutUser(context.Background(), "router", string(hash), store.RoleRead); err != nil {
		t.Fatal(err)
	}
	srv, err := ops.NewServer(ops.Config{Store: db.Store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Run(ctx) }()
	<-srv.Ready()
	hs := httptest.NewServer(srv)
	defer func() { hs.Close(); cancel(); <-srvDone }()

	files := postgrestest.FixtureFiles(t)
	db.Publish(t, "cdn1", files)
	creds := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(creds, []byte("router:router-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	cfg := Config{Source: hs.URL + "/?cdn=cdn1", SourceCredentials: creds, StateDir: state}
	r := startWith(t, cfg)
	code, loc := location(t, r.addrs.HTTP, "tr.http-only-test.thecdn.example.com")
	if code != 302 || loc != "http://edge-cache-001.http-only-test.thecdn.example.com:8090/stuff?fakeClientIpAddress=12.34.0.123" {
		t.Fatalf("R1: %d %q", code, loc)
	}
	db.Publish(t, "cdn1", renamed(t, files, "ccr"))
	waitRouted(t, r, "ccr.http-only-test.thecdn.example.com")
	r.cancel()
	<-r.done
	r.done <- nil

	// The API is gone: the state directory serves.
	hs.Close()
	r2 := startWith(t, cfg)
	if code, _ := location(t, r2.addrs.HTTP, "ccr.http-only-test.thecdn.example.com"); code != 302 {
		t.Fatalf("from the state directory: %d", code)
	}
}

// TestPostgresSource runs `route --source postgres://...?cdn=NAME`: it
// serves, follows publishes within a second, and keeps serving through a
// dropped database connection, catching up on what was published.
func TestPostgresSource(t *testing.T) {
	db := postgrestest.NewOpsDB(t)
	files := postgrestest.FixtureFiles(t)
	db.Publish(t, "cdn1", files)
	app := "signpost-service-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	u, err := url.Parse(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("cdn", "cdn1")
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	r := startWith(t, Config{Source: u.String(), StateDir: t.TempDir()})
	if code, _ := location(t, r.addrs.HTTP, "tr.http-only-test.thecdn.example.com"); code != 302 {
		t.Fatalf("R1: %d", code)
	}
	db.Publish(t, "cdn1", renamed(t, files, "ccr"))
	waitRouted(t, r, "ccr.http-only-test.thecdn.example.com")

	conn, err := pgx.Connect(context.Background(), postgrestest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(),
		"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n); err != nil || n == 0 {
		t.Fatalf("terminate: %d %v", n, err)
	}
	if code, _ := location(t, r.addrs.HTTP, "ccr.http-only-test.thecdn.example.com"); code != 302 {
		t.Fatalf("while reconnecting: %d", code)
	}
	db.Publish(t, "cdn1", renamed(t, files, "edge"))
	waitRouted(t, r, "edge.http-only-test.thecdn.example.com")
}

func TestSourceURLErrors(t *testing.T) {
	for src, want := range map[string]string{
		"https://u:topsecret@ops.example.net/":       "the CDN name is required",
		"postgres://u:topsecret@db/ops":              "the CDN name is required",
		"postgres://u:topsecret@db/ops?cdn=a&mode=x": `mode "x"`,
	} {
		_, err := New(Config{Source: src})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "topsecret") {
			t.Errorf("%s: %v", src, err)
		}
	}
}
