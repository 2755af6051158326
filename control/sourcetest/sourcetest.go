// Package sourcetest runs a control.Source in a test and collects what it
// publishes: the harness shared by the ops API and PostgreSQL source tests.
package sourcetest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/internal/syncbuf"
)

// Harness collects the Sets a source publishes and its log.
type Harness struct {
	// Sets receives every published Set.
	Sets chan *control.Set
	// Logs holds the source's log (give it Logger()).
	Logs *syncbuf.Buffer
	// Last is the Set Next returned last.
	Last *control.Set
}

// New returns a harness; build the source with Logger() before Start.
func New() *Harness {
	return &Harness{Sets: make(chan *control.Set, 1000), Logs: &syncbuf.Buffer{}}
}

// Logger returns a text logger writing to Logs.
func (h *Harness) Logger() *slog.Logger { return slog.New(slog.NewTextHandler(h.Logs, nil)) }

// Start runs src until the test ends; Run must then return nil. The log is
// printed when the test failed.
func (h *Harness) Start(t testing.TB, src control.Source) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, func(s *control.Set) { h.Sets <- s }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if t.Failed() {
			t.Logf("source log:\n%s", h.Logs)
		}
	})
}

// Next waits for the next published Set.
func (h *Harness) Next(t testing.TB, within time.Duration) *control.Set {
	t.Helper()
	select {
	case s := <-h.Sets:
		h.Last = s
		return s
	case <-time.After(within):
		t.Fatalf("no Set published within %v", within)
		return nil
	}
}

// None fails the test when a Set is published within d.
func (h *Harness) None(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case s := <-h.Sets:
		t.Fatalf("unexpected Set %d", s.Generation)
	case <-time.After(d):
	}
}
