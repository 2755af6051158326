package router

import (
	"slices"
	"time"

	"github.com/signpost-cdn/signpost/control"
)

// Health is one immutable availability view of a Table (spec 2). Applying
// new health builds a new Health (linear in caches and services) and swaps
// it in with one pointer store; the table itself is not rebuilt.
type Health struct {
	// Source is the CrStates the view was built from (nil: no health
	// known, every cache counts as available).
	Source *control.CrStates
	// Applied is when the view was built.
	Applied time.Time
	// FailOpen is true when the view ignores health (none known yet, or
	// health older than its limit): every cache and service is available.
	FailOpen bool

	v4, v6   bitset // per cache: eligible for IPv4 / IPv6 requests
	dsDown   bitset // per delivery service: unavailable
	disabled [][]int32
	down     int // caches not available at all
	// avail holds, per family (0 IPv4, 1 IPv6) and per Table.cacheSets
	// entry, the members eligible for that family in order: the set
	// itself when all are. A group's choice reads it instead of testing
	// each cache (available).
	avail [2][][]int32
}

type bitset []uint64

func newBitset(n int, set bool) bitset {
	b := make(bitset, (n+63)/64)
	if set {
		for i := range b {
			b[i] = ^uint64(0)
		}
	}
	return b
}

func (b bitset) get(i int32) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }
func (b bitset) set(i int32)      { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) clear(i int32)    { b[i>>6] &^= 1 << (uint(i) & 63) }
func (b bitset) assign(i int32, v bool) {
	if v {
		b.set(i)
	} else {
		b.clear(i)
	}
}

// newHealth builds the view of states for this table; nil states (no
// health known yet) makes every cache available (non-authoritative, spec 2).
func (t *Table) newHealth(states *control.CrStates) *Health {
	h := &Health{
		Source:   states,
		Applied:  time.Now(),
		FailOpen: states == nil,
		v4:       newBitset(len(t.caches), true),
		v6:       newBitset(len(t.caches), true),
		dsDown:   newBitset(len(t.ds), false),
		disabled: make([][]int32, len(t.ds)),
	}
	if states == nil {
		t.indexAvailable(h)
		return h
	}
	for ci := range t.caches {
		st, ok := states.Cache(t.caches[ci].ID)
		up := ok && st.IsAvailable
		h.v4.assign(int32(ci), up && st.IPv4Available)
		h.v6.assign(int32(ci), up && st.IPv6Available)
		if !up {
			h.down++
		}
	}
	for di := range t.ds {
		st, ok := states.DeliveryService(t.ds[di].ID)
		if !ok {
			continue
		}
		if !st.IsAvailable {
			h.dsDown.set(int32(di))
		}
		for _, name := range st.DisabledLocations {
			if li, ok := t.locIndex[name]; ok {
				h.disabled[di] = append(h.disabled[di], li)
			}
		}
	}
	t.indexAvailable(h)
	return h
}

// indexAvailable fills h.avail from h.v4 and h.v6.
func (t *Table) indexAvailable(h *Health) {
	h.avail[0], h.avail[1] = eligibleSets(t.cacheSets, h.v4), eligibleSets(t.cacheSets, h.v6)
}

// eligibleSets returns, per cache set, its members set in ok, in order:
// the set itself (shared, not copied) when all are.
func eligibleSets(sets [][]int32, ok bitset) [][]int32 {
	out := make([][]int32, len(sets))
	down := func(ci int32) bool { return !ok.get(ci) }
	for s, set := range sets {
		out[s] = set
		if slices.ContainsFunc(set, down) {
			out[s] = slices.DeleteFunc(slices.Clone(set), down)
		}
	}
	return out
}

// available returns g's caches eligible for the family (v6 for IPv6
// clients or AAAA queries), in order. The slice is shared: read only.
func (h *Health) available(g *group, v6 bool) []int32 {
	f := 0
	if v6 {
		f = 1
	}
	return h.avail[f][g.set]
}

// ApplyHealth builds the view of states and publishes it. It returns the
// view. Safe to call concurrently with queries.
func (t *Table) ApplyHealth(states *control.CrStates) *Health {
	h := t.newHealth(states)
	t.health.Store(h)
	return h
}

// FailOpen publishes a view in which every cache and delivery service is
// available, keeping states as the recorded source (used when health is
// older than its limit).
func (t *Table) FailOpen(states *control.CrStates) *Health {
	h := t.newHealth(nil)
	h.Source = states
	t.health.Store(h)
	return h
}

// DownCaches returns how many caches the view marks unavailable.
func (h *Health) DownCaches() int { return h.down }

// CacheAvailable reports whether cache ci may serve a request of the
// family (v6 for IPv6 clients or AAAA queries).
func (h *Health) CacheAvailable(ci int32, v6 bool) bool {
	if v6 {
		return h.v6.get(ci)
	}
	return h.v4.get(ci)
}

// DSAvailable reports whether delivery service di is available.
func (h *Health) DSAvailable(di int32) bool { return !h.dsDown.get(di) }

// LocationDisabled reports whether location li is in the delivery
// service's disabledLocations.
func (h *Health) LocationDisabled(di, li int32) bool {
	for _, d := range h.disabled[di] {
		if d == li {
			return true
		}
	}
	return false
}
