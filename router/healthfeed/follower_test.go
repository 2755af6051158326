package healthfeed

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/internal/metrics"
)

func TestHealthAppliedToRouting(t *testing.T) {
	r := fixtureRouter(t)
	ids := fixtureCaches(t)
	before := routeR1(t, r)
	if len(before) == 0 {
		t.Fatal("R1 chose no cache")
	}
	victim := before[0] // edge-cache-002 in spec vector R1
	m := newFakeMonitor(t, crStates(t, ids, downSet(victim), 0))
	reg := metrics.NewRegistry(metrics.Options{})
	stateDir := t.TempDir()
	f, _ := start(t, Config{Monitors: []string{m.URL}, Router: r, StateDir: stateDir, Metrics: reg})
	eventually(t, 5*time.Second, victim+" unavailable", func() bool { return !available(t, r, victim) })
	eventually(t, 5*time.Second, "status", func() bool { return f.Status().CachesDown == 1 })
	after := routeR1(t, r)
	if len(after) == 0 || slices.Contains(after, victim) {
		t.Fatalf("R1 after %s went down: %v (before %v)", victim, after, before)
	}
	if m.gzipped.Load() == 0 {
		t.Error("the monitor never answered gzip: Accept-Encoding: gzip not sent")
	}
	st := f.Status()
	if st.LastMonitor != m.URL+CrStatesPath || st.AppliedFrom != m.URL+CrStatesPath || st.AppliedHash == "" {
		t.Errorf("status %+v", st)
	}
	if st.CachesDown != 1 || st.FailOpen || st.Distrusted != nil {
		t.Errorf("status %+v", st)
	}
	kept, err := os.ReadFile(filepath.Join(stateDir, StateFile))
	if err != nil || !bytes.Equal(kept, crStates(t, ids, downSet(victim), 0)) {
		t.Errorf("state file %q, %v", kept, err)
	}
	if err := reg.Err(); err != nil {
		t.Fatal(err)
	}
	text := string(reg.AppendText(nil))
	for _, want := range []string{`signpost_health_polls_total{result="applied"} 1`, "signpost_health_caches_down 1",
		"signpost_health_fail_open 0", "signpost_health_age_seconds "} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}

	// The victim recovers: routed to again.
	m.set(crStates(t, ids, nil, 1))
	eventually(t, 5*time.Second, victim+" available again", func() bool { return available(t, r, victim) })
	if got := routeR1(t, r); !slices.Equal(got, before) {
		t.Errorf("R1 after recovery %v, want %v", got, before)
	}
}

func TestIdenticalBodiesNotReapplied(t *testing.T) {
	r := fixtureRouter(t)
	ids := fixtureCaches(t)
	m := newFakeMonitor(t, crStates(t, ids, downSet(ids[3]), 0))
	f, _ := start(t, Config{Monitors: []string{m.URL}, Router: r})
	eventually(t, 5*time.Second, "applied", func() bool { return !f.Status().LastApplied.IsZero() })
	first := f.Status()
	applied := r.Load().Health()
	// Byte-identical bodies, then bodies whose lastPoll and status texts
	// change but whose availability does not (as a real monitor's do).
	n := m.requests.Load()
	eventually(t, 5*time.Second, "5 more polls", func() bool { return m.requests.Load() >= n+5 })
	m.setGen(func(n int64) []byte { return crStates(t, ids, downSet(ids[3]), int(n)) })
	n = m.requests.Load()
	eventually(t, 5*time.Second, "5 more polls", func() bool { return m.requests.Load() >= n+5 })
	eventually(t, 5*time.Second, "10 unchanged polls handled", func() bool { return f.met.polls[resultUnchanged].Value() >= 10 })
	st := f.Status()
	if !st.LastApplied.Equal(first.LastApplied) || st.AppliedHash != first.AppliedHash {
		t.Errorf("re-applied: %v/%s, first %v/%s", st.LastApplied, st.AppliedHash, first.LastApplied, first.AppliedHash)
	}
	if r.Load().Health() != applied {
		t.Error("the router's health view was rebuilt for an unchanged body")
	}
	if !st.LastSuccess.After(first.LastSuccess) {
		t.Error("unchanged polls do not count as successes")
	}
	if got := f.met.polls[resultApplied].Value(); got != 1 {
		t.Errorf("applied %d times, want 1", got)
	}
}

