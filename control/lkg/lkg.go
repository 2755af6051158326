// Package lkg is the per-file bookkeeping every control source shares: it
// validates each offered version of a dataset file whole (control.ParseFile),
// keeps the accepted version in use and the reason for the last rejection,
// persists every accepted version to the state directory (temp file, fsync,
// rename, plus FILE.sha256) and restores those last known good copies when
// the source cannot deliver. Files assembles the accepted versions into a
// control.Set and publishes an immutable control.Status after every change.
//
// A Files value belongs to one goroutine (the source's Run loop); only
// Status may be called from any goroutine.
package lkg

import (
	"bytes"
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

// Options configure Files.
type Options struct {
	// StateDir receives a copy of every accepted file (plus FILE.sha256);
	// "" disables persistence and the last-known-good fallback.
	StateDir string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Files tracks the accepted version of every file of control.Files().
type Files struct {
	opts       Options
	log        *slog.Logger
	files      []*file
	generation uint64
	status     atomic.Pointer[control.Status]
}

type file struct {
	name     string
	lastHash string // hash of the last bytes examined (accepted or rejected)
	rejected bool   // the last bytes examined were rejected
	accepted *control.Dataset
	status   control.FileStatus
}

// New returns an empty Files. It creates the state directory when set
// (logging, not failing, when it cannot).
func New(opts Options) *Files {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	f := &Files{opts: opts, log: opts.Logger}
	for _, name := range control.Files() {
		f.files = append(f.files, &file{name: name, status: control.FileStatus{Name: name}})
	}
	if opts.StateDir != "" {
		if err := os.MkdirAll(opts.StateDir, 0o755); err != nil {
			f.log.Error("state directory unusable; last-known-good copies disabled", "state_dir", opts.StateDir, "error", err)
		}
	}
	f.storeStatus()
	return f
}

func (f *Files) get(name string) *file {
	for _, x := range f.files {
		if x.name == name {
			return x
		}
	}
	return nil
}

// Offer validates data as the new version of the file name (one of
// control.Files()) from the source. It reports whether the data was
// accepted as a new version; an accepted version is persisted to the state
// directory. Bytes identical to the last ones examined are not validated
// again (a rejection is logged once).
func (f *Files) Offer(name string, data []byte) bool { return f.offer(name, data, true) }

// OfferLocal is Offer for a file the operator provides next to the router
// (geo.mmdb): accepted versions are not copied to the state directory.
func (f *Files) OfferLocal(name string, data []byte) bool { return f.offer(name, data, false) }

func (f *Files) offer(name string, data []byte, persist bool) bool {
	x := f.get(name)
	if x == nil {
		f.log.Error("unknown dataset file offered; ignored", "file", name)
		return false
	}
	d, err := control.ParseFile(name, data)
	hash := d.Hash
	if err != nil {
		hash = control.ContentHash(data)
	}
	if hash == x.lastHash {
		return false
	}
	x.lastHash = hash
	if err != nil {
		x.rejected = true
		f.reject(x, hash, err.Error(), err)
		return false
	}
	x.rejected = false
	if x.accepted != nil && x.accepted.Hash == hash {
		x.status.FromState = false // the source now serves what the state copy held
		f.storeStatus()
		return false
	}
	if snap, ok := d.Value.(*control.Snapshot); ok && x.accepted != nil {
		prev := x.accepted.Value.(*control.Snapshot)
		if _, reason := snap.Supersedes(prev); snap.DateAnomaly(prev) {
			f.log.Warn("snapshot accepted although its date did not increase", "file", name, "reason", reason)
		}
	}
	f.accept(x, &d, false, persist)
	f.log.Info("dataset accepted", "file", name, "sha256", hash)
	return true
}

// Reject records that the source could not deliver a usable version of
// name (a failed fetch, a bad response) without changing what is served.
func (f *Files) Reject(name, reason string) {
	if x := f.get(name); x != nil {
		f.reject(x, "", reason, nil)
	}
}

// Remove drops the accepted version of an optional file the source no
// longer has (and its state copy, so a restart does not bring it back).
// It reports whether something was dropped. The snapshot is never removed.
func (f *Files) Remove(name string) bool {
	x := f.get(name)
	if x == nil || name == control.FileSnapshot || x.accepted == nil {
		return false
	}
	x.accepted, x.lastHash, x.rejected = nil, "", false
	x.status.Present, x.status.Hash, x.status.FromState = false, "", false
	if f.opts.StateDir != "" {
		p := filepath.Join(f.opts.StateDir, name)
		for _, q := range []string{p + ".sha256", p} {
			if err := os.Remove(q); err != nil && !errors.Is(err, fs.ErrNotExist) {
				f.log.Error("cannot remove last known good copy", "file", name, "error", err)
			}
		}
	}
	f.log.Info("dataset removed by the source", "file", name)
	f.storeStatus()
	return true
}

func (f *Files) accept(x *file, d *control.Dataset, fromState, persist bool) {
	x.accepted = d
	x.status.Present, x.status.Hash, x.status.Accepted, x.status.FromState = true, d.Hash, time.Now(), fromState
	x.status.AcceptedCount++
	for _, w := range d.Warnings {
		f.log.Warn("dataset warning", "file", x.name, "problem", w.String())
	}
	if persist && !fromState && f.opts.StateDir != "" {
		if err := f.persist(x.name, d); err != nil {
			f.log.Error("cannot persist accepted dataset to the state directory", "file", x.name, "error", err)
		}
	}
	f.storeStatus()
}

func (f *Files) reject(x *file, hash, reason string, err error) {
	x.status.LastError, x.status.LastErrorAt, x.status.RejectedHash = reason, time.Now(), hash
	x.status.RejectedCount++
	attrs := []any{"file", x.name, "reason", reason}
	var ve *control.ValidationError
	if errors.As(err, &ve) {
		attrs = append(attrs, "problems", len(ve.Errors()))
	}
	if x.accepted != nil {
		attrs = append(attrs, "serving", x.accepted.Hash)
	}
	f.log.Error("dataset rejected; previous version kept", attrs...)
	f.storeStatus()
}

func (f *Files) persist(name string, d *control.Dataset) error {
	p := filepath.Join(f.opts.StateDir, name)
	if err := atomicfile.Write(p, d.Data, 0o644); err != nil {
		return err
	}
	return atomicfile.Write(p+".sha256", []byte(d.Hash+"\n"), 0o644)
}

// LoadState takes the last known good copy of name from the state
// directory when no version of it is in use, verifying its hash and
// validating it. It reports whether a copy was taken.
func (f *Files) LoadState(name string) bool {
	x := f.get(name)
	if x == nil || x.accepted != nil || f.opts.StateDir == "" {
		return false
	}
	p := filepath.Join(f.opts.StateDir, name)
	data, err := os.ReadFile(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			f.log.Error("cannot read last known good copy", "file", name, "error", err)
		}
		return false
	}
	want, err := os.ReadFile(p + ".sha256")
	if err != nil || string(bytes.TrimSpace(want)) != control.ContentHash(data) {
		f.log.Error("last known good copy fails its hash check; not used", "file", name, "path", p)
		return false
	}
	d, err := control.ParseFile(name, data)
	if err != nil {
		f.log.Error("last known good copy is invalid; not used", "file", name, "error", err)
		return false
	}
	f.log.Warn("serving the last known good copy from the state directory", "file", name, "sha256", d.Hash)
	f.accept(x, &d, true, false)
	return true
}

// LoadAllState is LoadState for every file except those named in skip.
// It reports whether any copy was taken.
func (f *Files) LoadAllState(skip ...string) bool {
	took := false
	for _, x := range f.files {
		if !contains(skip, x.name) && f.LoadState(x.name) {
			took = true
		}
	}
	return took
}

// Rejected reports whether the last version of name offered was rejected
// (so that a source watching for changes can offer it again after a
// writer finishes it). A failed delivery recorded with Reject does not
// count: no version was offered.
func (f *Files) Rejected(name string) bool {
	x := f.get(name)
	return x != nil && x.rejected
}

// Accepted returns the version of name in use.
func (f *Files) Accepted(name string) (control.Dataset, bool) {
	if x := f.get(name); x != nil && x.accepted != nil {
		return *x.accepted, true
	}
	return control.Dataset{}, false
}

// Snapshot returns the snapshot in use (nil when none).
func (f *Files) Snapshot() *control.Snapshot {
	if d, ok := f.Accepted(control.FileSnapshot); ok {
		return d.Value.(*control.Snapshot)
	}
	return nil
}

// Publish assembles the accepted versions into a Set with the next
// generation and calls publish with it. Without an accepted snapshot it
// publishes nothing and reports false.
func (f *Files) Publish(publish func(*control.Set)) bool {
	if f.Snapshot() == nil {
		f.storeStatus()
		return false
	}
	f.generation++
	datasets := make(map[string]control.Dataset, len(f.files))
	for _, x := range f.files {
		if x.accepted != nil {
			datasets[x.name] = *x.accepted
		}
	}
	set := control.Assemble(datasets, f.generation, time.Now())
	f.storeStatus()
	publish(set)
	f.log.Info("published dataset generation", "generation", set.Generation)
	return true
}

// Generation is the generation of the last published Set (0 = none).
func (f *Files) Generation() uint64 { return f.generation }

// Status returns the current operator status (an immutable copy). It may
// be called from any goroutine.
func (f *Files) Status() control.Status {
	st := *f.status.Load()
	st.Files = append([]control.FileStatus(nil), st.Files...)
	return st
}

func (f *Files) storeStatus() {
	st := &control.Status{Generation: f.generation}
	if f.generation > 0 {
		st.Published = time.Now()
		if prev := f.status.Load(); prev != nil && prev.Generation == f.generation {
			st.Published = prev.Published
		}
	}
	for _, x := range f.files {
		st.Files = append(st.Files, x.status)
	}
	f.status.Store(st)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
