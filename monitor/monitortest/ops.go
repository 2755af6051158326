package monitortest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// Ops is a fake Traffic Ops serving POST /api/5.0/user/login and, to
// logged-in clients, GET /api/5.0/cdns/{cdn}/configs/monitoring and
// /api/5.0/cdns/{cdn}/snapshot.
type Ops struct {
	URL string

	user, pass, cdn string
	srv             *httptest.Server

	mu         sync.Mutex
	monitoring []byte
	snapshot   []byte
	sessions   map[string]bool

	down     atomic.Bool
	Logins   atomic.Int64
	Requests atomic.Int64
}

// NewOps starts a fake Traffic Ops for one CDN and user; closed by
// tb.Cleanup.
func NewOps(tb testing.TB, user, pass, cdn string) *Ops {
	tb.Helper()
	o := &Ops{user: user, pass: pass, cdn: cdn, sessions: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/5.0/user/login", o.login)
	mux.HandleFunc("GET /api/5.0/cdns/{cdn}/configs/monitoring", o.authed(func() []byte { return o.get(&o.monitoring) }))
	mux.HandleFunc("GET /api/5.0/cdns/{cdn}/snapshot", o.authed(func() []byte { return o.get(&o.snapshot) }))
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.Requests.Add(1)
		if o.down.Load() {
			alert(w, http.StatusServiceUnavailable, "down for maintenance")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	o.URL = o.srv.URL
	tb.Cleanup(o.srv.Close)
	return o
}

// SetMonitoring sets the monitoring config body served (a full response
// document, as Fleet.MonitoringConfig returns).
func (o *Ops) SetMonitoring(b []byte) { o.mu.Lock(); o.monitoring = b; o.mu.Unlock() }

// SetSnapshot sets the CrConfig served (wrapped in {"response": ...}).
func (o *Ops) SetSnapshot(b []byte) { o.mu.Lock(); o.snapshot = b; o.mu.Unlock() }

// SetDown makes every request answer 503.
func (o *Ops) SetDown(v bool) { o.down.Store(v) }

// ExpireSessions forgets every login (the next request answers 401).
func (o *Ops) ExpireSessions() { o.mu.Lock(); o.sessions = map[string]bool{}; o.mu.Unlock() }

// Close stops the server (the API becomes unreachable).
func (o *Ops) Close() { o.srv.Close() }

func (o *Ops) get(p *[]byte) []byte { o.mu.Lock(); defer o.mu.Unlock(); return *p }

func alert(w http.ResponseWriter, code int, text string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]any{"alerts": []map[string]string{{"level": "error", "text": text}}})
	_, _ = w.Write(b)
}

func (o *Ops) login(w http.ResponseWriter, r *http.Request) {
	var body struct {
		U string `json:"u"`
		P string `json:"p"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.U == "" {
		alert(w, http.StatusBadRequest, "username and password are required")
		return
	}
	if body.U != o.user || body.P != o.pass {
		alert(w, http.StatusUnauthorized, "Invalid username or password.")
		return
	}
	o.Logins.Add(1)
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	id := hex.EncodeToString(tok[:])
	o.mu.Lock()
	o.sessions[id] = true
	o.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "mojolicious", Value: id, Path: "/", HttpOnly: true})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"alerts":[{"text":"Successfully logged in.","level":"success"}]}`))
}

func (o *Ops) authed(body func() []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("mojolicious")
		o.mu.Lock()
		ok := err == nil && o.sessions[c.Value]
		o.mu.Unlock()
		if !ok {
			alert(w, http.StatusUnauthorized, "Unauthorized, please log in.")
			return
		}
		if r.PathValue("cdn") != o.cdn {
			alert(w, http.StatusNotFound, "cdn not found")
			return
		}
		b := body()
		if b == nil {
			alert(w, http.StatusNotFound, "not found")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}
}