func TestFailoverWhenFirstMonitorDies(t *testing.T) {
	r := fixtureRouter(t)
	ids := fixtureCaches(t)
	m1 := newFakeMonitor(t, crStates(t, ids, downSet(ids[0]), 0))
	m2 := newFakeMonitor(t, crStates(t, ids, downSet(ids[0], ids[1]), 0))
	f, _ := start(t, Config{Monitors: []string{m1.URL, m2.URL}, Router: r, MaxAge: time.Second})
	eventually(t, 5*time.Second, "m1's health", func() bool { return !available(t, r, ids[0]) })
	if available(t, r, ids[0]) || !available(t, r, ids[1]) || m2.requests.Load() != 0 {
		t.Fatalf("m2 asked while m1 answers (%d requests)", m2.requests.Load())
	}
	m1.Close() // dies mid-run
	eventually(t, 5*time.Second, "m2's health", func() bool { return !available(t, r, ids[1]) })
	eventually(t, 5*time.Second, "polls on m2", func() bool { return m2.requests.Load() >= 5 })
	st := f.Status()
	if st.LastMonitor != m2.URL+CrStatesPath || st.FailOpen || st.FailOpenCount != 0 {
		t.Errorf("status %+v", st)
	}
	if st.Monitors[0].LastError == "" || st.Monitors[0].Failures == 0 {
		t.Errorf("m1 status %+v", st.Monitors[0])
	}
	// No gap: every poll found a monitor (failover within the poll).
	if got := f.met.polls[resultFailed].Value(); got != 0 {
		t.Errorf("%d polls failed outright", got)
	}
	if got := f.met.monitorFailures[0].Value(); got != 1 {
		t.Errorf("m1 failures %d, want 1: the follower must stay on m2 once it works", got)
	}
}

func TestBadMonitorsAreSkipped(t *testing.T) {
	r := fixtureRouter(t)
	ids := fixtureCaches(t)
	good := crStates(t, ids, downSet(ids[5]), 0)
	notReady := newFakeMonitor(t, good)
	notReady.setStatus(http.StatusServiceUnavailable) // no quorum
	garbage := newFakeMonitor(t, []byte(`{"caches": [1, 2`))
	notCrStates := newFakeMonitor(t, []byte(`{"caches": {"edge-cache-000": 5}}`))
	slow := newFakeMonitor(t, good)
	slow.setDelay(10 * time.Second)
	plain := newFakeMonitor(t, good)
	plain.plain.Store(true)
	log, logs := testLogger(t)
	f, _ := start(t, Config{
		Monitors: []string{notReady.URL, garbage.URL, notCrStates.URL, slow.URL, plain.URL},
		Router:   r, Timeout: 100 * time.Millisecond, Interval: 10 * time.Millisecond, Logger: log,
	})
	eventually(t, 5*time.Second, "health from the fifth monitor", func() bool { return !available(t, r, ids[5]) })
	st := f.Status()
	for i, want := range []string{"HTTP 503 Service Unavailable", "invalid CrStates", `caches["edge-cache-000"]: expected an object`,
		"timeout after 100ms", ""} {
		if got := st.Monitors[i].LastError; want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("monitor %d: last error %q, want %q", i, got, want)
		}
	}
	if st.LastMonitor != plain.URL+CrStatesPath {
		t.Errorf("last monitor %s", st.LastMonitor)
	}
	// Failures are logged with the monitor URL and the reason.
	for _, m := range []*fakeMonitor{notReady, garbage, notCrStates, slow} {
		if !strings.Contains(logs.String(), `monitor=`+m.URL+CrStatesPath) {
			t.Errorf("no failure log naming %s:\n%s", m.URL, logs.String())
		}
	}

	// Later polls stay on the working monitor; when it fails too, the
	// others are tried again from the next one (round robin), and their
	// repeated failures are logged once per LogEvery.
	plain.setStatus(http.StatusInternalServerError)
	n := notReady.requests.Load()
	eventually(t, 5*time.Second, "the first monitor asked again", func() bool { return notReady.requests.Load() >= n+5 })
	if got := logs.count(`monitor=` + notReady.URL + CrStatesPath); got != 1 {
		t.Errorf("%d failure logs for the 503 monitor, want 1 (rate limit)", got)
	}
}

