package healthfeed

import (
	"encoding/hex"
	"slices"
	"time"
)

// Status is a copy of the follower's state for the /crs API and metrics.
// Times are zero when the event has not happened.
type Status struct {
	// LastSuccess is the last poll that got a good answer from a monitor
	// (applied, unchanged or distrusted).
	LastSuccess time.Time `json:"lastSuccess"`
	// LastApplied is when health was last applied to the router.
	LastApplied time.Time `json:"lastApplied"`
	// LastMonitor is the monitor that gave the last good answer.
	LastMonitor string `json:"lastMonitor"`
	// AppliedHash is the sha256 of the body of the applied health.
	AppliedHash string `json:"appliedHash"`
	// AppliedFrom is where the applied health came from: a monitor URL,
	// the state file path, or "" when none was applied.
	AppliedFrom string `json:"appliedFrom"`
	// CachesDown is how many caches of the current table the applied
	// health marks unavailable (-1 without a table or health).
	CachesDown int `json:"cachesDown"`
	// FailOpen is true while health is older than MaxAge: every cache
	// counts as available.
	FailOpen      bool      `json:"failOpen"`
	FailOpenSince time.Time `json:"failOpenSince"`
	// FailOpenCount counts transitions into fail-open.
	FailOpenCount uint64 `json:"failOpenCount"`
	// Distrusted is the pending distrusted update (nil when none).
	Distrusted *Distrust `json:"distrusted,omitempty"`
	// LastDistrusted is the most recent distrusted update, pending or
	// resolved (nil when none ever).
	LastDistrusted *Distrust `json:"lastDistrusted,omitempty"`
	// Monitors in configured order.
	Monitors []MonitorStatus `json:"monitors"`
}

// MonitorStatus is the record of one monitor.
type MonitorStatus struct {
	URL         string    `json:"url"`
	LastSuccess time.Time `json:"lastSuccess"`
	LastError   string    `json:"lastError"`
	LastErrorAt time.Time `json:"lastErrorAt"`
	// Failures is the total number of failed requests.
	Failures uint64 `json:"failures"`
	// ConsecutiveFailures resets when the monitor answers well.
	ConsecutiveFailures int `json:"consecutiveFailures"`
}

// Distrust describes an update that newly marked more than MaxDownShare
// of the table's caches unavailable.
type Distrust struct {
	Monitor string `json:"monitor"`
	// Hash is the sha256 of the body.
	Hash string `json:"hash"`
	// Caches is the table's cache count; Down how many the update marks
	// unavailable; NewlyDown how many of those the accepted health had
	// available; Share is NewlyDown/Caches.
	Caches    int     `json:"caches"`
	Down      int     `json:"down"`
	NewlyDown int     `json:"newlyDown"`
	Share     float64 `json:"share"`
	// Polls is how many consecutive polls carried the same set of
	// unavailable caches.
	Polls int `json:"polls"`
	// First is when the run of distrusted polls began; Last the latest.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Resolution is "" while pending, then "confirmed" (ConfirmPolls
	// identical verdicts), "limit" (DistrustLimit reached), or
	// "superseded" (a trusted update arrived).
	Resolution string `json:"resolution,omitempty"`
}

// Status returns a copy of the current state. Safe for concurrent use.
func (f *Follower) Status() Status {
	f.statusMu.Lock()
	defer f.statusMu.Unlock()
	s := f.status
	s.Monitors = slices.Clone(s.Monitors)
	if s.Distrusted != nil {
		d := *s.Distrusted
		s.Distrusted = &d
	}
	if s.LastDistrusted != nil {
		d := *s.LastDistrusted
		s.LastDistrusted = &d
	}
	return s
}

// publishStatus copies the Run goroutine's state into the status.
func (f *Follower) publishStatus() {
	s := Status{
		LastSuccess:   f.lastSuccess,
		LastApplied:   f.lastApplied,
		AppliedFrom:   f.appliedFrom,
		CachesDown:    -1,
		FailOpen:      f.failOpen,
		FailOpenSince: f.failOpenSince,
		FailOpenCount: f.failOpenCount,
		Monitors:      make([]MonitorStatus, len(f.mons)),
	}
	if f.haveLastSuccess {
		s.LastMonitor = f.mons[f.current].url
	}
	if f.haveApplied {
		s.AppliedHash = hex.EncodeToString(f.appliedHash[:])
	}
	if t := f.cfg.Router.Load(); t != nil && f.accepted != nil {
		s.CachesDown = countDown(t, f.accepted)
	}
	if f.pending != nil {
		d := f.pending.Distrust
		s.Distrusted = &d
	}
	if f.lastDistrust != nil {
		d := *f.lastDistrust
		s.LastDistrusted = &d
	}
	for i, m := range f.mons {
		s.Monitors[i] = MonitorStatus{URL: m.url, LastSuccess: m.lastSuccess, LastError: m.lastError,
			LastErrorAt: m.lastErrorAt, Failures: m.failures, ConsecutiveFailures: m.consecutive}
	}
	if s.CachesDown >= 0 {
		f.met.cachesDown.Set(float64(s.CachesDown))
	}
	f.statusMu.Lock()
	f.status = s
	f.statusMu.Unlock()
}
