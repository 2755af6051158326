// Package dir is the snapshot-directory control source: it loads the
// dataset files of a directory (control.Files(); only crconfig.json is
// required), notices changes by polling sizes and modification times,
// confirms them by sha256, validates every changed file whole and publishes
// a new control.Set when something was accepted. Every accepted file is
// persisted to the state directory, which serves as the last known good
// copy at start. See docs/snapshot-directory.md.
package dir

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/internal/atomicfile"
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
	dir    string
	opts   Options
	log    *slog.Logger
	status atomic.Pointer[control.Status]
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
	st := control.Status{}
	for _, f := range control.Files() {
		st.Files = append(st.Files, control.FileStatus{Name: f})
	}
	s.status.Store(&st)
	return s
}

// Status returns the current operator status (an immutable copy).
func (s *Source) Status() control.Status {
	st := *s.status.Load()
	st.Files = append([]control.FileStatus(nil), st.Files...)
	return st
}

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

type fileState struct {
	name     string
	stamp    stamp
	readAt   time.Time
	lastHash string // hash of the last bytes examined (accepted or rejected)
	rejected bool   // the last bytes examined were rejected
	removed  bool   // removal already logged
	accepted *control.Dataset
	status   control.FileStatus
}

// loop is the state of one Run.
type loop struct {
	s          *Source
	files      []*fileState
	generation uint64
}

// Run loads the directory, publishes the first Set once a valid snapshot
// exists (from the source or the state directory), then polls until ctx is
// done, publishing a new Set after every accepted change. It returns nil
// when ctx is cancelled.
func (s *Source) Run(ctx context.Context, publish func(*control.Set)) error {
	l := &loop{s: s}
	for _, name := range control.Files() {
		l.files = append(l.files, &fileState{name: name, status: control.FileStatus{Name: name}})
	}
	if s.opts.StateDir != "" {
		if err := os.MkdirAll(s.opts.StateDir, 0o755); err != nil {
			s.log.Error("state directory unusable; last-known-good copies disabled", "state_dir", s.opts.StateDir, "error", err)
		}
	}
	changed := l.start()
	if changed {
		l.publish(publish)
	} else {
		s.log.Error("no valid " + control.FileSnapshot + " in the source or the state directory; waiting for one")
		s.storeStatus(l)
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
			l.publish(publish)
		}
	}
}

// start loads every file; a file the source cannot provide validly is
// taken from the state directory.
func (l *loop) start() bool {
	_, dirErr := os.ReadDir(l.s.dir)
	if dirErr != nil {
		l.s.log.Error("source directory unreadable; using the state directory", "error", dirErr)
	}
	for _, f := range l.files {
		fromSource := false
		if dirErr == nil {
			st, data, err := l.read(f.name)
			f.stamp, f.readAt = st, time.Now()
			switch {
			case err == nil:
				fromSource = l.examine(f, data, false)
			case errors.Is(err, fs.ErrNotExist):
				if f.name != control.FileSnapshot {
					continue // optional and absent: nothing to serve
				}
				l.s.log.Error(control.FileSnapshot + " missing from the source directory")
			default:
				l.reject(f, "", "read: "+err.Error(), nil)
			}
		}
		if !fromSource {
			l.loadState(f)
		}
	}
	return l.snapshot() != nil
}

func (l *loop) snapshot() *control.Dataset {
	for _, f := range l.files {
		if f.name == control.FileSnapshot {
			return f.accepted
		}
	}
	return nil
}

// poll checks every file and reports whether any dataset was accepted.
func (l *loop) poll() bool {
	changed := false
	for _, f := range l.files {
		st, err := l.stat(f.name)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			if f.stamp.exists {
				l.s.log.Warn("cannot stat file; previous version kept", "file", f.name, "error", err)
			}
			continue
		}
		if !st.exists {
			if f.stamp.exists && f.accepted != nil && !f.removed {
				l.s.log.Warn("file removed from the source directory; the previous version keeps serving until restart", "file", f.name)
				f.removed = true
			}
			f.stamp = st
			continue
		}
		f.removed = false
		racy := !st.mtime.Before(f.readAt.Add(-racyWindow))
		if st == f.stamp && !racy && !f.rejected {
			continue
		}
		st, data, err := l.read(f.name)
		f.stamp, f.readAt = st, time.Now()
		if err != nil {
			continue // vanished between stat and read; next poll decides
		}
		if l.examine(f, data, true) {
			changed = true
		}
	}
	return changed
}

