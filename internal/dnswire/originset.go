package dnswire

import "encoding/binary"

// OriginSet is an RRset owned by a zone origin (an NS RRset, an SOA),
// prepared once at table build time for the common case of a response
// whose question name is the origin or lies below it.
// Writer.AppendOriginSet writes it without searching the compression
// table: every suffix of the origin and of the names in the RDATA has a
// small number, and a per-call array maps each number to the offset where
// that name was first written (the question for the origin's suffixes).
// Looking a name's suffixes up longest first in that array finds what
// Writer.AppendTTL's search finds, so the bytes are the same.
//
// That holds while the compression table holds only the question and the
// question's labels above the origin cannot match a name of the set: a
// name below the origin with the same label right above it. AppendOriginSet
// checks both and otherwise writes nothing, leaving the set to AppendTTL.
//
// An OriginSet is immutable and safe to share between goroutines.
type OriginSet struct {
	origin     []byte
	typ, class uint16
	// norigin is the number of labels of the origin: suffix numbers
	// [0, norigin) are the origin's suffixes, longest first, at the
	// offsets originRel in the origin.
	norigin   int
	originRel [maxOriginIDs]uint8
	recs      []originRec
	// maxSize and maxComp bound the bytes and compression entries the
	// records add (every name written in full).
	maxSize, maxComp int
	// above holds, for every name of the set below the origin, its label
	// right above the origin (length octet included).
	above [][]byte
	// tmpl is the stored-order encoding of the records with every
	// compression pointer left for patches to fill in: the pointers depend
	// only on the question's origin offset and on where the set starts.
	// comps holds the tmpl offsets of the labels the set enters for
	// compression, in order.
	tmpl    []byte
	patches []originPatch
	comps   []uint16
}

// originPatch is a compression pointer in OriginSet.tmpl at pos: rel past
// the origin in the question (fromSet false) or past the set's start.
type originPatch struct {
	pos, rel uint16
	fromSet  bool
}

// originRec is one record: the owner is the origin.
type originRec struct {
	head  [8]byte // type, class, TTL
	kind  rdataKind
	names [2]originName // rdataName: names[0]; rdataSOA: both
	raw   []byte        // RDATA of rdataRaw, or the 20 octets after SOA's names
}

// originName is a name in RDATA: its wire form and the suffix number of
// each of its labels.
type originName struct {
	wire []byte
	ids  []uint8
}

// maxOriginIDs bounds the distinct suffixes of a set.
const maxOriginIDs = 64

// Len returns the number of records.
func (t *OriginSet) Len() int {
	if t == nil {
		return 0
	}
	return len(t.recs)
}

// NewOriginSet prepares rrs (one RRset: same type and class, each record
// with its own TTL) owned by origin, a lower-case uncompressed wire name as
// AppendName returns it (not the root). It returns nil when the set cannot
// be prepared: empty, mixed types, too many distinct names (more than 64
// suffixes), or when the prepared path does not reproduce
// Writer.AppendTTL's bytes for the set (stored order) after a question
// equal to the origin; AppendTTL then serves the set.
func NewOriginSet(origin []byte, rrs []RR) *OriginSet {
	if len(rrs) == 0 || len(rrs) > 255 || len(origin) <= 1 || len(origin) > MaxNameLen {
		return nil
	}
	t := &OriginSet{origin: append([]byte(nil), origin...), typ: rrs[0].Type, class: rrs[0].Class}
	// suffixes[id] is the name numbered id.
	suffixes := make([][]byte, 0, maxOriginIDs)
	for i := 0; i < len(origin) && origin[i] != 0; i += 1 + int(origin[i]) {
		if t.norigin == maxOriginIDs {
			return nil
		}
		suffixes = append(suffixes, origin[i:])
		t.originRel[t.norigin] = uint8(i)
		t.norigin++
	}
	name := func(wire []byte) (originName, bool) {
		n := originName{wire: wire}
		for i := 0; i < len(wire) && wire[i] != 0; i += 1 + int(wire[i]) {
			id := -1
			for k, sfx := range suffixes {
				if string(sfx) == string(wire[i:]) {
					id = k
					break
				}
			}
			if id < 0 {
				if len(suffixes) == maxOriginIDs {
					return n, false
				}
				id = len(suffixes)
				suffixes = append(suffixes, wire[i:])
			}
			n.ids = append(n.ids, uint8(id))
			t.maxComp++
		}
		return n, true
	}
	for i := range rrs {
		rr := &rrs[i]
		if rr.Type != t.typ || rr.Class != t.class {
			return nil
		}
		r := originRec{kind: rr.kind}
		binary.BigEndian.PutUint16(r.head[0:], rr.Type)
		binary.BigEndian.PutUint16(r.head[2:], rr.Class)
		binary.BigEndian.PutUint32(r.head[4:], rr.TTL)
		ok := true
		switch rr.kind {
		case rdataName:
			r.names[0], ok = name(rr.rdata)
		case rdataSOA:
			var ok2 bool
			r.names[0], ok = name(rr.rdata[:rr.name2])
			r.names[1], ok2 = name(rr.rdata[rr.name2 : len(rr.rdata)-20])
			r.raw = rr.rdata[len(rr.rdata)-20:]
			ok = ok && ok2
		default:
			r.raw = rr.rdata
		}
		if !ok {
			return nil
		}
		t.recs = append(t.recs, r)
		t.maxSize += 2 + 10 + len(rr.rdata)
		t.above = appendAbove(t.above, origin, rr)
	}
	t.buildTemplate()
	if !t.selfCheck(rrs) {
		return nil
	}
	return t
}

