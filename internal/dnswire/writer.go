package dnswire

import "encoding/binary"

// Section is a record section of a response.
type Section uint8

// Sections, in the order records must be appended.
const (
	Answer Section = iota + 1
	Authority
	Additional
)

// QuestionOffset is the offset of the question name in every response that
// carries a question: OwnerAt(QuestionOffset) names the question as owner.
const QuestionOffset = HeaderLen

// maxComp bounds the compression table. Names beyond it are still written,
// only less compressed.
const maxComp = 128

// Owner is the owner name of a record to append: either a name already in
// the message (OwnerAt, written as one compression pointer) or an
// uncompressed wire name (OwnerName, compressed against the question and
// every name written before).
type Owner struct {
	name  []byte
	off   uint16
	isOff bool
}

// OwnerAt names the owner by the offset of a name already written in the
// response, such as QuestionOffset.
func OwnerAt(off int) Owner { return Owner{off: uint16(off), isOff: off >= 0 && off < 0x4000} }

// OwnerName names the owner by its uncompressed wire form (lower-cased,
// as AppendName or Query.Name produce it). The slice must stay valid and
// unchanged during the Append call only.
func OwnerName(name []byte) Owner { return Owner{name: name} }

// Writer builds one response in a caller-provided buffer without ever
// growing it: records that do not fit the size limit are not written, and
// the whole RRset they belong to is removed (RFC 2181 §9). Dropping from
// the answer or authority section sets TC; dropping from the additional
// section does not. After the first drop every later Append is refused, so
// a truncated message never has a later section filled.
//
// Records of one RRset are the consecutive appends with the same section,
// owner, type and class. A Writer is reused across responses (Start resets
// it); its zero value is ready for Start. Not safe for concurrent use.
type Writer struct {
	buf    []byte
	q      *Query
	max    int // total size limit
	limit  int // limit for records: max minus the OPT reservation
	counts [4]uint16
	sec    Section
	rcode  int
	aa     bool
	tc     bool
	full   bool
	ecs    bool
	scope  uint8
	noQ    bool // question omitted

	setStart, setComp int
	setCount          uint16
	setType, setClass uint16
	setOwner          int
	setSec            Section
	comp              [maxComp]uint16
	ncomp             int
	qcomp             int // compression entries of the question (ncomp after Start)
}

// Start begins a response to q in dst[:0], for at most max bytes (capped by
// cap(dst)). It writes the header (same ID, QR=1, opcode, RD and CD copied,
// RA=0, AD=0) and echoes the question exactly as received when q has one.
// Room for the OPT record is reserved when q carried EDNS. dst should hold
// at least MinUDPSize bytes. The Writer may also store into dst past the
// end of the message, up to cap(dst) (whole-word writes); those bytes are
// not part of the response.
func (w *Writer) Start(dst []byte, q *Query, max int) {
	if max > cap(dst) {
		max = cap(dst)
	}
	// Reset field by field: the compression table is only read below
	// ncomp, so it is not cleared.
	w.buf, w.q, w.max, w.limit = dst[:0], q, max, 0
	w.counts = [4]uint16{}
	w.sec, w.rcode, w.aa, w.tc, w.full, w.ecs, w.scope, w.noQ = 0, 0, false, false, false, false, 0, false
	w.setStart, w.setComp, w.setCount, w.setType, w.setClass, w.setOwner, w.setSec = 0, 0, 0, 0, 0, -1, 0
	w.ncomp, w.qcomp = 0, 0
	opt := 0
	if q.EDNS {
		opt = 11
		if q.ECS {
			opt += 8 + q.ecsBytes
		}
	}
	w.limit = max - opt
	if w.limit < HeaderLen {
		w.limit, w.full = 0, true
		return
	}
	w.buf = w.buf[:HeaderLen]
	clear(w.buf)
	if !q.HasQuestion() || HeaderLen+(q.qEnd-HeaderLen) > w.limit {
		w.noQ = true
		return
	}
	qs := q.msg[HeaderLen:q.qEnd]
	if end := HeaderLen + len(qs); end <= cap(w.buf) && &w.buf[:end][HeaderLen] == &qs[0] {
		// Answering in place (the UDP engine writes over the query): the
		// question is already where it goes. Copying it onto itself would
		// also make the label walk below wait on the copy's stores.
		w.buf = w.buf[:end]
	} else {
		w.buf = append(w.buf, qs...)
	}
	// Enter the question's labels, counting in a local (no store per label).
	n := 0
	if q.plainName() {
		// Parse counted the labels of a name without pointers (at most
		// 127 < maxComp): no test for the root or the table's end.
		for off := 0; n < q.labels; n++ {
			w.comp[n&(maxComp-1)] = uint16(HeaderLen + off)
			off += 1 + int(qs[off])
		}
	} else {
		for off := 0; off < len(qs) && qs[off] != 0 && n < maxComp; off += 1 + int(qs[off]) {
			w.comp[n] = uint16(HeaderLen + off)
			n++
		}
	}
	w.ncomp, w.qcomp = n, n
}

