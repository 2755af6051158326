package cdngen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/signpost-cdn/signpost/control"
)

// Summary describes what Write or Generate produced.
type Summary struct {
	// Dir is the directory written ("" for Generate).
	Dir string
	// Options are the options used, derived defaults filled in.
	Options Options

	DeliveryServices       int
	HTTPDeliveryServices   int // HTTP, not steering
	HTTPSDeliveryServices  int // HTTP accepting HTTPS
	DNSDeliveryServices    int
	SteeringServices       int // STEERING and CLIENT_STEERING
	ClientSteeringServices int
	Caches                 int
	UnavailableCaches      int
	CacheGroups            int
	// Assignments counts cache to delivery service assignments.
	Assignments          int
	Routers              int
	CoverageZonePrefixes int
	CoverageZonePrefix6  int
	DeepZones            int
	GeoNetworks          int
	GeoNetworks6         int
	GeoRecords           int
	Federations          int

	CoverageZoneClients, DeepClients, GeoClients, MissClients, FederationClients int

	// Files lists every file written with its size, in writing order.
	Files []FileInfo
	// Elapsed is the wall time of the whole generation.
	Elapsed time.Duration
}

// FileInfo is one generated file.
type FileInfo struct {
	Name  string
	Bytes int64
}

// Bytes is the total size of the files.
func (s *Summary) Bytes() int64 {
	var n int64
	for _, f := range s.Files {
		n += f.Bytes
	}
	return n
}

// sink receives the generated files one at a time.
type sink interface {
	// file calls write with a writer for the named file and records it.
	file(name string, write func(io.Writer) (int64, error)) error
}

// Write generates a synthetic CDN into dir (created if needed): the snapshot
// files named in ARCHITECTURE.md (crconfig.json, crstates.json, czmap.json,
// dczmap.json, steering.json, federations.json, geo.mmdb, sslkeys.json),
// clients.json and loadtest-ca.pem.
// Each file is written to a temporary name and renamed into place,
// crconfig.json last, so a directory watcher never reads a partial file.
func Write(dir string, o Options) (*Summary, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cdngen: %w", err)
	}
	s, err := generate(&dirSink{dir: dir}, o)
	if s != nil {
		s.Dir = dir
	}
	return s, err
}

// Generate returns the files Write would write, byte for byte, keyed by
// file name, without touching the disk.
func Generate(o Options) (map[string][]byte, error) {
	ms := &memSink{files: map[string][]byte{}}
	if _, err := generate(ms, o); err != nil {
		return nil, err
	}
	return ms.files, nil
}

func generate(sk sink, o Options) (*Summary, error) {
	start := time.Now()
	o, err := o.normalize()
	if err != nil {
		return nil, err
	}
	p := newPlan(o)
	if p.err != nil {
		return nil, p.err
	}
	s := p.summary()
	var cc clientCounts
	steps := []struct {
		name  string
		write func(io.Writer) (int64, error)
	}{
		{control.FileHealth, p.writeCrStates},
		{control.FileCoverageZones, p.writeCZMap},
		{control.FileDeepCoverageZones, p.writeDCZMap},
		{control.FileSteering, p.writeSteering},
		{control.FileFederations, p.writeFederations},
		{control.FileGeo, p.writeGeo},
		{control.FileTLSKeys, p.writeTLSKeys},
		{FileCA, p.writeCA},
		{FileClients, func(w io.Writer) (n int64, err error) {
			cc, n, err = p.writeClients(w)
			return n, err
		}},
		{control.FileSnapshot, func(w io.Writer) (n int64, err error) {
			s.Assignments, n, err = p.writeCrConfig(w)
			return n, err
		}},
	}
	for _, st := range steps {
		var size int64
		err := sk.file(st.name, func(w io.Writer) (int64, error) {
			n, err := st.write(w)
			size = n
			return n, err
		})
		if err != nil {
			return nil, err
		}
		s.Files = append(s.Files, FileInfo{Name: st.name, Bytes: size})
	}
	s.CoverageZoneClients, s.DeepClients, s.GeoClients = cc.cz, cc.deep, cc.geo
	s.MissClients, s.FederationClients = cc.miss, cc.fed
	s.Elapsed = time.Since(start)
	return s, nil
}

