package opsapi

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/control/postgres/postgrestest"
)

// fakeTO is a Traffic Ops 5.0 stand-in: cookie login, ETags, no
// generation header, no Signpost files endpoint.
type fakeTO struct {
	mu       sync.Mutex
	bodies   map[string][]byte // by path
	sessions map[string]bool
	counts   map[string]int // requests by path
	status   map[string]int // 304s by path
	logins   int
}

func newFakeTO(t *testing.T) (*fakeTO, string) {
	t.Helper()
	f := &fakeTO{bodies: map[string][]byte{}, sessions: map[string]bool{}, counts: map[string]int{}, status: map[string]int{}}
	hs := httptest.NewServer(f)
	t.Cleanup(hs.Close)
	return f, hs.URL
}

func (f *fakeTO) set(path string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies[path] = body
}

func (f *fakeTO) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path == "/api/5.0/user/login" {
		var b struct{ U, P string }
		if json.NewDecoder(r.Body).Decode(&b) != nil || b.U != testUser || b.P != testPassword {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"alerts":[{"text":"Invalid username or password.","level":"error"}]}`)
			return
		}
		f.logins++
		tok := fmt.Sprintf("tok%d", f.logins)
		f.sessions[tok] = true
		http.SetCookie(w, &http.Cookie{Name: "mojolicious", Value: tok, Path: "/"})
		fmt.Fprint(w, `{"alerts":[{"text":"Successfully logged in.","level":"success"}]}`)
		return
	}
	c, err := r.Cookie("mojolicious")
	if err != nil || !f.sessions[c.Value] {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"alerts":[{"text":"Unauthorized, please log in.","level":"error"}]}`)
		return
	}
	f.counts[r.URL.Path]++
	body, ok := f.bodies[r.URL.Path]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"alerts":[{"text":"not found","level":"error"}]}`)
		return
	}
	sum := sha256.Sum256(body)
	tag := fmt.Sprintf(`"%x"`, sum[:8])
	w.Header().Set("Etag", tag)
	if r.Header.Get("If-None-Match") == tag {
		f.status[r.URL.Path]++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(body)
}

func TestTrafficOpsPolling(t *testing.T) {
	to, u := newFakeTO(t)
	files := postgrestest.FixtureFiles(t)
	wrap := func(b []byte) []byte { return []byte(`{"response": ` + string(b) + `}`) }
	snap := func(n int) []byte { return postgrestest.WithSerial(t, files, n)[control.FileSnapshot] }
	to.set("/api/5.0/cdns/cdn1/snapshot", wrap(snap(1)))
	to.set("/api/5.0/steering", files[control.FileSteering])
	var feds []json.RawMessage
	if err := json.Unmarshal(files[control.FileFederations], &feds); err != nil {
		var w struct{ Response []json.RawMessage }
		if err := json.Unmarshal(files[control.FileFederations], &w); err != nil {
			t.Fatal(err)
		}
		feds = w.Response
	}
	feds = append([]json.RawMessage{json.RawMessage(`{"cdnName": "cdn1"}`)}, feds...)
	fb, _ := json.Marshal(map[string]any{"response": feds})
	to.set("/api/5.0/federations/all", fb)
	to.set("/api/5.0/cdns/name/cdn1/dnsseckeys", []byte(`{"response": {}}`))
	to.set("/api/5.0/cdns/name/cdn1/sslkeys", []byte(`{"response": []}`))

	local := t.TempDir()
	if err := os.WriteFile(filepath.Join(local, control.FileCoverageZones), files[control.FileCoverageZones], 0o644); err != nil {
		t.Fatal(err)
	}
	h := run(t, Options{URL: u, CDN: "cdn1", Username: testUser, Password: testPassword, LocalDir: local,
		PollInterval: 30 * time.Millisecond})
	s := h.Next(t, 5*time.Second)
	if serial(s) != "1" || s.Steering == nil || s.Federations == nil || s.TLSKeys == nil || s.DNSSECKeys == nil {
		t.Fatalf("first set incomplete: %v", s.Hashes)
	}
	// The files endpoint is absent: czmap.json comes from the local
	// directory (on the next cycle, once the 404 was seen).
	if s.CoverageZones == nil {
		s = h.Next(t, time.Second)
	}
	if s.CoverageZones == nil || h.src.longPoll {
		t.Fatalf("czmap from the local dir: %v, long poll %v", s.CoverageZones != nil, h.src.longPoll)
	}

	// Polling with If-None-Match: unchanged snapshots answer 304.
	time.Sleep(200 * time.Millisecond)
	to.mu.Lock()
	polls, notMod, steer := to.counts["/api/5.0/cdns/cdn1/snapshot"], to.status["/api/5.0/cdns/cdn1/snapshot"], to.counts["/api/5.0/steering"]
	to.mu.Unlock()
	if polls < 4 || notMod < polls-2 || steer != 1 {
		t.Fatalf("snapshot polls %d (304: %d), steering fetches %d (its interval is the snapshot's, not the poll)", polls, notMod, steer)
	}

	// A new snapshot is picked up at the next poll.
	to.set("/api/5.0/cdns/cdn1/snapshot", wrap(snap(2)))
	if s := h.Next(t, time.Second); serial(s) != "2" {
		t.Fatalf("second: %q", serial(s))
	}
	// An invalid snapshot is rejected and never published.
	to.set("/api/5.0/cdns/cdn1/snapshot", []byte(`{"response": {"contentServers": 7}}`))
	h.None(t, 200*time.Millisecond)
	if st, _ := h.src.Status().File(control.FileSnapshot); st.RejectedCount != 1 || !strings.Contains(st.LastError, "contentServers") {
		t.Fatalf("status: %+v", st)
	}
	// An expired session is renewed by logging in again.
	to.mu.Lock()
	to.sessions = map[string]bool{}
	to.mu.Unlock()
	to.set("/api/5.0/cdns/cdn1/snapshot", wrap(snap(3)))
	if s := h.Next(t, time.Second); serial(s) != "3" {
		t.Fatalf("after re-login: %q", serial(s))
	}
	to.mu.Lock()
	logins := to.logins
	to.mu.Unlock()
	if logins != 2 {
		t.Fatalf("%d logins", logins)
	}
}

func TestDropCDNNameElement(t *testing.T) {
	in := []byte(`{"response": [{"cdnName": "c"}, {"deliveryService": "d", "mappings": []}]}`)
	out, err := dropCDNNameElement(in)
	if err != nil || string(out) != `{"response":[{"deliveryService":"d","mappings":[]}]}` {
		t.Fatalf("%s %v", out, err)
	}
	for _, keep := range []string{`{"response": [{"deliveryService": "d"}]}`, `[1]`, `nonsense`} {
		if out, _ := dropCDNNameElement([]byte(keep)); string(out) != keep {
			t.Errorf("%s changed to %s", keep, out)
		}
	}
}
