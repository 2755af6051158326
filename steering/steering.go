// Package steering compiles the steering registry (steering.json, spec §8)
// against the delivery services of one routing table: targets present in
// the snapshot, filters, the weighted target ring (weights are point counts,
// zero-weight targets placed by order), and the geolocation comparator of
// CLIENT_STEERING. It knows delivery services only by their index in the
// routing table and never reaches into router internals.
//
// A compiled Table is immutable and safe for concurrent use; the per-request
// methods do not allocate.
package steering

import (
	"bytes"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/hashring"
)

// MaxWeight is the largest target weight accepted. A weight is a number of
// consistent-hash points (12 bytes each in the ring); a larger one is an
// error that rejects the table build (the previous table keeps serving).
const MaxWeight = 1_000_000

// Target is one target delivery service of a steering entry that exists in
// the snapshot.
type Target struct {
	// XMLID is the target delivery service.
	XMLID string
	// DS is the target's delivery service index in the routing table.
	DS int32
	// Weight is the number of consistent-hash points (0: placed by Order).
	Weight int64
	// Order places zero-weight targets on the ring and sorts CLIENT_STEERING
	// results when they are geo sorted.
	Order int64
	// GeoOrder breaks ties between targets with the same cache and origin
	// locations (STEERING_GEO_ORDER / STEERING_GEO_WEIGHT).
	GeoOrder int64
	// Latitude and Longitude are the target's origin location; HasGeo is
	// true when both are non-zero (Traffic Router's rule).
	Latitude, Longitude float64
	HasGeo              bool
}

// Filter pins requests whose decoded path fully matches Pattern to
// Targets[Target].
type Filter struct {
	Pattern string
	Target  int
	re      *regexp.Regexp
	// must is a literal every match contains (a cheap prefilter), or nil.
	must []byte
}

// Entry is the compiled steering of one steering delivery service.
type Entry struct {
	// XMLID and DS name the steering delivery service.
	XMLID string
	DS    int32
	// ClientSteering is true for CLIENT_STEERING (multi-location answers).
	ClientSteering bool
	// Targets are the targets present in the snapshot, in steering.json
	// order (Traffic Router's input order for exact hash ties).
	Targets []Target
	// Filters are the usable filters in document order.
	Filters []Filter
	// Source is the entry as decoded.
	Source *control.SteeringEntry

	ring   *hashring.Ring
	hasGeo bool
}

// Table is the steering registry compiled for one routing table.
type Table struct {
	// Steering is the decoded registry (nil when there is none).
	Steering *control.Steering
	entries  []Entry
	byDS     []int32 // delivery service index -> entry index, or -1
	warnings []control.Problem
}

// PointSource returns the consistent-hash points of hashID with n virtual
// nodes (hashring.PointCache.Get); n <= 0 gives a zero-hash set.
type PointSource func(hashID string, n int) *hashring.Points

// Compile checks the registry against the routing table's delivery services
// and builds the target rings. dsIndex resolves an xml_id to its index (in
// [0, numDS)). Problems that Traffic Router ignores silently are warnings:
// a steering delivery service or a target missing from the snapshot (left
// out), a filter whose delivery service is not a usable target (left out),
// an entry without usable targets (its requests get 503), a target that is
// itself a steering delivery service (not steered again). A weight above
// MaxWeight is an error. s may be nil (no steering).
func Compile(s *control.Steering, numDS int, dsIndex func(xmlID string) (int32, bool), points PointSource) (*Table, error) {
	t := &Table{Steering: s, byDS: make([]int32, numDS)}
	for i := range t.byDS {
		t.byDS[i] = -1
	}
	if s == nil {
		return t, nil
	}
	file := s.Name
	var errs []control.Problem
	warn := func(path, value, msg string) {
		t.warnings = append(t.warnings, control.Problem{File: file, Path: path, Value: value, Message: msg, Warning: true})
	}
	steeringDS := map[string]bool{}
	for i := range s.Entries {
		steeringDS[s.Entries[i].DeliveryService] = true
	}
	t.entries = make([]Entry, 0, len(s.Entries))
	for i := range s.Entries {
		src := &s.Entries[i]
		ep := "response[" + strconv.Itoa(i) + "]"
		di, ok := dsIndex(src.DeliveryService)
		if !ok {
			warn(ep+".deliveryService", src.DeliveryService, "steering delivery service "+strconv.Quote(src.DeliveryService)+" is not in the snapshot; entry ignored")
			continue
		}
		if t.byDS[di] >= 0 {
			continue // repeated entry: control already warned, the first wins
		}
		e := Entry{XMLID: src.DeliveryService, DS: di, ClientSteering: src.ClientSteering, Source: src}
		members := make([]hashring.Member, 0, len(src.Targets))
		for j, tg := range src.Targets {
			tp := ep + ".targets[" + strconv.Itoa(j) + "]"
			ti, ok := dsIndex(tg.DeliveryService)
			if !ok {
				warn(tp+".deliveryService", tg.DeliveryService, "steering "+strconv.Quote(e.XMLID)+": target "+strconv.Quote(tg.DeliveryService)+" is not in the snapshot; ignored")
				continue
			}
			if tg.Weight > MaxWeight {
				errs = append(errs, control.Problem{File: file, Path: tp + ".weight", Value: strconv.FormatInt(tg.Weight, 10),
					Message: fmt.Sprintf("steering %q: target %q: weight %d is above the maximum %d", e.XMLID, tg.DeliveryService, tg.Weight, MaxWeight)})
				continue
			}
			if steeringDS[tg.DeliveryService] {
				warn(tp+".deliveryService", tg.DeliveryService, "steering "+strconv.Quote(e.XMLID)+": target "+strconv.Quote(tg.DeliveryService)+" is itself a steering delivery service; it is routed as a plain delivery service")
			}
			target := Target{
				XMLID: tg.DeliveryService, DS: ti, Weight: max(tg.Weight, 0), Order: tg.Order, GeoOrder: tg.GeoOrder,
				Latitude: tg.Latitude, Longitude: tg.Longitude, HasGeo: tg.HasGeolocation(),
			}
			e.hasGeo = e.hasGeo || target.HasGeo
			e.Targets = append(e.Targets, target)
			members = append(members, hashring.Member{Points: points(tg.DeliveryService, int(target.Weight)), Order: clampOrder(tg.Order)})
		}
		if len(e.Targets) == 0 {
			warn(ep+".targets", "", "steering "+strconv.Quote(e.XMLID)+" has no target in the snapshot; its requests get 503")
		}
		for j, f := range src.Filters {
			fp := ep + ".filters[" + strconv.Itoa(j) + "]"
			k := e.targetIndex(f.DeliveryService)
			switch {
			case f.Compiled == nil:
				warn(fp+".pattern", f.Pattern, "steering "+strconv.Quote(e.XMLID)+": filter pattern did not compile; ignored")
			case k < 0:
				warn(fp+".deliveryService", f.DeliveryService, "steering "+strconv.Quote(e.XMLID)+": filter target "+strconv.Quote(f.DeliveryService)+" is not a target in the snapshot; filter ignored")
			default:
				e.Filters = append(e.Filters, Filter{Pattern: f.Pattern, Target: k, re: f.Compiled, must: requiredLiteral(f.Pattern)})
			}
		}
		r, err := hashring.NewRing(members)
		if err != nil {
			errs = append(errs, control.Problem{File: file, Path: ep + ".targets", Message: "steering " + strconv.Quote(e.XMLID) + ": " + err.Error()})
			continue
		}
		e.ring = r
		t.byDS[di] = int32(len(t.entries))
		t.entries = append(t.entries, e)
	}
	if len(errs) > 0 {
		return nil, &control.ValidationError{Problems: append(errs, t.warnings...)}
	}
	return t, nil
}

