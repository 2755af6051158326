// Package dir is the snapshot-directory control source: it loads the
// dataset files of a directory (control.Files(); only crconfig.json is
// required), notices changes by polling sizes and modification times,
// confirms them by sha256, validates every changed file whole and publishes
// a new control.Set when something was accepted. Every accepted file is
// persisted to the state directory, which serves as the last known good
// copy at start. The per-file bookkeeping (validate, accept or reject,
// persist, state-directory fallback, status) is control/lkg's, shared with
// the network sources; this package owns reading and watching the
// directory. See docs/snapshot-directory.md.
package dir

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/control/lkg"
)

// Options configure a Source.
type Options struct {
	// StateDir receives a copy of every accepted file (plus FILE.sha256);
	// "" disables persistence and the last-known-good fallback.
	StateDir string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// PollInterval defaults to 250ms.
	PollInterval time.Duration
}

// Source is the snapshot-directory source.
type Source struct {
	dir  string
	opts Options
	log  *slog.Logger
	// files is the bookkeeping of the current (or last) Run; before Run,
	// an empty one without a state directory.
	files atomic.Pointer[lkg.Files]
}

var _ control.Source = (*Source)(nil)

// New returns a source reading dir.
func New(dir string, opts Options) *Source {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 250 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Source{dir: dir, opts: opts, log: opts.Logger.With("source", dir)}
	s.files.Store(lkg.New(lkg.Options{Logger: s.log}))
	return s
}

// Status returns the current operator status (an immutable copy). It may
// be called from any goroutine.
func (s *Source) Status() control.Status { return s.files.Load().Status() }

// stamp is what the poll compares: a changed stamp (or a racy one) makes
// the file be read and hashed.
type stamp struct {
	exists bool
	size   int64
	mtime  time.Time
}

// racyWindow: a file modified this close to (or after) the time it was
// last read may have changed again without changing its stamp, so it is
// re-hashed (Git's "racy clean" rule).
const racyWindow = 2 * time.Second

// watch is what the poll remembers of one file of the directory.
type watch struct {
	name    string
	stamp   stamp
	readAt  time.Time
	removed bool // removal already logged
}

// loop is the state of one Run.
type loop struct {
	s       *Source
	files   *lkg.Files
	watches []*watch
}

// Run loads the directory, publishes the first Set once a valid snapshot
// exists (from the source or the state directory), then polls until ctx is
// done, publishing a new Set after every accepted change. It returns nil
// when ctx is cancelled.
func (s *Source) Run(ctx context.Context, publish func(*control.Set)) error {
	l := &loop{s: s, files: lkg.New(lkg.Options{StateDir: s.opts.StateDir, Logger: s.log})}
	s.files.Store(l.files)
	for _, name := range control.Files() {
		l.watches = append(l.watches, &watch{name: name})
	}
	l.start()
	if !l.files.Publish(publish) {
		s.log.Error("no valid " + control.FileSnapshot + " in the source or the state directory; waiting for one")
	}
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if l.poll() {
			l.files.Publish(publish)
		}
	}
}

// start loads every file; a file the source cannot provide validly is
// taken from the state directory.
func (l *loop) start() {
	_, dirErr := os.ReadDir(l.s.dir)
	if dirErr != nil {
		l.s.log.Error("source directory unreadable; using the state directory", "error", dirErr)
	}
	for _, w := range l.watches {
		fromSource := false
		if dirErr == nil {
			st, data, err := l.read(w.name)
			w.stamp, w.readAt = st, time.Now()
			switch {
			case err == nil:
				fromSource = l.files.Offer(w.name, data)
			case errors.Is(err, fs.ErrNotExist):
				if w.name != control.FileSnapshot {
					continue // optional and absent: nothing to serve
				}
				l.s.log.Error(control.FileSnapshot + " missing from the source directory")
			default:
				l.files.Reject(w.name, "read: "+err.Error())
			}
		}
		if !fromSource {
			l.files.LoadState(w.name)
		}
	}
}

// poll checks every file and reports whether any dataset was accepted.
func (l *loop) poll() bool {
	changed := false
	for _, w := range l.watches {
		st, err := l.stat(w.name)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			if w.stamp.exists {
				l.s.log.Warn("cannot stat file; previous version kept", "file", w.name, "error", err)
			}
			continue
		}
		if !st.exists {
			if w.stamp.exists && !w.removed && l.serving(w.name) {
				l.s.log.Warn("file removed from the source directory; the previous version keeps serving until restart", "file", w.name)
				w.removed = true
			}
			w.stamp = st
			continue
		}
		w.removed = false
		racy := !st.mtime.Before(w.readAt.Add(-racyWindow))
		if st == w.stamp && !racy && !l.files.Rejected(w.name) {
			continue
		}
		st, data, err := l.read(w.name)
		w.stamp, w.readAt = st, time.Now()
		if err != nil {
			continue // vanished between stat and read; next poll decides
		}
		if l.files.Offer(w.name, data) {
			changed = true
		}
	}
	return changed
}

// serving reports whether a version of name is in use.
func (l *loop) serving(name string) bool {
	_, ok := l.files.Accepted(name)
	return ok
}

func (l *loop) stat(name string) (stamp, error) {
	fi, err := os.Stat(filepath.Join(l.s.dir, name))
	if err != nil {
		return stamp{}, err
	}
	if !fi.Mode().IsRegular() {
		return stamp{}, errors.New("not a regular file")
	}
	return stamp{exists: true, size: fi.Size(), mtime: fi.ModTime()}, nil
}

// read stats then reads a file; the stamp is taken before reading so a
// write racing the read shows up as a changed stamp next time.
func (l *loop) read(name string) (stamp, []byte, error) {
	st, err := l.stat(name)
	if err != nil {
		return stamp{}, nil, err
	}
	data, err := os.ReadFile(filepath.Join(l.s.dir, name))
	if err != nil {
		return stamp{}, nil, err
	}
	return st, data, nil
}
