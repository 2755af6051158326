package geo

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"
)

// AnonymousFlags is the answer of an Anonymous IP lookup: the record's
// is_* flags (absent flags are false). The blocking policy (spec §4.10)
// that combines them lives with the router.
type AnonymousFlags struct {
	IsAnonymous        bool // is_anonymous
	IsAnonymousVPN     bool // is_anonymous_vpn
	IsHostingProvider  bool // is_hosting_provider
	IsPublicProxy      bool // is_public_proxy
	IsTorExitNode      bool // is_tor_exit_node
	IsResidentialProxy bool // is_residential_proxy
}

// Anonymous answers lookups in a GeoIP2 Anonymous IP database. It is
// immutable after LoadAnonymous and safe for concurrent use.
type Anonymous struct {
	db      *maxminddb.Reader
	v4Only  bool
	index   map[uint32]uint32 // data-section offset -> entries index
	entries []AnonymousFlags
	meta    Metadata
}

type anonymousRecord struct {
	IsAnonymous        bool `maxminddb:"is_anonymous"`
	IsAnonymousVPN     bool `maxminddb:"is_anonymous_vpn"`
	IsHostingProvider  bool `maxminddb:"is_hosting_provider"`
	IsPublicProxy      bool `maxminddb:"is_public_proxy"`
	IsTorExitNode      bool `maxminddb:"is_tor_exit_node"`
	IsResidentialProxy bool `maxminddb:"is_residential_proxy"`
}

// LoadAnonymous loads a GeoIP2 Anonymous IP database from data. name is the
// file name used in errors. A record that cannot be decoded rejects the
// database (the error lists the first few bad records and counts the rest).
//
// The Anonymous keeps data: the caller must not modify it afterwards.
func LoadAnonymous(name string, data []byte) (*Anonymous, error) {
	db, md, err := openDB(name, data, "Anonymous IP", anonymousTypes, isAnonymousType)
	if err != nil {
		return nil, err
	}
	t, err := newTree(data, md)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	a := &Anonymous{db: db, v4Only: md.IPVersion == 4, index: make(map[uint32]uint32)}
	dedup := map[AnonymousFlags]uint32{}
	probs := problems{name: name}
	err = t.walk(func(off uint32, network netip.Prefix) error {
		if _, seen := a.index[off]; seen {
			return nil
		}
		var rec anonymousRecord
		if err := db.LookupOffset(uintptr(off)).Decode(&rec); err != nil {
			probs.add(network, off, "%v", err)
			a.index[off] = noEntry
			return nil
		}
		f := AnonymousFlags(rec)
		if f == (AnonymousFlags{}) {
			// An empty map (MaxMind test databases fill gaps with one)
			// or a record with every flag false: nothing is recorded.
			a.index[off] = noEntry
			return nil
		}
		i, ok := dedup[f]
		if !ok {
			i = uint32(len(a.entries))
			dedup[f] = i
			a.entries = append(a.entries, f)
		}
		a.index[off] = i
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	md.Records = len(a.index)
	md.Entries = len(a.entries)
	a.meta = md
	return a, nil
}

// Lookup returns the flags recorded for addr. ok is false when the database
// has no record for addr, when the record sets no flag (an empty map, which
// MaxMind test databases use to fill gaps, or all flags false), or when addr
// is not a valid address. Traffic Router allows such clients either way
// (spec §4.10: a DB miss allows; no flag set blocks nothing). It does not
// allocate.
func (a *Anonymous) Lookup(addr netip.Addr) (AnonymousFlags, bool) {
	i, ok := lookupIndex(a.db, a.index, a.v4Only, addr)
	if !ok {
		return AnonymousFlags{}, false
	}
	return a.entries[i], true
}

// Metadata returns the database metadata and load statistics.
func (a *Anonymous) Metadata() Metadata { return a.meta }
