package hashring

import (
	"math"
	"slices"
)

// selector finds the members nearest to a request hash, in Traffic Router's
// order, by walking the ring's merged points outward from the hash.
//
// The walk visits points by ascending rounded distance |p - h|, so the first
// visit of a member yields its key: the minimum over its points of the
// rounded distance, which is exactly the distance to the point Traffic
// Router's NumberSearcher picks. Keys therefore arrive in ascending order.
//
// Equal keys are bumped one ulp up in input order (member index). The slot
// a member ends in depends only on members whose key is at most that slot,
// so once the need-th smallest slot among the collected members is below the
// key of the next uncollected member, the first need members are final.
type selector struct {
	r     *Ring
	h     float64
	avail func(i int) bool

	lo, hi    int      // next points below and above h
	seen      []uint64 // members met by the walk (bit per member)
	steps     int
	remaining int // candidates next has not returned yet; -1 when unknown

	ent     []entry   // collected members; capacity for every member
	occ     []float64 // occupied keys during simulate; nil for stack rings
	pend    entry     // next member in key order, not yet collected
	hasPend bool
	done    bool // every candidate has been collected or the walk ended
	ties    bool // two collected members share a key: bumps to simulate
	lastRaw float64
	sorted  bool // ent is sorted by final key
}

func newSelector(r *Ring, h float64, avail func(i int) bool, seen []uint64, ent []entry, occ []float64) selector {
	hi := r.start(h)
	return selector{r: r, h: h, avail: avail, remaining: -1, lo: hi - 1, hi: hi, seen: seen, ent: ent, occ: occ, sorted: true}
}

// next returns the next candidate in ascending key order.
func (s *selector) next() (entry, bool) {
	if s.hasPend {
		s.hasPend = false
		return s.pend, true
	}
	if s.done || s.remaining == 0 {
		s.done = true
		return entry{}, false
	}
	pts, own, h := s.r.pts, s.r.own, s.h
	lo, hi, steps, budget := s.lo, s.hi, s.steps, s.r.budget
	// Up to 64 members the seen set is one word, kept in a register.
	small := len(s.seen) == 1
	var mask uint64
	if small {
		mask = s.seen[0]
	}
	for steps < budget {
		d, p := step(pts, h, &lo, &hi)
		if d > math.MaxFloat64 {
			if small {
				s.seen[0] = mask
			}
			s.done = true
			return entry{}, false
		}
		steps++
		m := own[p]
		bit := uint64(1) << (m & 63)
		if small {
			if mask&bit != 0 {
				continue
			}
			mask |= bit
		} else {
			if s.seen[m>>6]&bit != 0 {
				continue
			}
			s.seen[m>>6] |= bit
		}
		if s.avail != nil && !s.avail(int(m)) {
			continue
		}
		s.lo, s.hi, s.steps = lo, hi, steps
		if small {
			s.seen[0] = mask
		}
		s.remaining--
		return entry{raw: d, final: d, mem: m}, true
	}
	s.lo, s.hi, s.steps = lo, hi, steps
	if small {
		s.seen[0] = mask
	}
	s.collectRest()
	return entry{}, false
}

// collectRest gives up walking (too many points of unavailable or already
// found members) and collects every remaining candidate directly, searching
// each member's own points the way Traffic Router does.
func (s *selector) collectRest() {
	s.done = true
	from := len(s.ent)
	for _, m := range s.r.weights {
		w, bit := m>>6, uint64(1)<<(m&63)
		if s.seen[w]&bit != 0 {
			continue
		}
		s.seen[w] |= bit
		if s.avail != nil && !s.avail(int(m)) {
			continue
		}
		p := s.r.points[m]
		d := math.Abs(s.h - p.vals[p.Nearest(s.h)])
		n := len(s.ent)
		s.ent = s.ent[:n+1] // capacity holds every member
		s.ent[n] = entry{raw: d, final: d, mem: m}
	}
	rest := s.ent[from:]
	slices.SortFunc(rest, byRaw)
	for _, e := range rest {
		s.noteRaw(e.raw)
	}
	if len(rest) > 0 {
		s.sorted = false
	}
}

func (s *selector) add(e entry) {
	s.noteRaw(e.raw)
	n := len(s.ent)
	s.ent = s.ent[:n+1] // capacity holds every member
	s.ent[n] = e
	s.sorted = false
}

func (s *selector) noteRaw(raw float64) {
	if len(s.ent) > 0 && raw == s.lastRaw {
		s.ties = true
	}
	s.lastRaw = raw
}

// resolve makes s.ent[:n] the first n candidates in final order and
// returns n, which is less than need only when there are fewer candidates.
func (s *selector) resolve(need int) int {
	for len(s.ent) < need {
		e, ok := s.next()
		if !ok {
			break
		}
		s.add(e)
	}
	for {
		n := min(need, len(s.ent))
		if n == 0 {
			return 0
		}
		next, more := s.next()
		if more {
			s.pend, s.hasPend = next, true
		}
		if !s.ties {
			// Distinct keys arrived in ascending order: no bumps, the
			// walk order is the final order.
			if !more || s.ent[n-1].raw < next.raw {
				return n
			}
		} else {
			s.simulate()
			if !more || s.ent[n-1].final < next.raw {
				return n
			}
		}
		// The next member may land among the first n: take it too.
		s.hasPend = false
		s.add(next)
	}
}

// simulate replays Traffic Router's insertion of the collected members in
// input order: each takes its key, or the next key up (by one ulp, repeated)
// that is still free. It leaves s.ent sorted by final key.
func (s *selector) simulate() {
	if s.sorted {
		return
	}
	slices.SortFunc(s.ent, byMem)
	var buf [stackMembers]float64 // zeroed only when there are ties
	occ := s.occ[:0]
	if occ == nil {
		occ = buf[:0]
	}
	for i := range s.ent {
		k := s.ent[i].raw
		j, found := slices.BinarySearch(occ, k)
		for found {
			// Keys are finite and non-negative: the next bit pattern
			// is the next float64 up.
			k = math.Float64frombits(math.Float64bits(k) + 1)
			j++
			found = j < len(occ) && occ[j] == k
		}
		occ = occ[:len(occ)+1] // capacity holds every member
		copy(occ[j+1:], occ[j:])
		occ[j] = k
		s.ent[i].final = k
	}
	slices.SortFunc(s.ent, byFinal)
	s.sorted = true
}

func byRaw(a, b entry) int {
	switch {
	case a.raw < b.raw:
		return -1
	case a.raw > b.raw:
		return 1
	}
	return int(a.mem - b.mem)
}

func byMem(a, b entry) int { return int(a.mem - b.mem) }

func byFinal(a, b entry) int {
	if a.final < b.final {
		return -1
	}
	if a.final > b.final {
		return 1
	}
	return 0
}