// SetRcode sets the response code; values above 15 (BADVERS) go into the
// OPT record's extended RCODE and need EDNS (without it SERVFAIL is sent).
func (w *Writer) SetRcode(rcode int) { w.rcode = rcode }

// Rcode returns the response code set so far.
func (w *Writer) Rcode() int { return w.rcode }

// SetAuthoritative sets or clears AA.
func (w *Writer) SetAuthoritative(aa bool) { w.aa = aa }

// SetECSScope makes the response echo the query's Client Subnet option with
// the given scope prefix length (RFC 7871 §7.2.1). Without a call the option
// is not echoed (a server that did not use ECS must not echo it).
func (w *Writer) SetECSScope(scope uint8) { w.ecs, w.scope = true, scope }

// Truncated reports whether an answer or authority RRset was dropped (TC).
func (w *Writer) Truncated() bool { return w.tc }

// Len returns the size of the message so far, OPT excluded.
func (w *Writer) Len() int { return len(w.buf) }

// Count returns the number of records in a section so far.
func (w *Writer) Count(s Section) int { return int(w.counts[s&3]) }

// Append appends a record with rr's TTL; see AppendTTL.
func (w *Writer) Append(s Section, owner Owner, rr *RR) bool {
	return w.AppendTTL(s, owner, rr, rr.TTL)
}

// AppendTTL appends a record of template rr with the given TTL to section
// s. It reports whether the record was written: false when the message is
// full (the RRset is dropped as described on Writer), when sections are
// appended out of order, or when an offset owner does not point into the
// message.
func (w *Writer) AppendTTL(s Section, owner Owner, rr *RR, ttl uint32) bool {
	if w.full || s < w.sec || s > Additional {
		return false
	}
	if owner.isOff && (int(owner.off) < HeaderLen || int(owner.off) >= len(w.buf)) || !owner.isOff && len(owner.name) == 0 {
		return false
	}
	if owner.isOff && rr.kind == rdataRaw && w.appendAtOffset(s, owner.off, rr, ttl) {
		return true
	}
	w.sec = s
	pos := len(w.buf)
	key, suffix, match := w.ownerKey(owner)
	if key == -2 {
		// The name is about to be written here; the current set's owner
		// lies before pos, so the record starts a new set.
		key = pos
	}
	w.joinSet(s, rr, key, pos)
	var ok bool
	if owner.isOff {
		ok = w.putPointer(int(owner.off))
	} else {
		ok = w.putName(owner.name, suffix, match)
	}
	ok = ok && w.room(10)
	if ok {
		w.buf = binary.BigEndian.AppendUint16(w.buf, rr.Type)
		w.buf = binary.BigEndian.AppendUint16(w.buf, rr.Class)
		w.buf = binary.BigEndian.AppendUint32(w.buf, ttl)
		w.buf = append(w.buf, 0, 0)
		ok = w.putRData(rr)
	}
	if !ok {
		w.buf = w.buf[:w.setStart]
		w.counts[s] -= w.setCount
		w.ncomp = w.setComp
		w.setCount = 0
		w.full = true
		if s != Additional {
			w.tc = true
		}
		return false
	}
	w.counts[s]++
	w.setCount++
	return true
}

// joinSet starts a new RRset at pos unless the record (section s, rr's
// type and class, owner key) continues the current one.
func (w *Writer) joinSet(s Section, rr *RR, key, pos int) {
	if !(s == w.setSec && rr.Type == w.setType && rr.Class == w.setClass && key == w.setOwner && w.setCount > 0) {
		w.setStart, w.setComp, w.setCount = pos, w.ncomp, 0
		w.setSec, w.setType, w.setClass, w.setOwner = s, rr.Type, rr.Class, key
	}
}