// buildTemplate fills tmpl, patches and comps: AppendOriginSet's stored
// order encoding with symbolic pointers.
func (t *OriginSet) buildTemplate() {
	// at maps a suffix number to its first occurrence: in the question's
	// origin (fromSet false) or in tmpl; set tells which are known.
	var at [maxOriginIDs]originPatch
	var set [maxOriginIDs]bool
	for k := range t.norigin {
		at[k], set[k] = originPatch{rel: uint16(t.originRel[k])}, true
	}
	b := make([]byte, 0, t.maxSize)
	pointer := func(p originPatch) {
		t.patches = append(t.patches, originPatch{pos: uint16(len(b)), rel: p.rel, fromSet: p.fromSet})
		b = append(b, 0, 0)
	}
	putName := func(n *originName) {
		i := 0
		for _, id := range n.ids {
			if set[id] {
				pointer(at[id])
				return
			}
			l := int(n.wire[i])
			at[id], set[id] = originPatch{rel: uint16(len(b)), fromSet: true}, true
			t.comps = append(t.comps, uint16(len(b)))
			b = append(b, n.wire[i:i+1+l]...)
			i += 1 + l
		}
		b = append(b, 0)
	}
	for k := range t.recs {
		r := &t.recs[k]
		pointer(originPatch{})
		b = append(b, r.head[:]...)
		lenAt := len(b)
		b = append(b, 0, 0)
		switch r.kind {
		case rdataName:
			putName(&r.names[0])
		case rdataSOA:
			putName(&r.names[0])
			putName(&r.names[1])
		}
		b = append(b, r.raw...)
		binary.BigEndian.PutUint16(b[lenAt:], uint16(len(b)-lenAt-2))
	}
	t.tmpl = b
}

// selfCheck compares the prepared path with AppendTTL after a question
// equal to the origin: in the stored order (the template) and, for a set of
// several records, reversed (the given-order path, which serves shuffled
// sets).
func (t *OriginSet) selfCheck(rrs []RR) bool {
	size := HeaderLen + len(t.origin) + 4 + t.maxSize
	buf := make([]byte, HeaderLen, 3*size)
	binary.BigEndian.PutUint16(buf[4:], 1)
	buf = append(buf, t.origin...)
	buf = append(buf, 0, byte(TypeA), 0, byte(ClassIN))
	var q Query
	if q.Parse(buf) != Accept {
		return false
	}
	var w Writer
	w.Start(buf[len(buf):len(buf)], &q, size)
	for k := range rrs {
		if !w.AppendTTL(Authority, OwnerName(t.origin), &rrs[k], rrs[k].TTL) {
			return false
		}
	}
	want := w.Finish()
	w.Start(want[len(want):len(want)], &q, size)
	if !w.AppendOriginSet(Authority, t, nil) || string(w.Finish()) != string(want) {
		return false
	}
	if len(rrs) < 2 {
		return true
	}
	order := make([]uint8, len(rrs))
	w.Start(buf[len(buf):len(buf)], &q, size)
	for i := range order {
		k := len(rrs) - 1 - i
		order[i] = uint8(k)
		if !w.AppendTTL(Authority, OwnerName(t.origin), &rrs[k], rrs[k].TTL) {
			return false
		}
	}
	want = w.Finish()
	w.Start(want[len(want):len(want)], &q, size)
	return w.AppendOriginSet(Authority, t, order) && string(w.Finish()) == string(want)
}

// appendAbove adds the labels right above origin of the names of rr that
// lie strictly below it.
func appendAbove(dst [][]byte, origin []byte, rr *RR) [][]byte {
	var names [2][]byte
	switch rr.kind {
	case rdataName:
		names[0] = rr.rdata
	case rdataSOA:
		names[0], names[1] = rr.rdata[:rr.name2], rr.rdata[rr.name2:len(rr.rdata)-20]
	}
	for _, n := range names {
		if len(n) <= len(origin) || !IsSubdomain(n, origin) {
			continue
		}
		prev, i := 0, 0
		for i < len(n)-len(origin) {
			prev = i
			i += 1 + int(n[i])
		}
		lab := n[prev:i]
		dup := false
		for _, a := range dst {
			dup = dup || string(a) == string(lab)
		}
		if !dup {
			dst = append(dst, append([]byte(nil), lab...))
		}
	}
	return dst
}