// examine validates bytes read from the source; it reports whether they
// were accepted as a new version.
func (l *loop) examine(f *fileState, data []byte, running bool) bool {
	d, err := control.ParseFile(f.name, data)
	hash := d.Hash
	if err != nil {
		hash = hashOf(data)
	}
	if hash == f.lastHash {
		return false // same bytes as last time: accepted already, or rejected already (logged once)
	}
	f.lastHash = hash
	if err != nil {
		f.rejected = true
		l.reject(f, hash, err.Error(), err)
		return false
	}
	f.rejected = false
	if f.accepted != nil && f.accepted.Hash == hash {
		f.status.FromState = false // the source now serves what the state copy held
		return false
	}
	if snap, ok := d.Value.(*control.Snapshot); ok && f.accepted != nil {
		prev := f.accepted.Value.(*control.Snapshot)
		if _, reason := snap.Supersedes(prev); snap.DateAnomaly(prev) {
			l.s.log.Warn("snapshot accepted although its date did not increase", "file", f.name, "reason", reason)
		}
	}
	l.accept(f, &d, false)
	if running {
		l.s.log.Info("dataset reloaded", "file", f.name, "sha256", hash)
	}
	return true
}

func (l *loop) accept(f *fileState, d *control.Dataset, fromState bool) {
	f.accepted = d
	now := time.Now()
	f.status.Present, f.status.Hash, f.status.Accepted, f.status.FromState = true, d.Hash, now, fromState
	f.status.AcceptedCount++
	for _, w := range d.Warnings {
		l.s.log.Warn("dataset warning", "file", f.name, "problem", w.String())
	}
	if !fromState && l.s.opts.StateDir != "" {
		if err := l.persist(f.name, d); err != nil {
			l.s.log.Error("cannot persist accepted dataset to the state directory", "file", f.name, "error", err)
		}
	}
}

func (l *loop) reject(f *fileState, hash, reason string, err error) {
	f.status.LastError, f.status.LastErrorAt, f.status.RejectedHash = reason, time.Now(), hash
	f.status.RejectedCount++
	attrs := []any{"file", f.name, "reason", reason}
	var ve *control.ValidationError
	if errors.As(err, &ve) {
		attrs = append(attrs, "problems", len(ve.Errors()))
	}
	if f.accepted != nil {
		attrs = append(attrs, "serving", f.accepted.Hash)
	}
	l.s.log.Error("dataset rejected; previous version kept", attrs...)
	l.s.storeStatus(l)
}

// persist writes the accepted bytes and their hash to the state directory.
func (l *loop) persist(name string, d *control.Dataset) error {
	p := filepath.Join(l.s.opts.StateDir, name)
	if err := atomicfile.Write(p, d.Data, 0o644); err != nil {
		return err
	}
	return atomicfile.Write(p+".sha256", []byte(d.Hash+"\n"), 0o644)
}

// loadState takes the last known good copy of a file from the state
// directory, verifying its hash and validating it.
func (l *loop) loadState(f *fileState) {
	if l.s.opts.StateDir == "" {
		return
	}
	p := filepath.Join(l.s.opts.StateDir, f.name)
	data, err := os.ReadFile(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			l.s.log.Error("cannot read last known good copy", "file", f.name, "error", err)
		}
		return
	}
	want, err := os.ReadFile(p + ".sha256")
	if err != nil || string(bytes.TrimSpace(want)) != hashOf(data) {
		l.s.log.Error("last known good copy fails its hash check; not used", "file", f.name, "path", p)
		return
	}
	d, err := control.ParseFile(f.name, data)
	if err != nil {
		l.s.log.Error("last known good copy is invalid; not used", "file", f.name, "error", err)
		return
	}
	l.s.log.Warn("serving the last known good copy from the state directory", "file", f.name, "sha256", d.Hash)
	l.accept(f, &d, true)
}

func (l *loop) publish(publish func(*control.Set)) {
	if l.snapshot() == nil {
		l.s.storeStatus(l)
		return
	}
	l.generation++
	datasets := make(map[string]control.Dataset, len(l.files))
	for _, f := range l.files {
		if f.accepted != nil {
			datasets[f.name] = *f.accepted
		}
	}
	set := control.Assemble(datasets, l.generation, time.Now())
	l.s.storeStatus(l)
	publish(set)
	l.s.log.Info("published dataset generation", "generation", set.Generation)
}

func (s *Source) storeStatus(l *loop) {
	st := &control.Status{Generation: l.generation}
	if l.generation > 0 {
		st.Published = time.Now()
		if prev := s.status.Load(); prev.Generation == l.generation {
			st.Published = prev.Published
		}
	}
	for _, f := range l.files {
		st.Files = append(st.Files, f.status)
	}
	s.status.Store(st)
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

func hashOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
