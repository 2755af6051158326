package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/internal/pgtest"
	"github.com/signpost-cdn/signpost/ops/store"
)

func open(t *testing.T) (*store.Store, string) {
	t.Helper()
	url := pgtest.New(t)
	s, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, url
}

func TestMigrateIdempotent(t *testing.T) {
	s, url := open(t)
	ctx := context.Background()
	applied, err := store.Migrate(ctx, s.Pool())
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate applied %v, err %v; want nothing", applied, err)
	}
	// A second process opening the same schema applies nothing either.
	s2, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	migs, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.Pool().QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(migs) {
		t.Fatalf("schema_migrations has %d rows, want %d", n, len(migs))
	}
}

func file(name, body string) store.File {
	return store.NewFile(name, []byte(body), []byte("gz:"+body))
}

func TestPublishLoadHistory(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	g1, prev, err := s.Publish(ctx, store.PublishRequest{CDN: "cdn1", Author: "alice", Comment: "first",
		Files: []store.File{file("crconfig.json", `{"response":{}}`), file("steering.json", `{"response":[]}`)}})
	if err != nil || g1.Number != 1 || prev != 0 {
		t.Fatalf("publish 1: %+v prev %d err %v", g1, prev, err)
	}
	g2, prev, err := s.Publish(ctx, store.PublishRequest{CDN: "cdn1", Author: "bob", RollbackOf: 1,
		Files: []store.File{file("crconfig.json", `{"response":{"a":1}}`), file("steering.json", `{"response":[]}`)}})
	if err != nil || g2.Number != 2 || prev != 1 {
		t.Fatalf("publish 2: %+v prev %d err %v", g2, prev, err)
	}
	g, files, err := s.Load(ctx, "cdn1", 0)
	if err != nil || g.Number != 2 || g.RollbackOf != 1 || g.Author != "bob" || len(files) != 2 {
		t.Fatalf("load current: %+v %d files, err %v", g, len(files), err)
	}
	if string(files[0].Body) != `{"response":{"a":1}}` || string(files[0].Gzip) != `gz:{"response":{"a":1}}` {
		t.Fatalf("file 0 = %q / %q", files[0].Body, files[0].Gzip)
	}
	g, files, err = s.Load(ctx, "cdn1", 1)
	if err != nil || g.Number != 1 || g.Comment != "first" || string(files[0].Body) != `{"response":{}}` {
		t.Fatalf("load 1: %+v err %v", g, err)
	}
	// The unchanged steering body is stored once.
	var blobs int
	if err := s.Pool().QueryRow(ctx, "SELECT count(*) FROM blob").Scan(&blobs); err != nil || blobs != 3 {
		t.Fatalf("blobs = %d (%v), want 3", blobs, err)
	}
	h, err := s.History(ctx, "cdn1", 0)
	if err != nil || len(h) != 2 || h[0].Number != 2 || h[1].Number != 1 {
		t.Fatalf("history = %+v, %v", h, err)
	}
	if _, _, err := s.Load(ctx, "nope", 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("load unknown CDN: %v", err)
	}
	if _, _, err := s.Load(ctx, "cdn1", 7); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("load unknown generation: %v", err)
	}
	if _, err := s.History(ctx, "nope", 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("history of unknown CDN: %v", err)
	}
	// The Traffic Ops compatible view shows the current snapshot.
	var crconfig string
	if err := s.Pool().QueryRow(ctx, "SELECT crconfig::text FROM snapshot WHERE cdn = $1", "cdn1").Scan(&crconfig); err != nil || crconfig != `{"a":1}` {
		t.Fatalf("snapshot view crconfig = %q, %v", crconfig, err)
	}
}

func TestConcurrentPublishers(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	const workers, each = 8, 10
	var mu sync.Mutex
	var got []int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				body := fmt.Sprintf(`{"response":{"w":%d,"i":%d}}`, w, i)
				g, prev, err := s.Publish(ctx, store.PublishRequest{CDN: "busy", Author: "w", Files: []store.File{file("crconfig.json", body)}})
				if err != nil {
					t.Error(err)
					return
				}
				if prev != g.Number-1 {
					t.Errorf("generation %d replaced %d", g.Number, prev)
				}
				mu.Lock()
				got = append(got, g.Number)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	for i, n := range got {
		if n != int64(i+1) {
			t.Fatalf("generations %v: position %d is %d", got, i, n)
		}
	}
	h, err := s.History(ctx, "busy", 0)
	if err != nil || len(h) != workers*each {
		t.Fatalf("history has %d generations (%v), want %d", len(h), err, workers*each)
	}
}

func TestListen(t *testing.T) {
	s, _ := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	got := make(chan store.Notification, 4)
	done := make(chan error, 1)
	go func() {
		done <- s.Listen(ctx, func() error { close(ready); return nil }, func(n store.Notification) error { got <- n; return nil })
	}()
	<-ready
	g, _, err := s.Publish(ctx, store.PublishRequest{CDN: "n", Author: "a", Files: []store.File{file("crconfig.json", "{}")}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n.CDNID != g.CDNID || n.Generation != 1 {
			t.Fatalf("notification %+v, want id %d generation 1", n, g.CDNID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Listen after cancel: %v", err)
	}
}

func TestUsersAndSessions(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	created, err := s.PutUser(ctx, "ann", "hash1", store.RoleRead)
	if err != nil || !created {
		t.Fatalf("PutUser: %v %v", created, err)
	}
	u, err := s.UserByName(ctx, "ann")
	if err != nil || u.PasswordHash != "hash1" || u.Role != store.RoleRead {
		t.Fatalf("user %+v %v", u, err)
	}
	tok := [32]byte{1, 2, 3}
	if err := s.CreateSession(ctx, tok, u.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	su, _, err := s.Session(ctx, tok)
	if err != nil || su.Name != "ann" || su.Role != store.RoleRead {
		t.Fatalf("session user %+v %v", su, err)
	}
	expired := [32]byte{9}
	if err := s.CreateSession(ctx, expired, u.ID, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, expired); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	// Replacing the user revokes its sessions.
	created, err = s.PutUser(ctx, "ann", "hash2", store.RolePublish)
	if err != nil || created {
		t.Fatalf("PutUser again: %v %v", created, err)
	}
	if _, _, err := s.Session(ctx, tok); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session after user update: %v", err)
	}
	if _, err := s.PutUser(ctx, "bad", "h", "admin"); err == nil {
		t.Fatal("role admin accepted")
	}
	if _, err := s.UserByName(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}