func (p *plan) summary() *Summary {
	s := &Summary{
		Options:          p.o,
		DeliveryServices: len(p.ds),
		Caches:           p.o.Caches,
		CacheGroups:      p.o.CacheGroups,
		Routers:          p.o.Routers,
		DeepZones:        len(p.deep),
		GeoNetworks:      len(p.geoNets),
		GeoRecords:       len(p.cities) + len(p.countries),
		Federations:      len(p.feds),
	}
	for i := range p.ds {
		switch d := &p.ds[i]; d.kind {
		case kindHTTP:
			s.HTTPDeliveryServices++
			if d.https != httpOnly {
				s.HTTPSDeliveryServices++
			}
		case kindDNS:
			s.DNSDeliveryServices++
		case kindClientSteering:
			s.ClientSteeringServices++
			s.SteeringServices++
		default:
			s.SteeringServices++
		}
	}
	for _, d := range p.down {
		if d {
			s.UnavailableCaches++
		}
	}
	s.CoverageZonePrefixes = len(p.cz)
	for _, pf := range p.cz {
		if pf.v6 {
			s.CoverageZonePrefix6++
		}
	}
	for _, pf := range p.geoNets {
		if pf.v6 {
			s.GeoNetworks6++
		}
	}
	return s
}

// dirSink writes files into a directory through a temporary name.
type dirSink struct{ dir string }

func (d *dirSink) file(name string, write func(io.Writer) (int64, error)) error {
	final := filepath.Join(d.dir, name)
	tmp := filepath.Join(d.dir, "."+name+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("cdngen: %w", err)
	}
	_, werr := write(f)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("cdngen: writing %s: %w", final, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("cdngen: %w", err)
	}
	return nil
}

// memSink keeps files in memory.
type memSink struct{ files map[string][]byte }

func (m *memSink) file(name string, write func(io.Writer) (int64, error)) error {
	var b bytes.Buffer
	if _, err := write(&b); err != nil {
		return fmt.Errorf("cdngen: generating %s: %w", name, err)
	}
	m.files[name] = b.Bytes()
	return nil
}

// String renders the summary for people: counts, then one line per file.
func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d, domain %s, %v\n", s.Options.Seed, s.Options.Domain, s.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "delivery services %d: HTTP %d (HTTPS %d), DNS %d, steering %d (client %d)\n",
		s.DeliveryServices, s.HTTPDeliveryServices, s.HTTPSDeliveryServices, s.DNSDeliveryServices,
		s.SteeringServices, s.ClientSteeringServices)
	fmt.Fprintf(&b, "caches %d (%d unavailable) in %d cache groups, %d assignments, %d routers\n",
		s.Caches, s.UnavailableCaches, s.CacheGroups, s.Assignments, s.Routers)
	fmt.Fprintf(&b, "coverage zone prefixes %d (%d IPv6), deep zones %d, geo networks %d (%d IPv6) with %d records, federations %d\n",
		s.CoverageZonePrefixes, s.CoverageZonePrefix6, s.DeepZones, s.GeoNetworks, s.GeoNetworks6, s.GeoRecords, s.Federations)
	fmt.Fprintf(&b, "clients: coverage zone %d, deep %d, geo only %d, miss %d, federation %d\n",
		s.CoverageZoneClients, s.DeepClients, s.GeoClients, s.MissClients, s.FederationClients)
	for _, f := range s.Files {
		fmt.Fprintf(&b, "  %-22s %12d bytes\n", f.Name, f.Bytes)
	}
	return b.String()
}