func TestFailOpenWhenHealthTooOld(t *testing.T) {
	r := fixtureRouter(t)
	ids := fixtureCaches(t)
	body := crStates(t, ids, downSet(ids[2]), 0)
	m := newFakeMonitor(t, body)
	log, logs := testLogger(t)
	f, _ := start(t, Config{Monitors: []string{m.URL}, Router: r, MaxAge: 200 * time.Millisecond, Logger: log})
	eventually(t, 5*time.Second, "applied", func() bool { return !available(t, r, ids[2]) })

	m.setStatus(http.StatusServiceUnavailable) // every monitor down
	eventually(t, 5*time.Second, "fail open", func() bool { return r.Load().Health().FailOpen })
	eventually(t, 5*time.Second, "fail open status", func() bool { return f.Status().FailOpen })
	if !available(t, r, ids[2]) {
		t.Error("fail-open view keeps the cache down")
	}
	st := f.Status()
	if !st.FailOpen || st.FailOpenCount != 1 || st.FailOpenSince.IsZero() {
		t.Errorf("status %+v", st)
	}
	eventually(t, 5*time.Second, "source kept", func() bool { return r.Load().Health().Source != nil })
	if r.States() != nil {
		t.Error("the router still re-applies stale health to new tables")
	}
	// A table published while failing open is born fail-open; one whose
	// set carries its own crstates.json is switched at the next request.
	noHealth := dirSet(t, fixture.DefaultDir(t), func(name string, data []byte) []byte {
		if name == control.FileHealth {
			return nil
		}
		return data
	})
	tab, err := r.Publish(noHealth)
	if err != nil {
		t.Fatal(err)
	}
	if !tab.Health().FailOpen {
		t.Error("table published while failing open was not born fail-open")
	}
	if _, err := r.Publish(fixtureSet(t)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "new table fails open", func() bool { return r.Load().Health().FailOpen })
	time.Sleep(100 * time.Millisecond)
	if got := logs.count("failing open"); got != 1 {
		t.Errorf("%d fail-open warnings, want 1 per transition", got)
	}

	m.setStatus(http.StatusOK) // the same body as before
	eventually(t, 5*time.Second, "health again", func() bool { return !available(t, r, ids[2]) })
	eventually(t, 5*time.Second, "status", func() bool { return !f.Status().FailOpen })
	st = f.Status()
	if st.FailOpen || r.Load().Health().FailOpen || r.States() == nil {
		t.Errorf("still failing open: %+v", st)
	}
	if got := logs.count("fresh again"); got != 1 {
		t.Errorf("%d recovery logs, want 1", got)
	}
	if f.met.failOpenTotal.Value() != 1 || f.met.failOpen.Value() != 0 {
		t.Errorf("metrics: fail_open_total %d, fail_open %v", f.met.failOpenTotal.Value(), f.met.failOpen.Value())
	}
}

