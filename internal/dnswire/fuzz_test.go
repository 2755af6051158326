package dnswire

import (
	"reflect"
	"testing"

	"github.com/miekg/dns"
)

// FuzzParse feeds raw bytes to the header gate and parser, then builds a
// response from whatever was accepted or must be replied to. Invariants: no
// panic; when miekg/dns unpacks an accepted message, it sees the same
// question (miekg also decodes the RDATA of additional records, which we
// skip, so it may reject what we accept); every response unpacks, echoes
// the ID, and echoes the question exactly when it carries one.
func FuzzParse(f *testing.F) {
	f.Add(pack(f, query("www.example.com.", dns.TypeA)))
	f.Add(pack(f, withECS(query("a.example.", dns.TypeAAAA), 1232, true, "10.0.0.0/8", "2001:db8::/32")))
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1})
	var q Query
	var w Writer
	buf := make([]byte, 0, MaxUDPSize)
	f.Fuzz(func(t *testing.T, msg []byte) {
		checkReadNamePaths(t, msg, HeaderLen)
		checkParsePaths(t, msg)
		v := q.Parse(msg)
		if v == Drop {
			return
		}
		if v == Accept {
			var m dns.Msg
			if err := m.Unpack(msg); err == nil {
				if len(m.Question) != 1 || string(lowerWire(t, m.Question[0].Name)) != string(q.Name()) {
					t.Fatalf("question mismatch: %v vs %q", m.Question, q.Name())
				}
			}
		}
		w.Start(buf, &q, q.UDPLimit())
		w.SetRcode(q.Rcode)
		out := w.Finish()
		var r dns.Msg
		if err := r.Unpack(out); err != nil {
			t.Fatalf("response does not unpack: %v", err)
		}
		if r.Id != q.ID || !r.Response {
			t.Fatalf("header: %v", r.MsgHdr)
		}
		if q.HasQuestion() && (len(r.Question) != 1 || string(lowerWire(t, r.Question[0].Name)) != string(q.Name())) {
			t.Fatalf("question not echoed: %v", r.Question)
		}
	})
}

// lowerWire packs a miekg presentation name to lower-cased wire form.
func lowerWire(t *testing.T, name string) []byte {
	t.Helper()
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		t.Fatalf("pack %q: %v", name, err)
	}
	buf = buf[:n]
	for i := 0; i < len(buf) && buf[i] != 0; i += 1 + int(buf[i]) {
		for j := i + 1; j <= i+int(buf[i]); j++ {
			buf[j] = lower(buf[j])
		}
	}
	return buf
}

// checkReadNamePaths fails when readName's pointer-free fast path and
// readNameGeneral disagree on the name at off.
func checkReadNamePaths(t *testing.T, msg []byte, off int) {
	t.Helper()
	var a, b [MaxNameLen]byte
	n1, l1, e1, err1 := readName(msg, off, &a)
	n2, l2, e2, err2 := readNameGeneral(msg, off, &b)
	if n1 != n2 || l1 != l2 || e1 != e2 || err1 != err2 || a != b {
		t.Fatalf("readName at %d: fast (%d, %d, %d, %v, %q), general (%d, %d, %d, %v, %q)",
			off, n1, l1, e1, err1, a[:n1], n2, l2, e2, err2, b[:n2])
	}
}

// checkParsePaths fails when parseCommon accepts msg but the general path
// would not, or would fill the Query differently.
func checkParsePaths(t *testing.T, msg []byte) {
	t.Helper()
	var fast, general Query
	// Leftovers of an earlier query must not leak into either result.
	fast.ECS, fast.EDNS, fast.ECSSource, fast.labels, fast.Rcode = true, true, 99, 7, 3
	general = fast
	if !fast.parseCommon(msg) {
		return
	}
	if v := general.parseGeneral(msg); v != Accept {
		t.Fatalf("parseCommon accepted what the general path answers %v (rcode %d): %x", v, general.Rcode, msg)
	}
	fast.name, general.name = [MaxNameLen]byte{}, [MaxNameLen]byte{}
	copy(fast.name[:], fast.Name())
	copy(general.name[:], general.Name())
	if string(fast.msg) != string(general.msg) || &fast.msg[0] != &general.msg[0] {
		t.Fatalf("msg differs")
	}
	fast.msg, general.msg = nil, nil
	if !reflect.DeepEqual(fast, general) {
		t.Fatalf("parseCommon and the general path disagree on %x:\n fast    %+v\n general %+v", msg, fast, general)
	}
}
