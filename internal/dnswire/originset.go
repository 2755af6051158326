package dnswire

import "encoding/binary"

// OriginSet is an RRset owned by a zone origin (an NS RRset, an SOA),
// encoded once at table build time for the common case of a response whose
// question name is the origin or lies below it. Writer.AppendOriginSet
// copies its records and relocates their compression pointers instead of
// searching the compression table; the bytes are those Writer.AppendTTL
// writes for the same records in the same order.
//
// Each record is encoded by a Writer after a question equal to the origin.
// Against a real question qname = prefix + origin the only difference in
// the compression table is the entries of the prefix labels, which can
// only equal names below the origin with the same label right above it;
// AppendOriginSet falls back when the question has such a label. Records
// of a set are encoded alone; a set whose records would compress against
// each other is not built (NewOriginSet returns nil).
//
// An OriginSet is immutable and safe to share between goroutines.
type OriginSet struct {
	origin      []byte
	typ, class  uint16
	recs        []originRec
	size, ncomp int // all records together
	// above holds, for every name written below the origin, its label
	// right above the origin (length octet included).
	above [][]byte
}

// originRec is one record of an OriginSet as written after a question
// equal to the origin, starting at offset synthStart.
type originRec struct {
	b    []byte
	ptrs []originPtr
	comp []uint16 // offsets in b of the labels entered for compression
}

// originPtr is a compression pointer at pos in a record: its target is
// rel bytes after the origin in the question (inRec false) or after the
// start of the record (inRec true).
type originPtr struct {
	pos, rel uint16
	inRec    bool
}

// maxOriginSet bounds the records of an OriginSet: the pairwise check at
// build time is quadratic.
const maxOriginSet = 16

// Len returns the number of records.
func (t *OriginSet) Len() int {
	if t == nil {
		return 0
	}
	return len(t.recs)
}

// NewOriginSet encodes rrs (one RRset: same type and class, each with its
// own TTL) owned by origin, a lower-case uncompressed wire name as
// AppendName returns it. It returns nil when the set cannot be encoded
// this way: empty or too large, mixed types, or records whose names
// compress against each other; the generic path then serves the set.
func NewOriginSet(origin []byte, rrs []RR) *OriginSet {
	if len(rrs) == 0 || len(rrs) > maxOriginSet || len(origin) == 0 || len(origin) > MaxNameLen {
		return nil
	}
	var q Query
	msg := make([]byte, HeaderLen, HeaderLen+len(origin)+4)
	binary.BigEndian.PutUint16(msg[4:], 1)
	msg = append(msg, origin...)
	msg = append(msg, 0, byte(TypeA), 0, byte(ClassIN))
	if q.Parse(msg) != Accept || string(q.Name()) != string(origin) {
		return nil
	}
	synthStart := len(msg)
	origin = append([]byte(nil), origin...)
	t := &OriginSet{origin: origin, typ: rrs[0].Type, class: rrs[0].Class}
	var w Writer
	buf := make([]byte, 0, 4*MaxNameLen+MaxUDPSize)
	for i := range rrs {
		rr := &rrs[i]
		if rr.Type != t.typ || rr.Class != t.class {
			return nil
		}
		w.Start(buf, &q, cap(buf))
		if !w.AppendTTL(Authority, OwnerName(origin), rr, rr.TTL) {
			return nil
		}
		rec, ok := encodeOriginRec(w.buf[synthStart:], synthStart, len(origin), rr)
		if !ok {
			return nil
		}
		for _, c := range w.comp[w.qcomp:w.ncomp] {
			rec.comp = append(rec.comp, c-uint16(synthStart))
		}
		t.recs = append(t.recs, rec)
		t.size += len(rec.b)
		t.ncomp += len(rec.comp)
		t.above = appendAbove(t.above, origin, rr)
	}
	// A record written after another must come out as when written alone.
	for m := range rrs {
		for k := range rrs {
			if m == k {
				continue
			}
			w.Start(buf, &q, cap(buf))
			w.AppendTTL(Authority, OwnerName(origin), &rrs[m], rrs[m].TTL)
			start := len(w.buf)
			if !w.AppendTTL(Authority, OwnerName(origin), &rrs[k], rrs[k].TTL) {
				return nil
			}
			got := w.buf[start:]
			want := t.recs[k].place(make([]byte, 0, len(t.recs[k].b)), HeaderLen, start)
			if string(got) != string(want) {
				return nil
			}
		}
	}
	return t
}

