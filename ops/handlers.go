package ops

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/signpost-cdn/signpost/ops/store"
)

// generationJSON is one generation in API responses.
type generationJSON struct {
	CDN        string    `json:"cdn"`
	Generation int64     `json:"generation"`
	CreatedAt  time.Time `json:"createdAt"`
	Author     string    `json:"author"`
	Comment    string    `json:"comment,omitempty"`
	RollbackOf int64     `json:"rollbackOf,omitempty"`
}

func toJSON(g store.Generation) generationJSON {
	return generationJSON{CDN: g.CDN, Generation: g.Number, CreatedAt: g.CreatedAt.UTC(), Author: g.Author, Comment: g.Comment, RollbackOf: g.RollbackOf}
}

// history is GET .../signpost/cdns/{cdn}/generations[?limit=N], newest first.
func (s *Server) history(w http.ResponseWriter, r *http.Request, _ store.User) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeAlert(w, http.StatusBadRequest, "limit: want a number >= 0, got "+strconv.Quote(v))
			return
		}
		limit = n
	}
	gens, err := s.cfg.Store.History(r.Context(), r.PathValue("cdn"), limit)
	if errors.Is(err, store.ErrNotFound) {
		writeAlert(w, http.StatusNotFound, "CDN not found")
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]generationJSON, len(gens))
	for i, g := range gens {
		out[i] = toJSON(g)
	}
	writeJSON(w, http.StatusOK, map[string]any{"response": out})
}

// publishBody is the body of a publish: dataset files by name (JSON values,
// as they would be in a snapshot directory) and an optional comment.
type publishBody struct {
	Comment string                     `json:"comment"`
	Files   map[string]json.RawMessage `json:"files"`
}

// publish is POST .../signpost/cdns/{cdn}/generations.
func (s *Server) publish(w http.ResponseWriter, r *http.Request, u store.User) {
	var body publishBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err := dec.Decode(&body); err != nil {
		writeAlert(w, http.StatusBadRequest, `publish body must be {"comment": "...", "files": {"crconfig.json": {...}, ...}}: `+err.Error())
		return
	}
	raw := make(map[string][]byte, len(body.Files))
	for k, v := range body.Files {
		raw[k] = v
	}
	res, err := publishFiles(r.Context(), s.cfg.Store, r.PathValue("cdn"), raw, u.Name, body.Comment)
	s.answerPublish(w, r, res, err)
}

// rollback is POST .../signpost/cdns/{cdn}/generations/{n}/rollback.
func (s *Server) rollback(w http.ResponseWriter, r *http.Request, u store.User) {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil {
		writeAlert(w, http.StatusBadRequest, "generation: want a number, got "+strconv.Quote(r.PathValue("n")))
		return
	}
	res, err := rollbackTo(r.Context(), s.cfg.Store, r.PathValue("cdn"), n, u.Name, "")
	s.answerPublish(w, r, res, err)
}

// answerPublish waits (briefly) until this server serves the new generation,
// so the publisher reads its own write, and reports it.
func (s *Server) answerPublish(w http.ResponseWriter, r *http.Request, res *PublishResult, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	s.waitGeneration(ctx, res.Generation.CDNID, res.Generation.Number)
	w.Header().Set(GenerationHeader, itoa(res.Generation.Number))
	warnings := res.Warnings
	if warnings == nil {
		warnings = []Problem{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"response": map[string]any{
			"generation": toJSON(res.Generation),
			"previous":   res.Previous,
			"diff":       res.Diff,
			"warnings":   warnings,
		},
		"alerts": []alert{{Text: "generation " + itoa(res.Generation.Number) + " published", Level: "success"}},
	})
}
