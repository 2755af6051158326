package opsapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/internal/syncbuf"

	"golang.org/x/crypto/bcrypt"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/control/postgres/postgrestest"
	"github.com/signpost-cdn/signpost/ops"
	"github.com/signpost-cdn/signpost/ops/store"
)

const (
	testUser     = "router"
	testPassword = "s3cret-Pa55"
)

// opsEnv is an ops server over a fresh database schema, behind a switch
// that can make it unreachable (every request answered 503 by a proxy).
type opsEnv struct {
	db   *postgrestest.OpsDB
	url  string
	down atomic.Bool
	reqs atomic.Int64
}

func newOpsEnv(t *testing.T) *opsEnv {
	t.Helper()
	e := &opsEnv{db: postgrestest.NewOpsDB(t)}
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := e.db.Store.PutUser(ctx, testUser, string(hash), store.RoleRead); err != nil {
		t.Fatal(err)
	}
	srv, err := ops.NewServer(ops.Config{Store: e.db.Store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("ops server: %v", err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.reqs.Add(1)
		if e.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		cancel()
		<-done
	})
	e.url = hs.URL
	return e
}

// harness runs a Source and hands every published Set to sets.
type harness struct {
	src  *Source
	sets chan *control.Set
	logs *syncbuf.Buffer
}

func run(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{sets: make(chan *control.Set, 1000), logs: &syncbuf.Buffer{}}
	opts.Logger = slog.New(slog.NewTextHandler(h.logs, nil))
	if opts.RetryMin == 0 {
		opts.RetryMin, opts.RetryMax = 20*time.Millisecond, 200*time.Millisecond
	}
	src, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.src = src
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, func(s *control.Set) { h.sets <- s }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if t.Failed() {
			t.Logf("source log:\n%s", h.logs)
		}
	})
	return h
}

func (h *harness) next(t *testing.T, within time.Duration) *control.Set {
	t.Helper()
	select {
	case s := <-h.sets:
		return s
	case <-time.After(within):
		t.Fatalf("no Set published within %v", within)
		return nil
	}
}

func (h *harness) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case s := <-h.sets:
		t.Fatalf("unexpected Set %d", s.Generation)
	case <-time.After(d):
	}
}

func serial(s *control.Set) string { return s.Snapshot.Config.Raw["signpost.test.serial"] }
