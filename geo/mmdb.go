package geo

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Metadata describes a loaded database, for logs and the API.
type Metadata struct {
	// File is the name the database was loaded under.
	File string
	// DatabaseType is the metadata database_type, e.g. "GeoIP2-City".
	DatabaseType string
	// Description is the English metadata description ("" when absent).
	Description string
	// BuildEpoch is the build time in Unix seconds (metadata build_epoch).
	BuildEpoch int64
	// IPVersion is 6 for IPv6 trees (with IPv4 at ::/96) or 4.
	IPVersion int
	// RecordSize is the search tree record size in bits (24, 28 or 32).
	RecordSize int
	// NodeCount is the number of nodes in the search tree.
	NodeCount int
	// Records is the number of distinct data records referenced by the tree.
	Records int
	// Entries is the number of distinct answers kept after decoding (records
	// that decode to the same answer share one entry).
	Entries int
}

// BuildTime returns BuildEpoch as a time in UTC.
func (m Metadata) BuildTime() time.Time { return time.Unix(m.BuildEpoch, 0).UTC() }

// maxProblems bounds how many record problems a load error lists in full.
const maxProblems = 10

// noEntry marks a data record that yields no answer (for example a City
// record without coordinates).
const noEntry = ^uint32(0)

// metadataMarker starts the metadata section of a MaxMind DB file.
var metadataMarker = []byte("\xab\xcd\xefMaxMind.com")

// dataSeparator is the size of the zero block between tree and data section.
const dataSeparator = 16

// openDB opens data as a MaxMind DB and checks its database type with
// accept. kind names what was expected ("City", "Anonymous IP") and want
// lists the accepted types for the error message.
func openDB(name string, data []byte, kind, want string, accept func(string) bool) (*maxminddb.Reader, Metadata, error) {
	if len(data) == 0 {
		return nil, Metadata{}, fmt.Errorf("%s: empty file, want a MaxMind %s database", name, kind)
	}
	if !bytes.Contains(data, metadataMarker) {
		return nil, Metadata{}, fmt.Errorf("%s: not a MaxMind DB file (no metadata section marker; truncated or not an .mmdb file, %d bytes)", name, len(data))
	}
	db, err := maxminddb.OpenBytes(data)
	if err != nil {
		return nil, Metadata{}, fmt.Errorf("%s: invalid MaxMind DB file: %w", name, err)
	}
	m := db.Metadata
	md := Metadata{
		File:         name,
		DatabaseType: m.DatabaseType,
		Description:  m.Description["en"],
		BuildEpoch:   int64(m.BuildEpoch),
		IPVersion:    int(m.IPVersion),
		RecordSize:   int(m.RecordSize),
		NodeCount:    int(m.NodeCount),
	}
	if !accept(m.DatabaseType) {
		return nil, Metadata{}, fmt.Errorf("%s: database type %q is not a MaxMind %s database (want %s)", name, m.DatabaseType, kind, want)
	}
	if m.IPVersion != 4 && m.IPVersion != 6 {
		return nil, Metadata{}, fmt.Errorf("%s: metadata ip_version %d, want 4 or 6", name, m.IPVersion)
	}
	return db, md, nil
}

// isCityType accepts the City family: GeoIP2-City (and its regional
// editions GeoIP2-City-*), GeoLite2-City, and GeoIP2-Enterprise, whose
// records are a superset of City records.
func isCityType(t string) bool {
	return t == "GeoIP2-City" || t == "GeoLite2-City" || t == "GeoIP2-Enterprise" ||
		strings.HasPrefix(t, "GeoIP2-City-")
}

const cityTypes = `"GeoIP2-City", "GeoIP2-City-*", "GeoLite2-City" or "GeoIP2-Enterprise"`

// isAnonymousType accepts the GeoIP2 Anonymous IP database.
func isAnonymousType(t string) bool { return t == "GeoIP2-Anonymous-IP" }

const anonymousTypes = `"GeoIP2-Anonymous-IP"`

// tree reads the search tree of a MaxMind DB directly from its bytes. The
// library walks the tree for lookups; this walker exists for loading, to
// find every data record in time linear in the node count even when a
// hostile file shares subtrees (the library's network iterator would
// enumerate every path of such a graph).
type tree struct {
	buf        []byte
	nodeCount  uint64
	recordSize uint64
	dataSize   uint64
	bits       int // 128 for IPv6 trees, 32 for IPv4 trees
}

