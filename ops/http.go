package ops

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-cdn/signpost/ops/store"
)

// GenerationHeader carries the generation a response was served from: the
// CDN's generation for per-CDN endpoints, and for /steering and
// /federations/all without cdnName the sum of every CDN's generation (which
// grows on any publish).
const GenerationHeader = "X-Signpost-Generation"

// Long-poll query parameters: wait until the generation differs from
// waitForGeneration (normally: until a newer one exists), at most timeout
// (a Go duration such as 30s, or seconds; default 30s, capped by
// Config.MaxWait). A timeout answers 304 Not Modified.
const (
	ParamWaitForGeneration = "waitForGeneration"
	ParamTimeout           = "timeout"
)

// apiVersions are the API versions served; the bodies are the same for all
// (spec B.5).
func apiVersionOK(v string) bool {
	switch v {
	case "3.0", "3.1", "4.0", "4.1", "5.0":
		return true
	}
	return false
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /api/{version}/ping", s.versioned(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"ping": "pong"})
	}))
	m.HandleFunc("POST /api/{version}/user/login", s.versioned(s.login))
	m.HandleFunc("GET /api/{version}/cdns/{cdn}/snapshot", s.dataset(s.perCDN(FileSnapshot)))
	m.HandleFunc("GET /api/{version}/cdns/{cdn}/configs/monitoring", s.dataset(s.perCDN(FileMonitoring)))
	m.HandleFunc("GET /api/{version}/cdns/name/{cdn}/sslkeys", s.dataset(s.perCDN(FileSSLKeys)))
	m.HandleFunc("GET /api/{version}/cdns/name/{cdn}/dnsseckeys", s.dataset(func(st *state, r *http.Request) resolved {
		c := st.byName[r.PathValue("cdn")]
		if c == nil {
			return resolved{missing: "CDN not found"}
		}
		return resolved{e: c.dnssec, gen: c.gen}
	}))
	m.HandleFunc("GET /api/{version}/steering", s.dataset(func(st *state, r *http.Request) resolved {
		if name, ok := cdnParam(r); ok {
			return s.perCDN(FileSteering)(st, withCDN(r, name))
		}
		return resolved{e: st.steer, gen: st.epoch}
	}))
	m.HandleFunc("GET /api/{version}/federations/all", s.dataset(func(st *state, r *http.Request) resolved {
		name, ok := cdnParam(r)
		if !ok {
			return resolved{e: st.feds, gen: st.epoch}
		}
		c := st.byName[name]
		if c == nil {
			return resolved{missing: "CDN not found"}
		}
		return resolved{e: c.fedNamed, gen: c.gen}
	}))
	m.HandleFunc("GET /api/{version}/signpost/cdns/{cdn}/files/{file}", s.dataset(func(st *state, r *http.Request) resolved {
		c := st.byName[r.PathValue("cdn")]
		if c == nil {
			return resolved{missing: "CDN not found"}
		}
		if e := c.files[r.PathValue("file")]; e != nil {
			return resolved{e: e, gen: c.gen}
		}
		return resolved{gen: c.gen, missing: "file not in generation " + itoa(c.gen)}
	}))
	m.HandleFunc("GET /api/{version}/signpost/cdns/{cdn}/generations", s.authed(store.RoleRead, s.history))
	m.HandleFunc("POST /api/{version}/signpost/cdns/{cdn}/generations", s.authed(store.RolePublish, s.publish))
	m.HandleFunc("POST /api/{version}/signpost/cdns/{cdn}/generations/{n}/rollback", s.authed(store.RolePublish, s.rollback))
	s.mux = m
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// cdnParam returns the cdnName query parameter.
func cdnParam(r *http.Request) (string, bool) {
	v := r.URL.Query()["cdnName"]
	if len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// withCDN returns a shallow copy of r whose {cdn} path value is name.
func withCDN(r *http.Request, name string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.SetPathValue("cdn", name)
	return r2
}

// resolved is the answer to a dataset request in one state.
type resolved struct {
	e       *entry
	gen     int64
	missing string // 404 message when e is nil
}

// empty holds the bodies served for a CDN that has no such file.
func emptyFor(file string) *entry {
	switch file {
	case FileSteering, FileSSLKeys:
		return mustResponse(nil)
	}
	return nil
}

// perCDN resolves a file of the CDN named in the path.
func (s *Server) perCDN(file string) func(*state, *http.Request) resolved {
	empty := emptyFor(file)
	return func(st *state, r *http.Request) resolved {
		c := st.byName[r.PathValue("cdn")]
		if c == nil {
			return resolved{missing: "CDN not found"}
		}
		if e := c.files[file]; e != nil {
			return resolved{e: e, gen: c.gen}
		}
		if empty != nil {
			return resolved{e: empty, gen: c.gen}
		}
		return resolved{gen: c.gen, missing: "no " + file + " in generation " + itoa(c.gen) + " of this CDN"}
	}
}

// dataset serves a read endpoint: authentication, ETag, gzip and long poll.
func (s *Server) dataset(resolve func(*state, *http.Request) resolved) http.HandlerFunc {
	return s.authed(store.RoleRead, func(w http.ResponseWriter, r *http.Request, _ store.User) {
		wait, want, timeout, msg := parseWait(r, s.cfg.MaxWait)
		if msg != "" {
			writeAlert(w, http.StatusBadRequest, msg)
			return
		}
		var timer *time.Timer
		for {
			st := s.st.Load()
			if !st.loaded {
				writeAlert(w, http.StatusServiceUnavailable, "ops server is loading its database")
				return
			}
			res := resolve(st, r)
			if !wait || res.gen != want {
				respond(w, r, res)
				return
			}
			if timer == nil {
				timer = time.NewTimer(timeout)
				defer timer.Stop()
			}
			select {
			case <-st.changed:
			case <-timer.C:
				if res.e == nil {
					respond(w, r, res)
					return
				}
				h := w.Header()
				h.Set(GenerationHeader, itoa(res.gen))
				h.Set("Etag", res.e.etag)
				w.WriteHeader(http.StatusNotModified)
				return
			case <-r.Context().Done():
				return
			}
		}
	})
}

// parseWait reads the long-poll parameters; msg is non-empty when invalid.
func parseWait(r *http.Request, maxWait time.Duration) (wait bool, want int64, timeout time.Duration, msg string) {
	q := r.URL.Query()
	g := q.Get(ParamWaitForGeneration)
	if g == "" {
		return false, 0, 0, ""
	}
	want, err := strconv.ParseInt(g, 10, 64)
	if err != nil || want < 0 {
		return false, 0, 0, ParamWaitForGeneration + ": want a generation number >= 0, got " + strconv.Quote(g)
	}
	timeout = 30 * time.Second
	if t := q.Get(ParamTimeout); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil {
			secs, err2 := strconv.ParseFloat(t, 64)
			if err2 != nil {
				return false, 0, 0, ParamTimeout + ": want a duration such as 30s, got " + strconv.Quote(t)
			}
			d = time.Duration(secs * float64(time.Second))
		}
		if d <= 0 {
			return false, 0, 0, ParamTimeout + ": must be positive, got " + strconv.Quote(t)
		}
		timeout = d
	}
	return true, want, min(timeout, maxWait), ""
}