func TestMassDownDistrustedThenConfirmed(t *testing.T) {
	r := fixtureRouter(t)
	ids := fixtureCaches(t) // 24 caches
	mass := downSet(ids[:13]...)
	m := newFakeMonitor(t, crStates(t, ids, downSet(ids[20]), 0))
	log, logs := testLogger(t)
	f, _ := start(t, Config{Monitors: []string{m.URL}, Router: r, Interval: 100 * time.Millisecond, Logger: log})
	eventually(t, 5*time.Second, "applied", func() bool { return !available(t, r, ids[20]) })

	// 13 of 24 caches (54%) go down at once, with lastPoll changing in
	// every body as a real monitor's does.
	m.setGen(func(n int64) []byte { return crStates(t, ids, mass, int(n)) })
	eventually(t, 5*time.Second, "distrusted", func() bool { return f.Status().Distrusted != nil })
	d := f.Status().Distrusted
	if d.NewlyDown != 13 || d.Down != 13 || d.Caches != 24 || d.Polls != 1 || d.Monitor != m.URL+CrStatesPath {
		t.Errorf("distrusted %+v", d)
	}
	if !available(t, r, ids[0]) {
		t.Fatal("a distrusted update was applied")
	}
	if !strings.Contains(logs.String(), "newly_down=13 down=13 caches=24") {
		t.Errorf("distrust log lacks the numbers:\n%s", logs.String())
	}
	eventually(t, 5*time.Second, "confirmed", func() bool { return !available(t, r, ids[0]) })
	eventually(t, 5*time.Second, "status", func() bool { return f.Status().LastDistrusted.Resolution != "" })
	st := f.Status()
	if st.Distrusted != nil || st.LastDistrusted == nil || st.LastDistrusted.Resolution != "confirmed" ||
		st.LastDistrusted.Polls != DefaultConfirmPolls {
		t.Errorf("status %+v, last distrust %+v", st, st.LastDistrusted)
	}
	for _, id := range sortedKeys(mass) {
		if available(t, r, id) {
			t.Errorf("%s available after the confirmed update", id)
		}
	}
	if got := f.met.polls[resultDistrusted].Value(); got != DefaultConfirmPolls-1 {
		t.Errorf("distrusted polls %d, want %d", got, DefaultConfirmPolls-1)
	}
	if f.met.distrustAccept.Value() != 1 {
		t.Errorf("accepted %d", f.met.distrustAccept.Value())
	}
}

func TestMassDownSupersededAndLimit(t *testing.T) {
	r := fixtureRouter(t)
	ids := fixtureCaches(t)
	m := newFakeMonitor(t, crStates(t, ids, nil, 0))
	f, _ := start(t, Config{Monitors: []string{m.URL}, Router: r, Interval: 30 * time.Millisecond,
		DistrustLimit: 400 * time.Millisecond})
	eventually(t, 5*time.Second, "applied", func() bool { return !f.Status().LastApplied.IsZero() })

	// Poisoned answers (changing verdicts, so never confirmed by count),
	// then the monitor is sane again before the limit.
	m.setGen(func(n int64) []byte { return crStates(t, ids, downSet(ids[n%2:]...), int(n)) })
	eventually(t, 5*time.Second, "distrusted", func() bool { return f.Status().Distrusted != nil })
	m.setGen(nil)
	eventually(t, 5*time.Second, "superseded", func() bool {
		d := f.Status().LastDistrusted
		return d != nil && d.Resolution == "superseded"
	})
	for _, id := range ids {
		if !available(t, r, id) {
			t.Fatalf("%s down after a superseded mass-down", id)
		}
	}

	// A flapping outage: two alternating verdicts never repeat three times
	// in a row, so DistrustLimit accepts the latest.
	a, b := downSet(ids[:20]...), downSet(ids[4:]...)
	m.setGen(func(n int64) []byte {
		if n%2 == 0 {
			return crStates(t, ids, a, int(n))
		}
		return crStates(t, ids, b, int(n))
	})
	start := time.Now()
	eventually(t, 5*time.Second, "accepted at the limit", func() bool {
		d := f.Status().LastDistrusted
		return d != nil && d.Resolution == "limit"
	})
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Errorf("accepted after %s, before the limit", el)
	}
	if available(t, r, ids[10]) {
		t.Error("the outage was not applied")
	}
}