// encodeOriginRec finds the compression pointers of a record written at
// synthStart after a question equal to an origin of originLen octets.
func encodeOriginRec(b []byte, synthStart, originLen int, rr *RR) (originRec, bool) {
	rec := originRec{b: append([]byte(nil), b...)}
	if len(b) < 12 || b[0]&0xC0 != 0xC0 {
		return rec, false
	}
	// The owner (the origin) points to the question.
	addPtr := func(pos int) bool {
		v := int(binary.BigEndian.Uint16(b[pos:]) & 0x3FFF)
		switch {
		case v >= HeaderLen && v < HeaderLen+originLen:
			rec.ptrs = append(rec.ptrs, originPtr{pos: uint16(pos), rel: uint16(v - HeaderLen)})
		case v >= synthStart && v < synthStart+len(b):
			rec.ptrs = append(rec.ptrs, originPtr{pos: uint16(pos), rel: uint16(v - synthStart), inRec: true})
		default:
			return false
		}
		return true
	}
	if !addPtr(0) {
		return rec, false
	}
	// skipName walks a name written at off and records its pointer.
	skipName := func(off int) (int, bool) {
		for off < len(b) {
			c := int(b[off])
			switch {
			case c == 0:
				return off + 1, true
			case c&0xC0 == 0xC0:
				if off+2 > len(b) || !addPtr(off) {
					return 0, false
				}
				return off + 2, true
			case c&0xC0 != 0:
				return 0, false
			}
			off += 1 + c
		}
		return 0, false
	}
	off := 12
	var ok bool
	switch rr.kind {
	case rdataName:
		off, ok = skipName(off)
	case rdataSOA:
		if off, ok = skipName(off); ok {
			off, ok = skipName(off)
		}
		off += 20
	default:
		off, ok = off+len(rr.rdata), true
	}
	return rec, ok && off == len(b)
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

// place appends the record to dst, for an origin written at originStart
// and the record starting at recStart.
func (r *originRec) place(dst []byte, originStart, recStart int) []byte {
	at := len(dst)
	dst = append(dst, r.b...)
	for _, p := range r.ptrs {
		v := originStart + int(p.rel)
		if p.inRec {
			v = recStart + int(p.rel)
		}
		dst[at+int(p.pos)] = 0xC0 | byte(v>>8)
		dst[at+int(p.pos)+1] = byte(v)
	}
	return dst
}

// AppendOriginSet appends the records of t to section s in the given
// order (indexes into the set; nil for the stored order, else one index
// per record, each once) and reports whether it did. It writes nothing
// and returns false when the fast path does not apply: the question is
// not the origin or below it (or has a label that names in the set could
// compress against), earlier records entered names for compression, the
// set would continue the previous RRset, or the set does not fit (the
// truncation rules then apply through AppendTTL). The caller then appends
// the records with AppendTTL in the same order, with the same result.
func (w *Writer) AppendOriginSet(s Section, t *OriginSet, order []uint8) bool {
	if t == nil || w.full || w.noQ || s < w.sec || s > Additional || w.ncomp != w.qcomp {
		return false
	}
	if order != nil && len(order) != len(t.recs) {
		return false
	}
	if w.setCount > 0 && w.setSec == s && w.setType == t.typ && w.setClass == t.class {
		return false
	}
	name := w.q.Name()
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
	start := len(w.buf)
	if start+t.size > w.limit || start+t.size > 0x4000 || w.ncomp+t.ncomp > maxComp {
		return false
	}
	originStart := HeaderLen + nl - ol
	ncomp := w.ncomp
	for k := range t.recs {
		r := &t.recs[k]
		if order != nil {
			r = &t.recs[order[k]]
		}
		at := len(w.buf)
		w.buf = r.place(w.buf, originStart, at)
		for _, c := range r.comp {
			w.comp[w.ncomp] = uint16(at) + c
			w.ncomp++
		}
	}
	n := uint16(len(t.recs))
	w.sec = s
	w.setStart, w.setComp, w.setCount = start, ncomp, n
	w.setSec, w.setType, w.setClass, w.setOwner = s, t.typ, t.class, originStart
	w.counts[s] += n
	return true
}