// respond writes a resolved dataset: generation header, ETag and
// If-None-Match, the pre-compressed body when the client accepts gzip.
func respond(w http.ResponseWriter, r *http.Request, res resolved) {
	h := w.Header()
	h.Set(GenerationHeader, itoa(res.gen))
	if res.e == nil {
		writeAlert(w, http.StatusNotFound, res.missing)
		return
	}
	e := res.e
	gz := acceptsGzip(r.Header.Get("Accept-Encoding"))
	tag, body := e.etag, e.body
	if gz {
		tag, body = e.etagGz, e.gz
	}
	h.Set("Content-Type", "application/json")
	h.Set("Vary", "Accept-Encoding")
	h.Set("Cache-Control", "no-cache")
	h.Set("Etag", tag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, e) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// etagMatch reports whether an If-None-Match list names either form of e.
func etagMatch(list string, e *entry) bool {
	for t := range strings.SplitSeq(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == e.etag || t == e.etagGz {
			return true
		}
	}
	return false
}

// acceptsGzip parses Accept-Encoding for gzip (or *) with a non-zero q.
func acceptsGzip(h string) bool {
	if h == "" {
		return false
	}
	for part := range strings.SplitSeq(h, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

// writeJSON writes v as the body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"alerts":[{"level":"error","text":"encoding the response failed"}]}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeAlert writes {"alerts":[{"level":"error","text":msg}]}.
func writeAlert(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string][]alert{"alerts": {{Text: msg, Level: "error"}}})
}

// writeProblems answers a refused publish: 400 with one alert per problem
// and the structured list.
func writeProblems(w http.ResponseWriter, ve *ValidationError) {
	alerts := make([]alert, len(ve.Problems))
	for i, p := range ve.Problems {
		lvl := "error"
		if p.Warning {
			lvl = "warning"
		}
		alerts[i] = alert{Text: p.String(), Level: lvl}
	}
	writeJSON(w, http.StatusBadRequest, map[string]any{"alerts": alerts, "problems": ve.Problems})
}

// writeError maps an internal error to a response.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *ValidationError
	var ie *InputError
	switch {
	case errors.As(err, &ve):
		writeProblems(w, ve)
	case errors.As(err, &ie):
		writeAlert(w, http.StatusBadRequest, ie.Msg)
	case errors.Is(err, store.ErrNotFound):
		writeAlert(w, http.StatusNotFound, "not found")
	default:
		s.log.Error("ops: request failed", "path", r.URL.Path, "err", err)
		writeAlert(w, http.StatusInternalServerError, "internal error")
	}
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
