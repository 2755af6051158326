// Package healthfeed makes a router follow its health monitors: it polls
// /publish/CrStates from a list of monitors (failing over between them),
// applies each new verdict to the router without a table rebuild, keeps the
// last good health in the state directory, fails open when health is older
// than its limit, and holds back updates that mark most caches down at once
// until they are confirmed. See docs/health.md.
package healthfeed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/internal/atomicfile"
	"github.com/signpost-cdn/signpost/router"
)

// Follower polls health monitors and applies their CrStates to a router.
// Run owns all working state; Status may be called from any goroutine.
type Follower struct {
	cfg Config
	log *slog.Logger
	met *feedMetrics

	running atomic.Bool

	// Owned by Run.
	mons            []monitorState
	current         int       // monitor to ask first: the last that answered
	freshAt         time.Time // last successful poll, or the start of Run
	lastSuccess     time.Time
	haveLastSuccess bool
	lastApplied     time.Time
	appliedFrom     string
	appliedHash     [sha256.Size]byte
	haveApplied     bool
	accepted        *control.CrStates // last accepted health (nil: none)
	acceptedKey     [sha256.Size]byte // availabilityKey(accepted)
	failOpen        bool
	failOpenSince   time.Time
	failOpenCount   uint64
	failOpenTable   *router.Table // the table the fail-open view was put on
	pending         *pendingDistrust
	lastDistrust    *Distrust

	statusMu sync.Mutex
	status   Status
}

// pendingDistrust is a run of distrusted updates.
type pendingDistrust struct {
	Distrust
	verdict [sha256.Size]byte // hash of the unavailable cache ids
}

// New validates cfg (every problem is reported) and returns a Follower.
// It does no I/O; Run loads the state file and polls.
func New(cfg Config) (*Follower, error) {
	c, urls, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	f := &Follower{cfg: c, log: c.Logger.With("component", "healthfeed"), met: newFeedMetrics(c.Metrics, urls)}
	for _, u := range urls {
		f.mons = append(f.mons, monitorState{url: u})
	}
	f.publishStatus()
	return f, nil
}