// requiredLiteral returns the longest case-sensitive literal that is a
// top-level part of the pattern's concatenation (so every match contains
// it), or nil.
func requiredLiteral(pattern string) []byte {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	var best []rune
	switch {
	case re.Op == syntax.OpLiteral && re.Flags&syntax.FoldCase == 0:
		best = re.Rune
	case re.Op == syntax.OpConcat:
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpLiteral && sub.Flags&syntax.FoldCase == 0 && len(sub.Rune) > len(best) {
				best = sub.Rune
			}
		}
	}
	if len(best) == 0 {
		return nil
	}
	return []byte(string(best))
}

// clampOrder converts an order to int without wrapping.
func clampOrder(o int64) int {
	const maxInt, minInt = int64(^uint(0) >> 1), -int64(^uint(0)>>1) - 1
	return int(min(max(o, minInt), maxInt))
}

// Warnings returns what Compile found and worked around.
func (t *Table) Warnings() []control.Problem { return t.warnings }

// Entries returns the compiled entries in document order.
func (t *Table) Entries() []Entry { return t.entries }

// Entry returns the steering entry of the delivery service with index ds,
// or nil when it is not a steering delivery service.
func (t *Table) Entry(ds int32) *Entry {
	if t == nil || ds < 0 || int(ds) >= len(t.byDS) {
		return nil
	}
	if i := t.byDS[ds]; i >= 0 {
		return &t.entries[i]
	}
	return nil
}

func (e *Entry) targetIndex(xmlID string) int {
	for k := range e.Targets {
		if e.Targets[k].XMLID == xmlID {
			return k
		}
	}
	return -1
}

// TargetByName returns the index of the target named by an
// X-TC-Steering-Option value, or -1.
func (e *Entry) TargetByName(name []byte) int {
	for k := range e.Targets {
		if string(name) == e.Targets[k].XMLID {
			return k
		}
	}
	return -1
}

// FilterTarget returns the target pinned by the first filter whose pattern
// fully matches the decoded path, or -1.
func (e *Entry) FilterTarget(path []byte) int {
	for k := range e.Filters {
		f := &e.Filters[k]
		if f.must != nil && !bytes.Contains(path, f.must) {
			continue
		}
		if f.re.Match(path) {
			return e.Filters[k].Target
		}
	}
	return -1
}

// HasGeo reports whether some target has an origin location (CLIENT_STEERING
// results are then geo sorted when the client can be located).
func (e *Entry) HasGeo() bool { return e.hasGeo }

// AppendSelect appends the targets Traffic Router's selectHashable picks
// for the request hash h with the steering delivery service's dispersion
// (normally one; dispersion limit > 1 with shuffle picks at random among the
// nearest). The first appended target is the one to use.
func (e *Entry) AppendSelect(dst []int32, h float64, d hashring.Dispersion) []int32 {
	return e.ring.AppendDispersed(dst, h, d, nil)
}

// AppendOrder appends every target in Traffic Router's order for the
// request hash h (selectHashables without dispersion): weighted targets by
// distance, zero-weight targets by order (quirk 15 kept).
func (e *Entry) AppendOrder(dst []int32, h float64) []int32 {
	return e.ring.AppendOrder(dst, h, nil)
}

// Ring returns the ring of the targets (member i is Targets[i]).
func (e *Entry) Ring() *hashring.Ring { return e.ring }

// Has reports whether name is a target of the entry.
func (e *Entry) Has(name []byte) bool { return e.TargetByName(name) >= 0 }