// appendAtOffset is AppendTTL's path for the most common record of a
// response: an owner already in the message (one pointer, checked by
// AppendTTL) and RDATA copied as is (A, AAAA, TXT). It writes the record in
// one piece and reports false, having written nothing, when the record
// might not fit; AppendTTL then takes the general path, which applies the
// truncation rules.
func (w *Writer) appendAtOffset(s Section, off uint16, rr *RR, ttl uint32) bool {
	n := 12 + len(rr.rdata)
	if !w.room(n) { // limit <= cap(buf) (Start)
		return false
	}
	pos := len(w.buf)
	w.joinSet(s, rr, int(off), pos)
	w.sec = s
	w.buf = w.buf[:pos+n]
	b := w.buf[pos:]
	if len(rr.rdata) == 4 {
		// An A record is two words: pointer, type, class and the TTL's
		// high half; the TTL's low half, RDLENGTH 4 and the address.
		binary.BigEndian.PutUint64(b, uint64(0xC000|off)<<48|uint64(rr.Type)<<32|uint64(rr.Class)<<16|uint64(ttl>>16))
		binary.BigEndian.PutUint64(b[8:], uint64(ttl&0xFFFF)<<48|4<<32|uint64(binary.BigEndian.Uint32(rr.rdata)))
	} else {
		b[0], b[1] = 0xC0|byte(off>>8), byte(off)
		binary.BigEndian.PutUint16(b[2:], rr.Type)
		binary.BigEndian.PutUint16(b[4:], rr.Class)
		binary.BigEndian.PutUint32(b[6:], ttl)
		binary.BigEndian.PutUint16(b[10:], uint16(len(rr.rdata)))
		copyRData(b[12:], rr.rdata)
	}
	w.counts[s]++
	w.setCount++
	return true
}

func (w *Writer) room(n int) bool { return len(w.buf)+n <= w.limit }

// copyRData copies RDATA, an AAAA's with two word moves instead of a
// call to memmove (appendAtOffset writes an A record's in its own words).
func copyRData(dst, src []byte) {
	if len(src) == 16 {
		binary.LittleEndian.PutUint64(dst, binary.LittleEndian.Uint64(src))
		binary.LittleEndian.PutUint64(dst[8:], binary.LittleEndian.Uint64(src[8:]))
		return
	}
	copy(dst, src)
}

func (w *Writer) putRData(rr *RR) bool {
	lenAt := len(w.buf) - 2
	switch rr.kind {
	case rdataName:
		if !w.putCompressed(rr.rdata) {
			return false
		}
	case rdataSOA:
		if !w.putCompressed(rr.rdata[:rr.name2]) {
			return false
		}
		n2 := rr.rdata[rr.name2:]
		end := len(n2) - 20
		if !w.putCompressed(n2[:end]) || !w.room(20) {
			return false
		}
		w.buf = append(w.buf, n2[end:]...)
	default:
		if !w.room(len(rr.rdata)) {
			return false
		}
		w.buf = append(w.buf, rr.rdata...)
	}
	binary.BigEndian.PutUint16(w.buf[lenAt:], uint16(len(w.buf)-lenAt-2))
	return true
}

// ownerKey identifies an owner name for RRset grouping: the offset of the
// name already in the message that it equals, or -2 for a name not yet in
// the message (never equal to the previous set's key, since that owner is
// in the message). It also returns the compression match for putName.
func (w *Writer) ownerKey(o Owner) (key, suffix, match int) {
	if o.isOff {
		return int(o.off), 0, int(o.off)
	}
	suffix, match = w.findSuffix(o.name)
	if suffix == 0 && match >= 0 {
		return match, suffix, match
	}
	return -2, suffix, match
}

// findSuffix returns the offset in name of the longest suffix (root
// excluded) already present in the message, and its offset in the message;
// match is -1 when there is none.
func (w *Writer) findSuffix(name []byte) (suffix, match int) {
	for i := 0; i < len(name) && name[i] != 0; i += 1 + int(name[i]) {
		for j := 0; j < w.ncomp; j++ {
			e := int(w.comp[j])
			if w.buf[e] == name[i] && equalNameAt(w.buf, e, name[i:]) {
				return i, e
			}
		}
	}
	return len(name), -1
}

