package lkg

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/signpost-cdn/signpost/control"
)

// LocalFiles are the files no network source serves: the MaxMind
// databases (tens of megabytes, released on MaxMind's schedule). The
// operator places them in a local directory (the state directory by
// default) and the network sources read them from there.
func LocalFiles() []string { return []string{control.FileGeo, control.FileAnonymousIP} }

// Local notices changes of operator-provided files in a directory by
// their size and modification time. It belongs to one goroutine.
type Local struct {
	dir    string
	names  []string
	stamps map[string]localStamp
}

type localStamp struct {
	size  int64
	mtime time.Time
}

// NewLocal watches names in dir ("" watches nothing).
func NewLocal(dir string, names ...string) *Local {
	return &Local{dir: dir, names: names, stamps: make(map[string]localStamp, len(names))}
}

// Offer reads every watched file whose size or modification time changed
// since the last call and offers it to f with OfferLocal. It reports
// whether f accepted a new version of any. A file that disappears keeps
// its accepted version (the router keeps serving with it until restart).
func (l *Local) Offer(f *Files) bool {
	if l.dir == "" {
		return false
	}
	changed := false
	for _, name := range l.names {
		p := filepath.Join(l.dir, name)
		fi, err := os.Stat(p)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				f.Reject(name, "stat: "+err.Error())
			}
			delete(l.stamps, name)
			continue
		}
		st := localStamp{size: fi.Size(), mtime: fi.ModTime()}
		if old, ok := l.stamps[name]; ok && old == st && time.Since(st.mtime) > racyWindow {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			f.Reject(name, "read: "+err.Error())
			continue
		}
		l.stamps[name] = st
		if f.OfferLocal(name, data) {
			changed = true
		}
	}
	return changed
}

// racyWindow: a file modified this recently may change again without
// changing its stamp, so it is read again (Git's "racy clean" rule).
const racyWindow = 2 * time.Second
