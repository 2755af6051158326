package control

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/signpost-cdn/signpost/czf"
	"github.com/signpost-cdn/signpost/geo"
)

// File names of a snapshot directory (ARCHITECTURE.md). Only FileSnapshot
// is required.
const (
	FileSnapshot          = "crconfig.json"
	FileHealth            = "crstates.json"
	FileCoverageZones     = "czmap.json"
	FileDeepCoverageZones = "dczmap.json"
	FileGeo               = "geo.mmdb"
	FileAnonymousIP       = "anonymous-ip.mmdb"
	FileAnonymousPolicy   = "anonymous-ip.json"
	FileRegionalGeoblock  = "regional-geoblock.json"
	FileSteering          = "steering.json"
	FileFederations       = "federations.json"
	FileDNSSECKeys        = "dnsseckeys.json"
	FileTLSKeys           = "sslkeys.json"
)

// Files returns every known file name, crconfig.json first.
func Files() []string {
	return []string{FileSnapshot, FileHealth, FileCoverageZones, FileDeepCoverageZones, FileGeo,
		FileAnonymousIP, FileAnonymousPolicy, FileRegionalGeoblock, FileSteering, FileFederations,
		FileDNSSECKeys, FileTLSKeys}
}

// KnownFile reports whether name is one of Files().
func KnownFile(name string) bool { return indexOf(Files(), name) >= 0 }

// Dataset is one decoded, validated file: its bytes, their hash and the
// typed value (*Snapshot, *CrStates, *czf.Table, *geo.City, *geo.Anonymous,
// *Steering, *Federations, *AnonymousPolicy, *RegionalGeoblock, *TLSKeys,
// or []byte for dnsseckeys.json, kept raw).
type Dataset struct {
	File     string
	Data     []byte
	Hash     string
	Value    any
	Warnings []Problem
}

// ParseFile decodes and validates one file of a snapshot directory by its
// name (one of Files()). The error is a *ValidationError listing every
// problem.
func ParseFile(file string, data []byte) (Dataset, error) {
	d := Dataset{File: file, Data: data, Hash: ContentHash(data)}
	var err error
	switch file {
	case FileSnapshot:
		var s *Snapshot
		if s, err = ParseSnapshot(file, data); err == nil {
			d.Value, d.Warnings = s, s.Warnings
		}
	case FileHealth:
		var h *CrStates
		if h, err = ParseCrStates(file, data); err == nil {
			d.Value, d.Warnings = h, h.Warnings
		}
	case FileSteering:
		var s *Steering
		if s, err = ParseSteering(file, data); err == nil {
			d.Value, d.Warnings = s, s.Warnings
		}
	case FileFederations:
		var f *Federations
		if f, err = ParseFederations(file, data); err == nil {
			d.Value, d.Warnings = f, f.Warnings
		}
	case FileCoverageZones, FileDeepCoverageZones:
		parse := czf.Parse
		if file == FileDeepCoverageZones {
			parse = czf.ParseDeep
		}
		var t *czf.Table
		if t, err = parse(file, data); err == nil {
			d.Value = t
			for _, w := range t.Warnings() {
				d.Warnings = append(d.Warnings, Problem{File: file, Message: strings.TrimPrefix(w, file+": "), Warning: true})
			}
		} else {
			err = fromCZF(file, err)
		}
	case FileGeo:
		var c *geo.City
		if c, err = geo.LoadCity(file, data); err == nil {
			d.Value = c
		} else {
			err = single(file, err)
		}
	case FileAnonymousIP:
		var a *geo.Anonymous
		if a, err = geo.LoadAnonymous(file, data); err == nil {
			d.Value = a
		} else {
			err = single(file, err)
		}
	case FileAnonymousPolicy:
		var a *AnonymousPolicy
		if a, err = ParseAnonymousPolicy(file, data); err == nil {
			d.Value, d.Warnings = a, a.Warnings
		}
	case FileRegionalGeoblock:
		var r *RegionalGeoblock
		if r, err = ParseRegionalGeoblock(file, data); err == nil {
			d.Value, d.Warnings = r, r.Warnings
		}
	case FileTLSKeys:
		var k *TLSKeys
		if k, err = ParseTLSKeys(file, data); err == nil {
			d.Value, d.Warnings = k, k.Warnings
		}
	case FileDNSSECKeys:
		if _, perr := parseTree(data); perr != nil {
			err = single(file, perr)
		} else {
			d.Value = data
		}
	default:
		err = single(file, errors.New("unknown file name (want one of "+strings.Join(Files(), ", ")+")"))
	}
	if err != nil {
		return Dataset{}, err
	}
	return d, nil
}

func single(file string, err error) error {
	return &ValidationError{Problems: []Problem{{File: file, Message: strings.TrimPrefix(err.Error(), file+": ")}}}
}

func fromCZF(file string, err error) error {
	var ce *czf.Error
	if !errors.As(err, &ce) {
		return single(file, err)
	}
	ve := &ValidationError{}
	for _, p := range ce.Problems {
		ve.Problems = append(ve.Problems, Problem{File: file, Path: p.Path, Message: p.Msg})
	}
	return ve
}

// Assemble builds a Set from the accepted datasets by file name. The
// snapshot dataset must be present.
func Assemble(datasets map[string]Dataset, generation uint64, loaded time.Time) *Set {
	s := &Set{Generation: generation, Loaded: loaded, Hashes: make(map[string]string, len(datasets))}
	for name, d := range datasets {
		s.Hashes[name] = d.Hash
		switch v := d.Value.(type) {
		case *Snapshot:
			s.Snapshot = v
		case *CrStates:
			s.Health = v
		case *czf.Table:
			if name == FileDeepCoverageZones {
				s.DeepCoverageZones = v
			} else {
				s.CoverageZones = v
			}
		case *geo.City:
			s.Geo = v
		case *geo.Anonymous:
			s.AnonymousIP = v
		case *Steering:
			s.Steering = v
		case *Federations:
			s.Federations = v
		case *AnonymousPolicy:
			s.AnonymousPolicy = v
		case *RegionalGeoblock:
			s.RegionalGeoblock = v
		case *TLSKeys:
			s.TLSKeys = v
		case []byte:
			if name == FileDNSSECKeys {
				s.DNSSECKeys = v
			}
		}
	}
	return s
}

// ContentHash identifies a dataset version: the hex sha256 of its bytes.
func ContentHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
