package router

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/hashring"
)

// Router holds the current Table. Queries call Load once per query and use
// that table for the whole query. Publish and ApplyHealth are called by the
// control loop and the health follower; they serialize among themselves
// and never block queries.
type Router struct {
	table atomic.Pointer[Table]

	mu      sync.Mutex // serializes Publish and ApplyHealth
	builder *Builder
	states  *control.CrStates // latest health, re-applied to new tables
	log     *slog.Logger
}

// New returns a Router without a table: Load returns nil until the first
// Publish succeeds (listeners do not answer until then).
func New(mode hashring.Mode, log *slog.Logger) *Router {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Router{builder: NewBuilder(mode, log), log: log}
}

// Load returns the current table, or nil before the first Publish.
func (r *Router) Load() *Table { return r.table.Load() }

// Publish builds a table from set and makes it current with one pointer
// store. Health applied with ApplyHealth since the set was made takes
// precedence over the set's own crstates.json. On error the current table
// keeps serving.
func (r *Router) Publish(set *control.Set) (*Table, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, err := r.builder.Build(set)
	if err != nil {
		return nil, fmt.Errorf("router: generation %d: %w", set.Generation, err)
	}
	if r.states != nil {
		t.health.Store(t.newHealth(r.states))
	} else if set.Health != nil {
		r.states = set.Health
	}
	r.table.Store(t)
	return t, nil
}

// ApplyHealth applies states to the current table (and to every table
// published later) without rebuilding it.
func (r *Router) ApplyHealth(states *control.CrStates) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = states
	if t := r.table.Load(); t != nil {
		t.ApplyHealth(states)
	}
}

// States returns the latest health applied (nil when none).
func (r *Router) States() *control.CrStates {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.states
}
