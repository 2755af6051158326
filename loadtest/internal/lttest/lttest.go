// Package lttest starts what load test tests need: a small generated CDN
// and a router serving it (router/service, on loopback ports).
package lttest

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/loadtest/cdngen"
	"github.com/signpost-cdn/signpost/router/service"
)

// GenSmall writes the "small" generated CDN (seed 1) into a temporary
// directory and returns it.
func GenSmall(t testing.TB) string {
	t.Helper()
	o, err := cdngen.Scale("small")
	if err != nil {
		t.Fatal(err)
	}
	o.Seed = 1
	dir := t.TempDir()
	if _, err := cdngen.Write(dir, o); err != nil {
		t.Fatal(err)
	}
	return dir
}

// StartRouter runs `signpost route` in process on dir with DNS, HTTP and
// HTTPS on loopback ports and returns the bound addresses once it serves.
// The router stops when the test ends.
func StartRouter(t testing.TB, dir string) service.Addrs {
	t.Helper()
	ready := make(chan service.Addrs, 1)
	svc, err := service.New(service.Config{
		Source: dir, StateDir: t.TempDir(), DNS: "127.0.0.1:0", HTTP: "127.0.0.1:0", HTTPS: "127.0.0.1:0",
		API: "127.0.0.1:0", PollInterval: 100 * time.Millisecond,
		Logger:  slog.New(slog.DiscardHandler),
		OnReady: func(a service.Addrs) { ready <- a },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	done := make(chan error, 1)
	wg.Go(func() { done <- svc.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	select {
	case a := <-ready:
		return a
	case err := <-done:
		t.Fatalf("router stopped before serving: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("router not ready after 20s")
	}
	return service.Addrs{}
}
