package opsapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/control/sourcetest"

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

// harness runs a Source and collects what it publishes.
type harness struct {
	*sourcetest.Harness
	src *Source
}

func run(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{Harness: sourcetest.New()}
	opts.Logger = h.Logger()
	if opts.RetryMin == 0 {
		opts.RetryMin, opts.RetryMax = 20*time.Millisecond, 200*time.Millisecond
	}
	src, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.src = src
	h.Start(t, src)
	return h
}

func serial(s *control.Set) string { return s.Snapshot.Config.Raw["signpost.test.serial"] }
