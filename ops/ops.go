package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/signpost-cdn/signpost/ops/store"
)

// InputError is a bad argument (a name, a generation number).
type InputError struct{ Msg string }

// Error returns the message.
func (e *InputError) Error() string { return e.Msg }

// Limits on names.
const (
	MaxCDNNameLen  = 1024
	MaxUserNameLen = 256
)

// CheckName validates a CDN or user name: non-empty valid UTF-8 of at most
// max bytes without control characters, and not "." or "..". Anything else (quotes, semicolons,
// SQL, any script) is a valid name; every query is parameterized.
func CheckName(what, name string, max int) error {
	switch {
	case name == "":
		return &InputError{Msg: what + ": must not be empty"}
	case len(name) > max:
		return &InputError{Msg: fmt.Sprintf("%s: %d bytes, longer than the limit of %d", what, len(name), max)}
	case name == "." || name == "..":
		return &InputError{Msg: what + ": " + strconv.Quote(name) + " cannot be addressed in a URL path"}
	case !utf8.ValidString(name):
		return &InputError{Msg: what + ": not valid UTF-8: " + strconv.QuoteToASCII(name)}
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return &InputError{Msg: fmt.Sprintf("%s: control character %U in %s", what, r, strconv.QuoteToASCII(name))}
		}
	}
	return nil
}

// PublishResult is what a publish or rollback stored.
type PublishResult struct {
	Generation store.Generation
	Previous   int64     // the generation replaced, 0 for the first
	Diff       Diff      // versus Previous
	Warnings   []Problem // accepted with these warnings
}

// Write prints the result and the diff.
func (r *PublishResult) Write(w io.Writer) error {
	g := r.Generation
	line := fmt.Sprintf("cdn %q: generation %d published", g.CDN, g.Number)
	if g.RollbackOf > 0 {
		line += fmt.Sprintf(" (rollback to generation %d)", g.RollbackOf)
	}
	if r.Previous > 0 {
		line += fmt.Sprintf("; changes since generation %d:", r.Previous)
	} else {
		line += "; first generation:"
	}
	if _, err := fmt.Fprintln(w, line); err != nil {
		return err
	}
	for _, p := range r.Warnings {
		if _, err := fmt.Fprintln(w, "  "+p.String()); err != nil {
			return err
		}
	}
	return r.Diff.Write(w)
}

// publishFiles validates raw files and stores them as a new generation.
func publishFiles(ctx context.Context, st *store.Store, cdn string, raw map[string][]byte, author, comment string) (*PublishResult, error) {
	if err := CheckName("CDN name", cdn, MaxCDNNameLen); err != nil {
		return nil, err
	}
	prep, err := Prepare(raw)
	if err != nil {
		return nil, err
	}
	out, err := storeAndDiff(ctx, st, store.PublishRequest{CDN: cdn, Files: prep.Files, Author: author, Comment: comment})
	if err != nil {
		return nil, err
	}
	out.Warnings = prep.Warnings
	return out, nil
}

// rollbackTo publishes a new generation whose files are those of generation to.
func rollbackTo(ctx context.Context, st *store.Store, cdn string, to int64, author, comment string) (*PublishResult, error) {
	if to <= 0 {
		return nil, &InputError{Msg: fmt.Sprintf("rollback target: generation must be >= 1, got %d", to)}
	}
	_, files, err := st.Load(ctx, cdn, to)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &InputError{Msg: fmt.Sprintf("rollback target: CDN %q has no generation %d", cdn, to)}
	}
	if err != nil {
		return nil, err
	}
	if comment == "" {
		comment = fmt.Sprintf("rollback to generation %d", to)
	}
	return storeAndDiff(ctx, st, store.PublishRequest{CDN: cdn, Files: files, Author: author, Comment: comment, RollbackOf: to})
}

func storeAndDiff(ctx context.Context, st *store.Store, req store.PublishRequest) (*PublishResult, error) {
	g, prev, err := st.Publish(ctx, req)
	if err != nil {
		return nil, err
	}
	var prevFiles []store.File
	if prev > 0 {
		if _, prevFiles, err = st.LoadByID(ctx, g.CDNID, prev); err != nil {
			return nil, err
		}
	}
	d, err := DiffFiles(prevFiles, req.Files)
	if err != nil {
		return nil, err
	}
	return &PublishResult{Generation: g, Previous: prev, Diff: d}, nil
}

// generationDiff returns the diff of generation g of a CDN versus the one
// before it.
func generationDiff(ctx context.Context, st *store.Store, g store.Generation) (Diff, error) {
	_, files, err := st.LoadByID(ctx, g.CDNID, g.Number)
	if err != nil {
		return Diff{}, err
	}
	var prev []store.File
	if g.Number > 1 {
		if _, prev, err = st.LoadByID(ctx, g.CDNID, g.Number-1); err != nil {
			return Diff{}, err
		}
	}
	return DiffFiles(prev, files)
}
