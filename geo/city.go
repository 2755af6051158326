package geo

import (
	"fmt"
	"math"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// Location is the answer of a City lookup: the fields Traffic Router reads
// from a MaxMind City record (spec §4.5).
type Location struct {
	// Latitude and Longitude in degrees (location.latitude/longitude).
	Latitude, Longitude float64
	// CountryCode is country.iso_code, CountryName country.names.en.
	CountryCode, CountryName string
	// City is city.names.en, PostalCode postal.code ("" when absent).
	City, PostalCode string
	// IsDefault is Traffic Router's isDefaultLocation: the record has no
	// city name, no postal code and no subdivisions, i.e. the coordinates
	// are a country centroid. The router applies maxmindDefaultOverride to
	// such answers (see ApplyDefaultOverride).
	IsDefault bool
}

// City answers City lookups from a GeoIP2-City or GeoLite2-City database.
// It is immutable after LoadCity and safe for concurrent use.
type City struct {
	db        *maxminddb.Reader
	v4Only    bool
	index     map[uint32]uint32 // data-section offset -> entries index, or noEntry
	entries   []cityEntry
	countries []country
	strs      []string
	meta      Metadata
}

// cityEntry is the compact form of a Location kept in the table.
type cityEntry struct {
	lat, lon  float64
	country   uint32 // index into City.countries
	city      uint32 // index into City.strs
	postal    uint32 // index into City.strs
	isDefault bool
}

type country struct{ code, name string }

// optFloat decodes a float and remembers that it was present.
type optFloat struct {
	v  float64
	ok bool
}

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler.
func (f *optFloat) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	v, next, err := c.ReadFloat()
	if err != nil {
		return mmdbdata.Cursor{}, mmdbdata.NormalizeUnmarshalError[optFloat](err)
	}
	f.v, f.ok = v, true
	return next, nil
}

var _ mmdbdata.CursorUnmarshaler = (*optFloat)(nil)

// cityRecord is the part of a City record that Traffic Router reads.
type cityRecord struct {
	City struct {
		Names struct {
			En string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"city"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
		Names   struct {
			En string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"country"`
	Location struct {
		Latitude  optFloat `maxminddb:"latitude"`
		Longitude optFloat `maxminddb:"longitude"`
	} `maxminddb:"location"`
	Postal struct {
		Code string `maxminddb:"code"`
	} `maxminddb:"postal"`
	Subdivisions []struct{} `maxminddb:"subdivisions"`
}

// LoadCity loads a MaxMind City database (GeoIP2-City, its regional
// editions, GeoLite2-City, or GeoIP2-Enterprise) from data. name is the
// file name used in errors. Every record is decoded here, so a lookup does
// no decoding; a record that cannot be decoded, or has coordinates that are
// not finite or out of range, rejects the database (the error lists the
// first few bad records and counts the rest). Records without both
// latitude and longitude are kept as misses, as Traffic Router treats them.
//
// The City keeps data: the caller must not modify it afterwards.
func LoadCity(name string, data []byte) (*City, error) {
	db, md, err := openDB(name, data, "City", cityTypes, isCityType)
	if err != nil {
		return nil, err
	}
	t, err := newTree(data, md)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &City{db: db, v4Only: md.IPVersion == 4, index: make(map[uint32]uint32)}
	strs := newStringPool()
	countries := map[country]uint32{}
	dedup := map[cityEntry]uint32{}
	probs := problems{name: name}
	var rec cityRecord
	err = t.walk(func(off uint32, network netip.Prefix) error {
		if _, seen := c.index[off]; seen {
			return nil
		}
		rec = cityRecord{}
		if err := db.LookupOffset(uintptr(off)).Decode(&rec); err != nil {
			probs.add(network, off, "%v", err)
			c.index[off] = noEntry
			return nil
		}
		lat, lon := rec.Location.Latitude, rec.Location.Longitude
		if !lat.ok || !lon.ok {
			c.index[off] = noEntry
			return nil
		}
		if !validCoordinates(lat.v, lon.v) {
			probs.add(network, off, "location (%v, %v) is not a valid latitude/longitude", lat.v, lon.v)
			c.index[off] = noEntry
			return nil
		}
		co := country{code: rec.Country.ISOCode, name: rec.Country.Names.En}
		ci, ok := countries[co]
		if !ok {
			ci = uint32(len(c.countries))
			countries[co] = ci
			c.countries = append(c.countries, co)
		}
		e := cityEntry{
			lat:     lat.v,
			lon:     lon.v,
			country: ci,
			city:    strs.id(rec.City.Names.En),
			postal:  strs.id(rec.Postal.Code),
			isDefault: rec.City.Names.En == "" && rec.Postal.Code == "" &&
				len(rec.Subdivisions) == 0,
		}
		i, ok := dedup[e]
		if !ok {
			i = uint32(len(c.entries))
			dedup[e] = i
			c.entries = append(c.entries, e)
		}
		c.index[off] = i
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	// Give the country names and codes one shared copy each.
	for i, co := range c.countries {
		c.countries[i] = country{code: strs.list[strs.id(co.code)], name: strs.list[strs.id(co.name)]}
	}
	c.strs = strs.list
	md.Records = len(c.index)
	md.Entries = len(c.entries)
	c.meta = md
	return c, nil
}

func validCoordinates(lat, lon float64) bool {
	return !math.IsNaN(lat) && !math.IsNaN(lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180
}

// Lookup returns the location of a. ok is false when the database has no
// record for a, when the record has no coordinates (spec §4.5), or when a
// is not a valid address. It does not allocate.
func (c *City) Lookup(a netip.Addr) (loc Location, ok bool) {
	i, ok := lookupIndex(c.db, c.index, c.v4Only, a)
	if !ok {
		return Location{}, false
	}
	e := &c.entries[i]
	co := &c.countries[e.country]
	return Location{
		Latitude:    e.lat,
		Longitude:   e.lon,
		CountryCode: co.code,
		CountryName: co.name,
		City:        c.strs[e.city],
		PostalCode:  c.strs[e.postal],
		IsDefault:   e.isDefault,
	}, true
}

// Metadata returns the database metadata and load statistics.
func (c *City) Metadata() Metadata { return c.meta }

// lookupIndex walks the search tree for a and maps the data record found to
// its table index.
func lookupIndex(db *maxminddb.Reader, index map[uint32]uint32, v4Only bool, a netip.Addr) (uint32, bool) {
	a = a.Unmap()
	if !a.IsValid() || (v4Only && !a.Is4()) {
		// The library formats an error (and allocates) for IPv6 in an
		// IPv4-only tree; such an address has no answer anyway.
		return 0, false
	}
	res := db.Lookup(a)
	if !res.Found() {
		return 0, false
	}
	off := res.Offset()
	if off > math.MaxUint32 {
		return 0, false
	}
	i, ok := index[uint32(off)]
	if !ok || i == noEntry {
		return 0, false
	}
	return i, true
}
