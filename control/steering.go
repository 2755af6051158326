package control

import (
	"regexp"
)

// Steering is the steering registry (ops API /steering response, spec
// §8.1), decoded and structurally validated; the steering package owns the
// semantics. Immutable once returned.
type Steering struct {
	Name string
	Hash string
	// Entries in document order.
	Entries  []SteeringEntry
	Warnings []Problem

	index map[string]int
}

// SteeringEntry is the steering configuration of one steering delivery
// service.
type SteeringEntry struct {
	DeliveryService string
	ClientSteering  bool
	Targets         []SteeringTarget
	Filters         []SteeringFilter
}

// SteeringTarget is one target delivery service. Numbers default to 0.
type SteeringTarget struct {
	DeliveryService     string
	Weight              int64
	Order               int64
	GeoOrder            int64
	Latitude, Longitude float64
}

// HasGeolocation reports whether the target has coordinates (both non-zero,
// as in Traffic Router).
func (t SteeringTarget) HasGeolocation() bool { return t.Latitude != 0 && t.Longitude != 0 }

// SteeringFilter is one path filter. Compiled is the pattern compiled for
// Java's full match, case-sensitive: `^(?:pattern)$`, matched against the
// decoded request path.
type SteeringFilter struct {
	Pattern         string
	DeliveryService string
	Compiled        *regexp.Regexp
}

// Entry returns the steering entry of a steering delivery service (the
// first one when the document repeats it).
func (s *Steering) Entry(xmlID string) (*SteeringEntry, bool) {
	i, ok := s.index[xmlID]
	if !ok {
		return nil, false
	}
	return &s.Entries[i], true
}

// warnUnknown reports keys Traffic Router's strict decoding would reject.
// Signpost keeps the data (forward compatibility) and warns.
func warnUnknown(p *problems, n *node, path string, known []string) {
	for _, k := range n.keys {
		if indexOf(known, k) < 0 {
			p.warn(field(path, k), "", "unknown key "+q(k)+" ignored (Traffic Router would reject the document)")
		}
	}
}

// listRoot finds the array of an ops API list response: a bare array,
// {"response": [...]}, or the first array value of the top-level object
// (Traffic Router reads the first value).
func listRoot(p *problems, root *node) (*node, string) {
	switch root.kind {
	case kindArray:
		return root, ""
	case kindObject:
		if r := root.get("response"); r != nil && r.kind == kindArray {
			return r, "response"
		}
		for i, v := range root.vals {
			if v.kind == kindArray {
				return v, field("", root.keys[i])
			}
		}
	}
	p.error("", root.text(), "expected an array or {\"response\": [...]}, got "+root.kind.String())
	return nil, ""
}

// ParseSteering decodes and validates a steering document.
func ParseSteering(name string, data []byte) (*Steering, error) {
	p, root, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	list, lp := listRoot(p, root)
	s := &Steering{index: map[string]int{}}
	if list != nil {
		for i, e := range list.vals {
			ep := index(lp, i)
			if !p.object(e, ep, true) {
				continue
			}
			warnUnknown(p, e, ep, []string{"deliveryService", "clientSteering", "targets", "filters"})
			ent := SteeringEntry{
				DeliveryService: requiredString(p, e, ep, "deliveryService"),
				ClientSteering:  p.boolean(e.get("clientSteering"), field(ep, "clientSteering"), false),
			}
			if t, tp := e.get("targets"), field(ep, "targets"); !t.isNull() && t.kind != kindArray {
				p.error(tp, t.text(), "expected an array, got "+t.kind.String())
			} else if t != nil {
				for j, tn := range t.vals {
					jp := index(tp, j)
					if !p.object(tn, jp, true) {
						continue
					}
					warnUnknown(p, tn, jp, []string{"deliveryService", "weight", "order", "geoOrder", "latitude", "longitude"})
					ent.Targets = append(ent.Targets, SteeringTarget{
						DeliveryService: requiredString(p, tn, jp, "deliveryService"),
						Weight:          p.integer(tn.get("weight"), field(jp, "weight"), 0),
						Order:           p.integer(tn.get("order"), field(jp, "order"), 0),
						GeoOrder:        p.integer(tn.get("geoOrder"), field(jp, "geoOrder"), 0),
						Latitude:        p.float(tn.get("latitude"), field(jp, "latitude"), 0),
						Longitude:       p.float(tn.get("longitude"), field(jp, "longitude"), 0),
					})
				}
			}
			if f, fp := e.get("filters"), field(ep, "filters"); !f.isNull() && f.kind != kindArray {
				p.error(fp, f.text(), "expected an array, got "+f.kind.String())
			} else if f != nil {
				for j, fn := range f.vals {
					jp := index(fp, j)
					if !p.object(fn, jp, true) {
						continue
					}
					warnUnknown(p, fn, jp, []string{"pattern", "deliveryService"})
					flt := SteeringFilter{
						Pattern:         requiredString(p, fn, jp, "pattern"),
						DeliveryService: requiredString(p, fn, jp, "deliveryService"),
					}
					if flt.Pattern != "" {
						rx, msg := compileRegex(flt.Pattern, true, false)
						if rx == nil {
							p.error(field(jp, "pattern"), flt.Pattern, "steering "+q(ent.DeliveryService)+": pattern "+q(flt.Pattern)+" "+msg)
						}
						flt.Compiled = rx
					}
					ent.Filters = append(ent.Filters, flt)
				}
			}
			p.indexFirst(s.index, ent.DeliveryService, len(s.Entries), field(ep, "deliveryService"), "steering delivery service")
			s.Entries = append(s.Entries, ent)
		}
	}
	if err := p.result(); err != nil {
		return nil, err
	}
	s.Name, s.Hash, s.Warnings = name, ContentHash(data), p.list
	return s, nil
}

// requiredString returns a non-empty string field or records an error.
func requiredString(p *problems, n *node, path, name string) string {
	v := n.get(name)
	fp := field(path, name)
	switch {
	case v.isNull():
		p.error(fp, "", "required field is missing")
		return ""
	case v.kind != kindString && v.kind != kindNumber:
		p.error(fp, v.text(), "expected a string, got "+v.kind.String())
		return ""
	case v.s == "":
		p.error(fp, "", "must not be empty")
		return ""
	}
	return v.s
}
