package control

import (
	"context"
	"time"

	"github.com/signpost-cdn/signpost/czf"
	"github.com/signpost-cdn/signpost/geo"
)

// Set is one immutable bundle of the accepted generation of every dataset
// the router needs. A source publishes a new Set (with a higher Generation)
// whenever any dataset changed; datasets that did not change are shared
// with the previous Set. Only Snapshot is always non-nil; the other
// datasets are nil when the source has none.
type Set struct {
	Snapshot          *Snapshot
	Health            *CrStates
	CoverageZones     *czf.Table
	DeepCoverageZones *czf.Table
	Geo               *geo.City
	AnonymousIP       *geo.Anonymous
	AnonymousPolicy   *AnonymousPolicy
	RegionalGeoblock  *RegionalGeoblock
	Steering          *Steering
	Federations       *Federations
	DNSSECKeys        []byte // raw dnsseckeys.json (valid JSON) until its model lands
	TLSKeys           *TLSKeys

	// Generation increases by one with every published Set.
	Generation uint64
	// Hashes maps each present file name to the hex sha256 of its bytes.
	Hashes map[string]string
	// Loaded is when this Set was assembled.
	Loaded time.Time
}

// Source delivers Sets. Run loads the datasets, calls publish with the
// first complete Set and then with a new Set after every accepted change,
// until ctx is done. publish is called from one goroutine at a time and
// must not retain or modify anything but the *Set it is given.
type Source interface {
	Run(ctx context.Context, publish func(*Set)) error
}

// Status is an operator view of a source: the published generation and,
// per file, what was accepted and what was last rejected. Sources publish
// a fresh immutable Status value after every change (readers never see a
// partially updated one).
type Status struct {
	// Generation is the generation of the last published Set (0 = none yet).
	Generation uint64
	// Published is when that Set was published.
	Published time.Time
	// Files holds one entry per known file, in the order of Files().
	Files []FileStatus
}

// FileStatus is the state of one dataset file.
type FileStatus struct {
	Name string
	// Present is true when an accepted version is in use.
	Present bool
	// Hash is the hex sha256 of the accepted version in use.
	Hash string
	// Accepted is when that version was accepted.
	Accepted time.Time
	// FromState is true when the version in use came from the state
	// directory (last known good) instead of the source.
	FromState bool
	// LastError is why the last rejected version was rejected ("" if none),
	// LastErrorAt when, RejectedHash its sha256.
	LastError    string
	LastErrorAt  time.Time
	RejectedHash string
	// AcceptedCount and RejectedCount count versions since start.
	AcceptedCount uint64
	RejectedCount uint64
}

// File returns the status of one file.
func (s Status) File(name string) (FileStatus, bool) {
	for _, f := range s.Files {
		if f.Name == name {
			return f, true
		}
	}
	return FileStatus{}, false
}
