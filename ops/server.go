// Package ops is the ops API server: it stores every dataset a router or
// monitor needs as versioned generations per CDN in PostgreSQL (package
// ops/store) and serves them in the Traffic Ops 5.0 shapes with ETags,
// pre-compressed gzip bodies and long polls woken by LISTEN/NOTIFY. It also
// holds the command-line functions (serve, publish, history, rollback, user
// add). See docs/ops-api.md.
package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/signpost-cdn/signpost/ops/store"
)

// Config configures a Server.
type Config struct {
	Store  *store.Store
	Logger *slog.Logger // nil: slog.Default()
	// SessionLifetime is how long a login session lasts (default 6h, as
	// Traffic Ops).
	SessionLifetime time.Duration
	// MaxWait caps the long-poll timeout a client may ask for (default 5m).
	MaxWait time.Duration
	// MaxBodyBytes caps a publish request body (default 512 MiB).
	MaxBodyBytes int64
	// SecureCookies marks session cookies Secure (set when serving TLS).
	SecureCookies bool
}

// Server serves the ops API from an in-memory copy of every CDN's current
// generation, which one LISTEN connection keeps up to date (Run). Requests
// never query the database except to log in, check a session not yet
// cached, publish, or read history.
type Server struct {
	cfg      Config
	log      *slog.Logger
	st       atomic.Pointer[state]
	mux      *http.ServeMux
	dummy    []byte // bcrypt hash compared when a user does not exist
	sessions sessionCache
	ready    chan struct{}
	once     sync.Once
}

// NewServer returns a server; call Run to load the data and follow
// publishes. Until the first load completes every dataset request gets 503.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("ops: Config.Store is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = 6 * time.Hour
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 5 * time.Minute
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 512 << 20
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("signpost-no-such-user"), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("ops: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, dummy: dummy, ready: make(chan struct{}), sessions: sessionCache{m: map[[32]byte]cachedSession{}}}
	s.st.Store(&state{changed: make(chan struct{})})
	s.routes()
	return s, nil
}

// entry is one response body ready to send.
type entry struct {
	body, gz []byte
	etag     string // quoted, strong, of the identity body
	etagGz   string // quoted, of the gzip body
	status   int    // 200 unless set
}

func newEntry(body, gz []byte, sum [32]byte) *entry {
	tag := fmt.Sprintf("%x", sum[:16])
	return &entry{body: body, gz: gz, etag: `"` + tag + `"`, etagGz: `"` + tag + `-gz"`, status: http.StatusOK}
}

// cdnState is the current generation of one CDN.
type cdnState struct {
	id       int64
	name     string
	gen      int64
	created  time.Time
	files    map[string]*entry // by file name, as stored
	dnssec   *entry            // the dnsseckeys response (stored or "not found")
	fedNamed *entry            // federations with the {"cdnName": ...} element
	steering []json.RawMessage // entries, for the merged /steering
	feds     []json.RawMessage // entries, for the merged /federations/all
}

// state is everything the handlers read; replaced whole on every change.
type state struct {
	loaded  bool
	byName  map[string]*cdnState
	byID    map[int64]*cdnState
	epoch   int64  // sum of every CDN's generation: grows on any publish
	steer   *entry // /steering over every CDN
	feds    *entry // /federations/all over every CDN
	changed chan struct{}
}