func (w *Writer) putCompressed(name []byte) bool {
	suffix, match := w.findSuffix(name)
	return w.putName(name, suffix, match)
}

// putName writes name[:suffix] as labels then a pointer to match, or the
// whole name when match < 0, recording new label offsets for compression.
func (w *Writer) putName(name []byte, suffix, match int) bool {
	n := suffix
	if match < 0 {
		n = len(name)
	}
	if !w.room(n) {
		return false
	}
	base := len(w.buf)
	w.buf = append(w.buf, name[:n]...)
	for i := 0; i < n && name[i] != 0; i += 1 + int(name[i]) {
		if base+i < 0x4000 && w.ncomp < maxComp {
			w.comp[w.ncomp] = uint16(base + i)
			w.ncomp++
		}
	}
	if match >= 0 {
		return w.putPointer(match)
	}
	return true
}

func (w *Writer) putPointer(off int) bool {
	if !w.room(2) {
		return false
	}
	w.buf = append(w.buf, 0xC0|byte(off>>8), byte(off))
	return true
}

// Finish writes the OPT record (when the query had EDNS: our UDP size
// MaxUDPSize, version 0, DO echoed, extended RCODE, the ECS option when
// SetECSScope was called) and the header, and returns the message. It
// returns nil when the buffer could not even hold a header.
func (w *Writer) Finish() []byte {
	if w.limit < HeaderLen {
		return nil
	}
	q := w.q
	rcode := w.rcode
	arcount := w.counts[Additional]
	if q.EDNS {
		ttl := uint32(rcode>>4&0xFF) << 24
		if q.DO {
			ttl |= 1 << 15
		}
		ecs := w.ecs && q.ECS
		size := 11
		if ecs {
			size += 8 + q.ecsBytes
		}
		// Start reserved the room (limit = max - size), so this does not
		// grow the buffer.
		at := len(w.buf)
		w.buf = w.buf[:at+size]
		b := w.buf[at:]
		b[0] = 0
		binary.BigEndian.PutUint16(b[1:], TypeOPT)
		binary.BigEndian.PutUint16(b[3:], MaxUDPSize)
		binary.BigEndian.PutUint32(b[5:], ttl)
		binary.BigEndian.PutUint16(b[9:], uint16(size-11))
		if ecs {
			n := q.ecsBytes
			binary.BigEndian.PutUint16(b[11:], OptionECS)
			binary.BigEndian.PutUint16(b[13:], uint16(4+n))
			binary.BigEndian.PutUint16(b[15:], q.ECSFamily)
			b[17], b[18] = q.ECSSource, w.scope
			// The address as whole words when the buffer has room past
			// the message for them (the bytes beyond n are not sent), else
			// byte by byte.
			var a [16]byte
			if q.ECSFamily == 1 {
				a4 := q.ECSAddr.As4()
				copy(a[:], a4[:])
			} else {
				a = q.ECSAddr.As16()
			}
			if room := w.buf[at+19 : at+19 : cap(w.buf)]; cap(room) >= 16 {
				binary.LittleEndian.PutUint64(room[:8], binary.LittleEndian.Uint64(a[:8]))
				binary.LittleEndian.PutUint64(room[8:16], binary.LittleEndian.Uint64(a[8:]))
			} else {
				copy(b[19:], a[:n])
			}
		}
		arcount++
	} else if rcode > 15 {
		rcode = RcodeServFail
	}
	flags := uint16(flagQR) | uint16(q.Opcode&0xF)<<11 | uint16(rcode&0xF)
	if w.aa {
		flags |= flagAA
	}
	if w.tc {
		flags |= flagTC
	}
	if q.RD {
		flags |= flagRD
	}
	if q.CD {
		flags |= flagCD
	}
	h := w.buf[:HeaderLen]
	binary.BigEndian.PutUint16(h[0:], q.ID)
	binary.BigEndian.PutUint16(h[2:], flags)
	qd := uint16(1)
	if w.noQ {
		qd = 0
	}
	binary.BigEndian.PutUint16(h[4:], qd)
	binary.BigEndian.PutUint16(h[6:], w.counts[Answer])
	binary.BigEndian.PutUint16(h[8:], w.counts[Authority])
	binary.BigEndian.PutUint16(h[10:], arcount)
	return w.buf
}