func newTree(data []byte, md Metadata) (tree, error) {
	t := tree{buf: data, nodeCount: uint64(md.NodeCount), recordSize: uint64(md.RecordSize), bits: 128}
	if md.IPVersion == 4 {
		t.bits = 32
	}
	switch t.recordSize {
	case 24, 28, 32:
	default:
		return tree{}, fmt.Errorf("metadata record_size %d, want 24, 28 or 32", t.recordSize)
	}
	treeSize := t.nodeCount * t.recordSize / 4
	metaStart := bytes.LastIndex(data, metadataMarker)
	if metaStart < 0 || uint64(metaStart) < treeSize+dataSeparator {
		return tree{}, fmt.Errorf("search tree of %d nodes (%d bytes) does not fit before the metadata at byte %d", t.nodeCount, treeSize, metaStart)
	}
	t.dataSize = uint64(metaStart) - treeSize - dataSeparator
	return t, nil
}

// children returns the left and right records of node n (n < nodeCount).
func (t tree) children(n uint64) (left, right uint64) {
	b := t.buf[n*t.recordSize/4:]
	switch t.recordSize {
	case 24:
		left = uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2])
		right = uint64(b[3])<<16 | uint64(b[4])<<8 | uint64(b[5])
	case 28:
		left = uint64(b[3]&0xf0)<<20 | uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2])
		right = uint64(b[3]&0x0f)<<24 | uint64(b[4])<<16 | uint64(b[5])<<8 | uint64(b[6])
	default:
		left = uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
		right = uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
	}
	return left, right
}

// walkFrame is one pending record of the tree walk: the value of a search
// tree record reached after depth bits of ip.
type walkFrame struct {
	rec   uint64
	depth int
	ip    [16]byte
}

// walk calls visit once for every distinct data-section offset reachable
// from the root, in address order, with the first network found leading to
// it. It expands each node at most once per shorter depth it is reached at,
// so its cost is bounded by 128 times the node count even for shared
// subtrees, and it follows everything a lookup can reach.
func (t tree) walk(visit func(off uint32, network netip.Prefix) error) error {
	if t.nodeCount == 0 {
		return nil
	}
	const unseen = 0xff
	depthOf := make([]uint8, t.nodeCount)
	for i := range depthOf {
		depthOf[i] = unseen
	}
	stack := []walkFrame{{rec: 0}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch {
		case f.rec < t.nodeCount:
			if f.depth >= t.bits {
				return fmt.Errorf("corrupt search tree: node %d under %s continues past bit %d", f.rec, t.prefix(f.ip, f.depth), t.bits)
			}
			if int(depthOf[f.rec]) <= f.depth {
				continue // expanded already from as high or higher up
			}
			depthOf[f.rec] = uint8(f.depth)
			left, right := t.children(f.rec)
			r := walkFrame{rec: right, depth: f.depth + 1, ip: f.ip}
			r.ip[f.depth/8] |= 0x80 >> (f.depth % 8)
			// Right first so that the left one is popped first.
			stack = append(stack, r, walkFrame{rec: left, depth: f.depth + 1, ip: f.ip})
		case f.rec == t.nodeCount:
			// no data for this network
		default:
			off := f.rec - t.nodeCount - dataSeparator
			if f.rec < t.nodeCount+dataSeparator || off >= t.dataSize {
				return fmt.Errorf("corrupt search tree: %s points to %d, outside the data section (%d bytes)", t.prefix(f.ip, f.depth), f.rec, t.dataSize)
			}
			if err := visit(uint32(off), t.prefix(f.ip, f.depth)); err != nil {
				return err
			}
		}
	}
	return nil
}

// prefix renders a walked network; IPv4 networks of an IPv6 tree (inside
// ::/96) are shown as IPv4.
func (t tree) prefix(ip [16]byte, bits int) netip.Prefix {
	if t.bits == 32 {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte(ip[:4])), bits)
	}
	a := netip.AddrFrom16(ip)
	if bits >= 96 && netip.MustParsePrefix("::/96").Contains(a) {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte(ip[12:])), bits-96)
	}
	return netip.PrefixFrom(a, bits)
}

// problems collects record problems for one load error: all are counted,
// the first maxProblems are listed.
type problems struct {
	name  string
	list  []error
	count int
}

func (p *problems) add(network netip.Prefix, off uint32, format string, args ...any) {
	p.count++
	if len(p.list) < maxProblems {
		p.list = append(p.list, fmt.Errorf("%s: record at data offset %d (network %s): %s", p.name, off, network, fmt.Sprintf(format, args...)))
	}
}

func (p *problems) err() error {
	if p.count == 0 {
		return nil
	}
	errs := p.list
	if p.count > len(p.list) {
		errs = append(errs, fmt.Errorf("%s: %d more bad records not listed", p.name, p.count-len(p.list)))
	}
	return errors.Join(errs...)
}

// stringPool numbers distinct strings; index 0 is "".
type stringPool struct {
	index map[string]uint32
	list  []string
}

func newStringPool() *stringPool {
	return &stringPool{index: map[string]uint32{"": 0}, list: []string{""}}
}

func (p *stringPool) id(s string) uint32 {
	if i, ok := p.index[s]; ok {
		return i
	}
	i := uint32(len(p.list))
	p.index[s] = i
	p.list = append(p.list, s)
	return i
}
