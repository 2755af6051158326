package ops

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/signpost-cdn/signpost/ops/store"
)

// Session cookie names: mojolicious (the name Traffic Monitor and Traffic
// Router replay, spec B.4) and access_token. Both carry the same opaque
// session token, which also works as "Authorization: Bearer <token>".
const (
	CookieMojolicious = "mojolicious"
	CookieAccessToken = "access_token"
)

// unauthorized is Traffic Ops' 401 text.
const unauthorized = "Unauthorized, please log in."

// versioned rejects API versions other than those served.
func (s *Server) versioned(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !apiVersionOK(r.PathValue("version")) {
			writeAlert(w, http.StatusNotFound, "API version not supported; use 5.0")
			return
		}
		h(w, r)
	}
}

// authed requires a session of a user holding role (publish implies read).
func (s *Server) authed(role string, h func(http.ResponseWriter, *http.Request, store.User)) http.HandlerFunc {
	return s.versioned(func(w http.ResponseWriter, r *http.Request) {
		u, status := s.authenticate(r)
		if status != http.StatusOK {
			msg := unauthorized
			if status != http.StatusUnauthorized {
				msg = "checking the session failed"
			}
			writeAlert(w, status, msg)
			return
		}
		if role == store.RolePublish && u.Role != store.RolePublish {
			writeAlert(w, http.StatusForbidden, "Forbidden: user "+u.Name+" has role "+u.Role+"; this needs role publish")
			return
		}
		h(w, r, u)
	})
}

// sessionToken returns the token of the request: the bearer token, else the
// access_token cookie, else the mojolicious cookie.
func sessionToken(r *http.Request) string {
	if a := r.Header.Get("Authorization"); a != "" {
		if scheme, tok, ok := strings.Cut(a, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
	}
	for _, name := range []string{CookieAccessToken, CookieMojolicious} {
		if c, err := r.Cookie(name); err == nil && c.Value != "" {
			return c.Value
		}
	}
	return ""
}

// authenticate returns the user of the request's session and 200, or 401
// (no, unknown or expired session) or 503 (database failure).
func (s *Server) authenticate(r *http.Request) (store.User, int) {
	tok := sessionToken(r)
	if tok == "" || len(tok) > 512 {
		return store.User{}, http.StatusUnauthorized
	}
	sum := sha256.Sum256([]byte(tok))
	now := time.Now()
	if u, ok := s.sessions.get(sum, now); ok {
		return u, http.StatusOK
	}
	u, exp, err := s.cfg.Store.Session(r.Context(), sum)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, http.StatusUnauthorized
	}
	if err != nil {
		s.log.Error("ops: session lookup", "err", err)
		return store.User{}, http.StatusServiceUnavailable
	}
	s.sessions.put(sum, u, exp, now)
	return u, http.StatusOK
}

// login is POST /api/5.0/user/login with {"u": user, "p": password}.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var body struct {
		U *string `json:"u"`
		P *string `json:"p"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	if err := dec.Decode(&body); err != nil {
		writeAlert(w, http.StatusBadRequest, "login body must be {\"u\": user, \"p\": password}: "+err.Error())
		return
	}
	if body.U == nil || body.P == nil || *body.U == "" {
		writeAlert(w, http.StatusBadRequest, "login body must be {\"u\": user, \"p\": password}: u and p are required")
		return
	}
	u, err := s.cfg.Store.UserByName(r.Context(), *body.U)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Spend the same time as for a real user.
		_ = bcrypt.CompareHashAndPassword(s.dummy, []byte(*body.P))
		writeAlert(w, http.StatusUnauthorized, "Invalid username or password.")
		return
	case err != nil:
		s.writeError(w, r, err)
		return
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(*body.P)) != nil {
		writeAlert(w, http.StatusUnauthorized, "Invalid username or password.")
		return
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		s.writeError(w, r, err)
		return
	}
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	exp := time.Now().Add(s.cfg.SessionLifetime)
	if err := s.cfg.Store.CreateSession(r.Context(), sha256.Sum256([]byte(tok)), u.ID, exp); err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, name := range []string{CookieMojolicious, CookieAccessToken} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: tok, Path: "/", Expires: exp,
			MaxAge: int(s.cfg.SessionLifetime / time.Second), HttpOnly: true, Secure: s.cfg.SecureCookies,
			SameSite: http.SameSiteStrictMode})
	}
	writeJSON(w, http.StatusOK, map[string][]alert{"alerts": {{Text: "Successfully logged in.", Level: "success"}}})
}