// Run loads every CDN and follows publishes until ctx ends, reconnecting
// (and reloading everything) when the listening connection fails.
func (s *Server) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		err := s.cfg.Store.Listen(ctx, func() error { return s.reloadAll(ctx) }, func(n store.Notification) error {
			return s.reloadCDN(ctx, n)
		})
		if ctx.Err() != nil {
			return nil
		}
		s.log.Warn("ops: listener failed; reconnecting", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// Ready returns a channel closed once the first load is complete.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// waitGeneration waits until the in-memory state holds generation gen (or a
// newer one) of the CDN, or ctx ends.
func (s *Server) waitGeneration(ctx context.Context, id, gen int64) {
	for {
		st := s.st.Load()
		if c := st.byID[id]; c != nil && c.gen >= gen {
			return
		}
		select {
		case <-st.changed:
		case <-ctx.Done():
			return
		}
	}
}

func (s *Server) reloadAll(ctx context.Context) error {
	cdns, err := s.cfg.Store.CDNs(ctx)
	if err != nil {
		return err
	}
	next := &state{loaded: true, byName: map[string]*cdnState{}, byID: map[int64]*cdnState{}, changed: make(chan struct{})}
	for _, c := range cdns {
		if c.CurrentGeneration == 0 {
			continue
		}
		cs, err := s.loadCDN(ctx, c.ID)
		if err != nil {
			return err
		}
		next.byName[cs.name] = cs
		next.byID[cs.id] = cs
	}
	s.install(next)
	s.log.Info("ops: loaded", "cdns", len(next.byName), "epoch", next.epoch)
	return nil
}

func (s *Server) reloadCDN(ctx context.Context, n store.Notification) error {
	cur := s.st.Load()
	if c := cur.byID[n.CDNID]; c != nil && c.gen >= n.Generation {
		return nil // a reload already picked this one up
	}
	cs, err := s.loadCDN(ctx, n.CDNID)
	if err != nil {
		return err
	}
	next := &state{loaded: true, byName: make(map[string]*cdnState, len(cur.byName)+1),
		byID: make(map[int64]*cdnState, len(cur.byID)+1), changed: make(chan struct{})}
	for k, v := range cur.byName {
		next.byName[k] = v
	}
	for k, v := range cur.byID {
		next.byID[k] = v
	}
	next.byName[cs.name] = cs
	next.byID[cs.id] = cs
	s.install(next)
	s.log.Info("ops: generation loaded", "cdn", cs.name, "generation", cs.gen)
	return nil
}

// install computes the merged entries, swaps the state in and wakes every
// waiter of the previous one. Only the Run goroutine calls it.
func (s *Server) install(next *state) {
	names := make([]string, 0, len(next.byName))
	for n, c := range next.byName {
		names = append(names, n)
		next.epoch += c.gen
	}
	sort.Strings(names)
	var steer, feds []json.RawMessage
	for _, n := range names {
		steer = append(steer, next.byName[n].steering...)
		feds = append(feds, next.byName[n].feds...)
	}
	sortSteering(steer)
	next.steer = mustResponse(steer)
	next.feds = mustResponse(feds)
	prev := s.st.Swap(next)
	close(prev.changed)
	s.once.Do(func() { close(s.ready) })
}

func (s *Server) loadCDN(ctx context.Context, id int64) (*cdnState, error) {
	g, files, err := s.cfg.Store.LoadByID(ctx, id, 0)
	if err != nil {
		return nil, err
	}
	cs := &cdnState{id: g.CDNID, name: g.CDN, gen: g.Number, created: g.CreatedAt, files: make(map[string]*entry, len(files))}
	for _, f := range files {
		cs.files[f.Name] = newEntry(f.Body, f.Gzip, f.SHA256)
	}
	if e := cs.files[FileSteering]; e != nil {
		if cs.steering, err = responseItems(e.body); err != nil {
			return nil, fmt.Errorf("ops: CDN %q generation %d: %s: %w", g.CDN, g.Number, FileSteering, err)
		}
	}
	if e := cs.files[FileFederations]; e != nil {
		if cs.feds, err = responseItems(e.body); err != nil {
			return nil, fmt.Errorf("ops: CDN %q generation %d: %s: %w", g.CDN, g.Number, FileFederations, err)
		}
	}
	marker, err := json.Marshal(map[string]string{"cdnName": g.CDN})
	if err != nil {
		return nil, err
	}
	cs.fedNamed = mustResponse(append([]json.RawMessage{marker}, cs.feds...))
	if e := cs.files[FileDNSSECKeys]; e != nil {
		cs.dnssec = e
	} else {
		cs.dnssec = mustJSON(map[string]any{"response": map[string]any{},
			"alerts": []alert{{Level: "success", Text: " - Dnssec keys for " + g.CDN + " could not be found. "}}})
	}
	return cs, nil
}

// responseItems decodes the array of a stored {"response": [...]} body.
func responseItems(body []byte) ([]json.RawMessage, error) {
	var doc struct {
		Response []json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	return doc.Response, nil
}

// sortSteering orders steering entries by deliveryService (stable), as
// Traffic Ops does.
func sortSteering(items []json.RawMessage) {
	keys := make([]string, len(items))
	for i, it := range items {
		var k struct {
			DS string `json:"deliveryService"`
		}
		_ = json.Unmarshal(it, &k) // validated at publish; a missing key sorts first
		keys[i] = k.DS
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	sorted := make([]json.RawMessage, len(items))
	for i, j := range idx {
		sorted[i] = items[j]
	}
	copy(items, sorted)
}

// mustResponse builds {"response": items} ([] when empty) as an entry.
func mustResponse(items []json.RawMessage) *entry {
	if items == nil {
		items = []json.RawMessage{}
	}
	return mustJSON(map[string]any{"response": items})
}

// mustJSON encodes v (built from already valid JSON) into an entry.
func mustJSON(v any) *entry {
	body, err := json.Marshal(v)
	if err != nil {
		panic("ops: encoding a response built from valid JSON: " + err.Error())
	}
	gz, err := gzipBytes(body)
	if err != nil {
		panic("ops: gzip into memory: " + err.Error())
	}
	return newEntry(body, gz, sha256Sum(body))
}

// alert is one Traffic Ops alert.
type alert struct {
	Text  string `json:"text"`
	Level string `json:"level"`
}

// sessionCache remembers validated sessions briefly so a polling fleet does
// not query the database on every request.
type sessionCache struct {
	mu sync.Mutex
	m  map[[32]byte]cachedSession
}

type cachedSession struct {
	user    store.User
	expires time.Time // the session's own expiry
	checked time.Time // when the database last confirmed it
}

// sessionRecheck is how long a cached session is trusted before the
// database is asked again (bounds how late a revocation takes effect).
const sessionRecheck = 30 * time.Second

func (c *sessionCache) get(sum [32]byte, now time.Time) (store.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[sum]
	if !ok || now.After(e.expires) || now.Sub(e.checked) > sessionRecheck {
		return store.User{}, false
	}
	return e.user, true
}

func (c *sessionCache) put(sum [32]byte, u store.User, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= 100_000 {
		for k, e := range c.m {
			if now.Sub(e.checked) > sessionRecheck || now.After(e.expires) {
				delete(c.m, k)
			}
		}
	}
	c.m[sum] = cachedSession{user: u, expires: expires, checked: now}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