func TestRestartAppliesLastGoodHealth(t *testing.T) {
	dir := t.TempDir()
	ids := fixtureCaches(t)
	body := crStates(t, ids, downSet(ids[7], ids[8]), 0)
	m := newFakeMonitor(t, body)
	r1 := fixtureRouter(t)
	_, stop := start(t, Config{Monitors: []string{m.URL}, Router: r1, StateDir: dir})
	eventually(t, 5*time.Second, "applied", func() bool { return !available(t, r1, ids[7]) })
	stop()

	// Restart: the monitors do not answer (503, then hanging).
	m.setStatus(http.StatusServiceUnavailable)
	hang := newFakeMonitor(t, body)
	hang.setDelay(time.Minute)
	r2 := fixtureRouter(t)
	if !available(t, r2, ids[7]) {
		t.Fatal("fresh router starts with the cache down")
	}
	f, _ := start(t, Config{Monitors: []string{m.URL, hang.URL}, Router: r2, StateDir: dir,
		Timeout: 200 * time.Millisecond, MaxAge: 5 * time.Second})
	eventually(t, 5*time.Second, "last good health", func() bool { return !available(t, r2, ids[7]) })
	eventually(t, 5*time.Second, "status", func() bool { return f.Status().AppliedFrom != "" })
	st := f.Status()
	if st.AppliedFrom != filepath.Join(dir, StateFile) || !st.LastSuccess.IsZero() || st.LastMonitor != "" {
		t.Errorf("status %+v", st)
	}
	if available(t, r2, ids[8]) || !available(t, r2, ids[9]) {
		t.Error("wrong health from the state file")
	}
	// A router that publishes its first table after the follower started
	// gets the state file's health too.
	r3 := fixtureRouterNoTable()
	_, stop3 := start(t, Config{Monitors: []string{m.URL}, Router: r3, StateDir: dir})
	eventually(t, 5*time.Second, "states recorded", func() bool { return r3.States() != nil })
	stop3()
	if _, err := r3.Publish(fixtureSet(t)); err != nil {
		t.Fatal(err)
	}
	if available(t, r3, ids[7]) {
		t.Error("first table lacks the state file's health")
	}
}

func TestBadStateFileIgnored(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, StateFile), []byte(`{"caches": 7}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ids := fixtureCaches(t)
	m := newFakeMonitor(t, crStates(t, ids, downSet(ids[1]), 0))
	r := fixtureRouter(t)
	log, logs := testLogger(t)
	f, _ := start(t, Config{Monitors: []string{m.URL}, Router: r, StateDir: dir, Logger: log})
	eventually(t, 5*time.Second, "monitor health", func() bool { return !available(t, r, ids[1]) })
	if !strings.Contains(logs.String(), "crstates.json: caches: ") || f.met.stateErrors.Value() != 1 {
		t.Errorf("bad state file not reported (errors %d):\n%s", f.met.stateErrors.Value(), logs.String())
	}
	// and it was replaced by the good health
	eventually(t, 5*time.Second, "state file replaced", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, StateFile))
		return bytes.Contains(b, []byte(`"edge-cache-001"`))
	})
}

func TestConfigProblemsListed(t *testing.T) {
	_, err := New(Config{
		Monitors:     []string{"tm1:80", "ftp://tm2", "http://", "http://tm3/?x=1", "http://tm4:80/"},
		Interval:     -time.Second,
		MaxAge:       time.Millisecond,
		MaxDownShare: 1.5,
		ConfirmPolls: -1,
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`monitors[0]: invalid URL "tm1:80"`, `monitors[1]: invalid URL "ftp://tm2": scheme`, `monitors[2]: invalid URL "http://": no host`,
		`monitors[3]: invalid URL "http://tm3/?x=1": base URL must not carry a query`, "router: required",
		"interval: -1s is negative", "maxDownShare: 1.5 is outside [0, 1]", "confirmPolls: -1 is negative",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "monitors[4]") {
		t.Errorf("good URL reported: %v", err)
	}
	_, err = New(Config{Monitors: []string{"http://tm"}, Router: fixtureRouter(t), MaxAge: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "maxAge: 1ms is shorter than interval 1s") {
		t.Errorf("maxAge < interval: %v", err)
	}
}

func TestRunTwiceAndBodyLimit(t *testing.T) {
	ids := fixtureCaches(t)
	m := newFakeMonitor(t, crStates(t, ids, nil, 0))
	f, err := New(Config{Monitors: []string{m.URL}, Router: fixtureRouter(t), MaxBodyBytes: 100, Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	eventually(t, 5*time.Second, "a failure", func() bool { return f.Status().Monitors[0].LastError != "" })
	if err := f.Run(ctx); err == nil {
		t.Error("a second Run started")
	}
	if got := f.Status().Monitors[0].LastError; got != "body larger than 100 bytes" {
		t.Errorf("last error %q", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