// AppendOriginSet appends the records of t, owned by its origin, to
// section s in the given order (nil for the stored order, else a
// permutation of the record indexes) and reports whether it did. It
// writes nothing and returns false when the prepared path does not apply:
// the question is not the origin or below it or has a label a name of the
// set could compress against, earlier records entered names for
// compression, the set would continue the previous RRset, or the set might
// not fit (the truncation rules then apply through AppendTTL). The caller
// then appends the records with AppendTTL in the same order; the result is
// the same as if AppendOriginSet had written them.
func (w *Writer) AppendOriginSet(s Section, t *OriginSet, order []uint8) bool {
	if t == nil || w.noQ || !t.AppliesTo(w.q.Name()) {
		return false
	}
	return w.appendOriginSet(s, t, order)
}

// AppliesTo reports whether the set's prepared path applies to a question
// named name (lower-case wire form, as Query.Name returns it): name is
// the origin or below it, and no label of name right above the origin can
// match a name of the set. A caller that checked this once for a name
// known in advance calls AppendOriginSetChecked for questions of that name.
func (t *OriginSet) AppliesTo(name []byte) bool {
	nl, ol := len(name), len(t.origin)
	if ol > nl || string(name[nl-ol:]) != string(t.origin) {
		return false
	}
	prev, i := -1, 0
	for i < nl-ol {
		prev = i
		i += 1 + int(name[i])
	}
	if i != nl-ol {
		return false
	}
	if prev >= 0 && len(t.above) > 0 {
		lab := name[prev:i]
		for _, a := range t.above {
			if string(a) == string(lab) {
				return false
			}
		}
	}
	return true
}

// AppendOriginSetChecked is AppendOriginSet for a question whose name the
// caller knows t.AppliesTo (checked when both were prepared): it skips
// that check, the part of AppendOriginSet that reads the question name.
func (w *Writer) AppendOriginSetChecked(s Section, t *OriginSet, order []uint8) bool {
	if t == nil || w.noQ {
		return false
	}
	return w.appendOriginSet(s, t, order)
}

// appendOriginSet is AppendOriginSet after the question check.
func (w *Writer) appendOriginSet(s Section, t *OriginSet, order []uint8) bool {
	if w.full || s < w.sec || s > Additional || w.ncomp != w.qcomp {
		return false
	}
	if order != nil && len(order) != len(t.recs) {
		return false
	}
	if w.setCount > 0 && w.setSec == s && w.setType == t.typ && w.setClass == t.class {
		return false
	}
	nl, ol := w.q.nameLen, len(t.origin)
	start := len(w.buf)
	if start+t.maxSize > w.limit || start+t.maxSize > 0x4000 || w.ncomp+t.maxComp > maxComp {
		return false
	}
	originStart := HeaderLen + nl - ol
	ncomp := w.ncomp
	if order == nil {
		// The stored order: the template with its pointers patched.
		w.buf = append(w.buf, t.tmpl...)
		b := w.buf[start:]
		for _, p := range t.patches {
			off := originStart + int(p.rel)
			if p.fromSet {
				off = start + int(p.rel)
			}
			b[p.pos], b[p.pos+1] = 0xC0|byte(off>>8), byte(off)
		}
		for _, c := range t.comps {
			w.comp[w.ncomp] = uint16(start + int(c))
			w.ncomp++
		}
	} else {
		w.appendOriginOrder(t, order, originStart)
	}
	n := uint16(len(t.recs))
	w.sec = s
	w.setStart, w.setComp, w.setCount = start, ncomp, n
	w.setSec, w.setType, w.setClass, w.setOwner = s, t.typ, t.class, originStart
	w.counts[s] += n
	return true
}

// appendOriginOrder writes the records of t in the given order, the
// question's origin at originStart.
func (w *Writer) appendOriginOrder(t *OriginSet, order []uint8, originStart int) {
	// at maps a suffix number to the offset of its first occurrence.
	var at [maxOriginIDs]uint16
	for k := range t.norigin {
		at[k] = uint16(originStart + int(t.originRel[k]))
	}
	for _, o := range order {
		r := &t.recs[o]
		w.buf = append(w.buf, 0xC0|byte(originStart>>8), byte(originStart))
		w.buf = append(w.buf, r.head[:]...)
		lenAt := len(w.buf)
		w.buf = append(w.buf, 0, 0)
		switch r.kind {
		case rdataName:
			w.putOriginName(&r.names[0], &at)
		case rdataSOA:
			w.putOriginName(&r.names[0], &at)
			w.putOriginName(&r.names[1], &at)
		}
		w.buf = append(w.buf, r.raw...)
		binary.BigEndian.PutUint16(w.buf[lenAt:], uint16(len(w.buf)-lenAt-2))
	}
}

// putOriginName writes n compressed against the suffixes in at, entering
// the labels it writes.
func (w *Writer) putOriginName(n *originName, at *[maxOriginIDs]uint16) {
	i := 0
	for _, id := range n.ids {
		if off := at[id]; off != 0 {
			w.buf = append(w.buf, 0xC0|byte(off>>8), byte(off))
			return
		}
		pos := len(w.buf)
		l := int(n.wire[i])
		w.buf = append(w.buf, n.wire[i:i+1+l]...)
		at[id] = uint16(pos)
		w.comp[w.ncomp] = uint16(pos)
		w.ncomp++
		i += 1 + l
	}
	w.buf = append(w.buf, 0)
}