// Run loads the last good health from the state directory, then polls the
// monitors every Interval until ctx ends. It returns nil when ctx ends and
// an error only when it is already running.
func (f *Follower) Run(ctx context.Context) error {
	if !f.running.CompareAndSwap(false, true) {
		return errors.New("healthfeed: Run is already running")
	}
	defer f.running.Store(false)
	f.freshAt = time.Now()
	f.loadState()
	f.publishStatus()
	tick := time.NewTicker(f.cfg.Interval)
	defer tick.Stop()
	for {
		f.poll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// poll runs one poll: ask the monitors, handle the answer, check the age
// of health, keep a fail-open view on the current table, publish status.
func (f *Follower) poll(ctx context.Context) {
	res, ok := f.pollMonitors(ctx)
	if ctx.Err() != nil {
		return
	}
	now := time.Now()
	if ok {
		f.freshAt, f.lastSuccess, f.haveLastSuccess = now, now, true
		f.met.lastSuccess.Store(now.UnixNano())
		f.handle(res, now)
	} else {
		f.met.polls[resultFailed].Inc()
	}
	f.checkAge(now)
	f.syncFailOpen()
	f.publishStatus()
}

// handle decides what to do with a good answer.
func (f *Follower) handle(res fetched, now time.Time) {
	mon := f.mons[res.monitor].url
	if res.states == nil { // byte-identical to the applied body
		f.unchanged(now)
		return
	}
	key := availabilityKey(res.states)
	if f.accepted != nil && key == f.acceptedKey && !f.failOpen {
		// Only informational fields (status texts, lastPoll) changed.
		f.unchanged(now)
		return
	}
	if t := f.cfg.Router.Load(); t != nil {
		prev := f.accepted
		if prev == nil {
			prev = f.cfg.Router.States()
		}
		a := assess(t, prev, res.states)
		if float64(a.newlyDown) > f.cfg.MaxDownShare*float64(a.total) && a.total > 0 {
			if !f.distrust(res, a, now) {
				f.met.polls[resultDistrusted].Inc()
				return
			}
		}
	}
	f.resolvePending("superseded")
	f.apply(res.states, res.body, res.hash, mon, now, true)
	f.met.polls[resultApplied].Inc()
}

// unchanged handles an answer equal to the accepted health: leave
// fail-open if in it, and end any run of distrusted updates.
func (f *Follower) unchanged(now time.Time) {
	f.resolvePending("superseded")
	if f.failOpen && f.accepted != nil {
		f.cfg.Router.ApplyHealth(f.accepted)
		f.leaveFailOpen(now)
		f.lastApplied = now
		f.met.polls[resultApplied].Inc()
		return
	}
	f.leaveFailOpen(now)
	f.met.polls[resultUnchanged].Inc()
}

// apply makes states the router's health and persists body.
func (f *Follower) apply(states *control.CrStates, body []byte, hash [sha256.Size]byte, from string, now time.Time, persist bool) {
	f.cfg.Router.ApplyHealth(states)
	f.accepted, f.acceptedKey = states, availabilityKey(states)
	f.appliedHash, f.haveApplied, f.appliedFrom, f.lastApplied = hash, true, from, now
	f.leaveFailOpen(now)
	if persist && f.cfg.StateDir != "" {
		p := filepath.Join(f.cfg.StateDir, StateFile)
		if err := atomicfile.Write(p, body, 0o644); err != nil {
			f.met.stateErrors.Inc()
			f.log.Error("cannot keep the last good health", "path", p, "err", err)
		}
	}
}

// distrust records a mass-down update and reports whether it is now
// confirmed (and must be applied).
func (f *Follower) distrust(res fetched, a assessment, now time.Time) bool {
	p := f.pending
	if p == nil {
		p = &pendingDistrust{Distrust: Distrust{First: now}}
		f.pending = p
	}
	if p.Polls > 0 && p.verdict == a.verdict {
		p.Polls++
	} else {
		p.Polls = 1
	}
	p.verdict = a.verdict
	p.Monitor, p.Hash = f.mons[res.monitor].url, hex.EncodeToString(res.hash[:])
	p.Caches, p.Down, p.NewlyDown, p.Last = a.total, a.down, a.newlyDown, now
	p.Share = float64(a.newlyDown) / float64(a.total)
	d := p.Distrust
	f.lastDistrust = &d
	switch {
	case p.Polls >= f.cfg.ConfirmPolls:
		f.log.Warn("accepting mass-down health update: confirmed", "monitor", p.Monitor,
			"newly_down", p.NewlyDown, "down", p.Down, "caches", p.Caches, "polls", p.Polls)
		f.resolvePending("confirmed")
		f.met.distrustAccept.Inc()
		return true
	case now.Sub(p.First) >= f.cfg.DistrustLimit:
		f.log.Warn("accepting mass-down health update: distrusted for too long", "monitor", p.Monitor,
			"newly_down", p.NewlyDown, "down", p.Down, "caches", p.Caches, "since", p.First, "limit", f.cfg.DistrustLimit)
		f.resolvePending("limit")
		f.met.distrustAccept.Inc()
		return true
	}
	f.log.Warn("distrusting health update that marks many caches down at once", "monitor", p.Monitor,
		"newly_down", p.NewlyDown, "down", p.Down, "caches", p.Caches, "share", p.Share,
		"max_share", f.cfg.MaxDownShare, "polls", p.Polls, "confirm_polls", f.cfg.ConfirmPolls)
	return false
}

// resolvePending ends a run of distrusted updates.
func (f *Follower) resolvePending(how string) {
	if f.pending == nil {
		return
	}
	d := f.pending.Distrust
	d.Resolution = how
	f.lastDistrust = &d
	f.pending = nil
}

// checkAge fails open when no poll has succeeded for MaxAge.
func (f *Follower) checkAge(now time.Time) {
	if f.failOpen || now.Sub(f.freshAt) <= f.cfg.MaxAge {
		return
	}
	f.failOpen, f.failOpenSince, f.failOpenTable = true, now, nil
	// The router forgets its health, so tables it publishes from now on
	// are born fail-open (unless their own set carries crstates.json:
	// syncFailOpen covers those).
	f.cfg.Router.ApplyHealth(nil)
	f.failOpenCount++
	f.met.failOpenTotal.Inc()
	f.met.failOpen.Set(1)
	var lastErrs []string
	for _, m := range f.mons {
		lastErrs = append(lastErrs, m.url+": "+m.lastError)
	}
	f.log.Warn("health is older than its limit: failing open, every cache counts as available",
		"age", now.Sub(f.freshAt).Round(time.Millisecond), "max_age", f.cfg.MaxAge,
		"last_success", f.lastSuccess, "monitors", strings.Join(lastErrs, "; "))
}

func (f *Follower) leaveFailOpen(now time.Time) {
	if !f.failOpen {
		return
	}
	f.log.Warn("health is fresh again: applying it", "fail_open_for", now.Sub(f.failOpenSince).Round(time.Millisecond))
	f.failOpen, f.failOpenTable = false, nil
	f.met.failOpen.Set(0)
}

// syncFailOpen keeps the fail-open view, with the last accepted health as
// its recorded source, on the current table. It runs before every monitor
// request, so a table published with its set's own crstates.json while
// failing open is switched within one request timeout.
func (f *Follower) syncFailOpen() {
	if !f.failOpen {
		return
	}
	if t := f.cfg.Router.Load(); t != nil && t != f.failOpenTable {
		t.FailOpen(f.accepted)
		f.failOpenTable = t
	}
}

// loadState applies the last good health of the state directory.
func (f *Follower) loadState() {
	if f.cfg.StateDir == "" {
		return
	}
	p := filepath.Join(f.cfg.StateDir, StateFile)
	body, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		f.log.Info("no last good health yet", "path", p)
		return
	}
	if err != nil {
		f.met.stateErrors.Inc()
		f.log.Error("cannot read the last good health", "path", p, "err", err)
		return
	}
	states, err := control.ParseCrStates(p, body)
	if err != nil {
		f.met.stateErrors.Inc()
		f.log.Error("ignoring the last good health: invalid", "err", err)
		return
	}
	f.apply(states, body, sha256.Sum256(body), p, time.Now(), false)
	f.log.Info("applied the last good health", "path", p, "caches", len(states.Caches))
}

// assessment compares an update with the accepted health on one table.
type assessment struct {
	total, down, newlyDown int
	verdict                [sha256.Size]byte // hash of the unavailable cache ids
}

// cacheDown reports whether states make cache id unavailable (absent or
// isAvailable false); nil states (no health) make every cache available.
func cacheDown(states *control.CrStates, id string) bool {
	if states == nil {
		return false
	}
	st, ok := states.Cache(id)
	return !ok || !st.IsAvailable
}

func assess(t *router.Table, prev, next *control.CrStates) assessment {
	caches := t.Caches()
	a := assessment{total: len(caches)}
	h := sha256.New()
	for i := range caches {
		id := caches[i].ID
		if !cacheDown(next, id) {
			continue
		}
		a.down++
		h.Write([]byte(id))
		h.Write([]byte{0})
		if !cacheDown(prev, id) {
			a.newlyDown++
		}
	}
	h.Sum(a.verdict[:0])
	return a
}

func countDown(t *router.Table, states *control.CrStates) int {
	n := 0
	for _, c := range t.Caches() {
		if cacheDown(states, c.ID) {
			n++
		}
	}
	return n
}

// availabilityKey hashes what the router uses from states: per cache the
// three availability flags, per delivery service its availability and
// disabled locations, each in sorted order. Status texts and lastPoll
// times, which change every poll, are left out.
func availabilityKey(s *control.CrStates) [sha256.Size]byte {
	caches := slices.Clone(s.Caches)
	slices.SortFunc(caches, func(a, b control.CacheState) int { return strings.Compare(a.ID, b.ID) })
	dses := slices.Clone(s.DeliveryServices)
	slices.SortFunc(dses, func(a, b control.DSState) int { return strings.Compare(a.ID, b.ID) })
	h := sha256.New()
	b := make([]byte, 0, 256)
	flag := func(v bool) byte {
		if v {
			return '1'
		}
		return '0'
	}
	for _, c := range caches {
		b = append(b[:0], 'c')
		b = append(b, c.ID...)
		b = append(b, 0, flag(c.IsAvailable), flag(c.IPv4Available), flag(c.IPv6Available), '\n')
		h.Write(b)
	}
	for _, d := range dses {
		b = append(b[:0], 'd')
		b = append(b, d.ID...)
		b = append(b, 0, flag(d.IsAvailable), flag(d.HasDisabledLocations))
		for _, l := range d.DisabledLocations {
			b = append(b, 0)
			b = append(b, l...)
		}
		b = append(b, '\n')
		h.Write(b)
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}
