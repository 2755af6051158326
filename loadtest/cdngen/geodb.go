package cdngen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// recordKeys keys the records of geo.mmdb by their geoname id (the city's,
// or for a country-only record the country's; city ids start at
// cityIDBase, above every country id), so mmdbwriter deduplicates records
// without serializing and hashing every value it is given (its default).
type recordKeys struct{ buf [4]byte }

const cityIDBase = 10000000

// Key implements mmdbwriter.KeyGenerator.
func (k *recordKeys) Key(v mmdbtype.DataType) ([]byte, error) {
	m, ok := v.(mmdbtype.Map)
	if !ok {
		return nil, fmt.Errorf("cdngen: geo record is a %T, not a map", v)
	}
	place, ok := m["city"].(mmdbtype.Map)
	if !ok {
		place, _ = m["country"].(mmdbtype.Map)
	}
	id, ok := place["geoname_id"].(mmdbtype.Uint32)
	if !ok {
		return nil, errors.New("cdngen: geo record without a geoname_id")
	}
	binary.BigEndian.PutUint32(k.buf[:], uint32(id))
	return k.buf[:], nil
}

var _ mmdbwriter.KeyGenerator = (*recordKeys)(nil)

// cityName and postalCode name city record i.
func cityName(i int) string { return "City " + strconv.Itoa(i) }

func postalCode(i int) string { return fmt.Sprintf("P%06d", i) }

// geoRecords builds the records: one per city (city, postal code, country,
// location), then one country-only "default location" record per country
// (country and its centroid, no city, postal code or subdivisions).
func (p *plan) geoRecords() []mmdbtype.Map {
	recs := make([]mmdbtype.Map, 0, len(p.cities)+len(p.countries))
	countryRec := func(c *country) mmdbtype.Map {
		return mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(c.id),
			"iso_code":   mmdbtype.String(c.code),
			"names":      mmdbtype.Map{"en": mmdbtype.String(c.name)},
		}
	}
	for i := range p.cities {
		ct := &p.cities[i]
		recs = append(recs, mmdbtype.Map{
			"city": mmdbtype.Map{
				"geoname_id": mmdbtype.Uint32(cityIDBase + i),
				"names":      mmdbtype.Map{"en": mmdbtype.String(cityName(i))},
			},
			"country": countryRec(&p.countries[ct.country]),
			"location": mmdbtype.Map{
				"accuracy_radius": mmdbtype.Uint16(20),
				"latitude":        mmdbtype.Float64(ct.lat),
				"longitude":       mmdbtype.Float64(ct.lon),
			},
			"postal": mmdbtype.Map{"code": mmdbtype.String(postalCode(i))},
		})
	}
	for i := range p.countries {
		c := &p.countries[i]
		recs = append(recs, mmdbtype.Map{
			"country": countryRec(c),
			"location": mmdbtype.Map{
				"accuracy_radius": mmdbtype.Uint16(1000),
				"latitude":        mmdbtype.Float64(c.lat),
				"longitude":       mmdbtype.Float64(c.lon),
			},
		})
	}
	return recs
}

// writeGeo writes geo.mmdb, a GeoLite2-City database of the plan's geo
// networks, built with mmdbwriter. The build epoch is Options.Date, so the
// bytes depend on the options only.
func (p *plan) writeGeo(w io.Writer) (int64, error) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		BuildEpoch:              p.o.Date,
		DatabaseType:            "GeoLite2-City",
		Description:             map[string]string{"en": "Signpost synthetic City database (cdngen seed " + strconv.FormatInt(p.o.Seed, 10) + ")"},
		IncludeReservedNetworks: true,
		Languages:               []string{"en"},
		RecordSize:              28,
		KeyGenerator:            &recordKeys{},
	})
	if err != nil {
		return 0, fmt.Errorf("cdngen: geo.mmdb: %w", err)
	}
	recs := p.geoRecords()
	for i, pf := range p.geoNets {
		n := net.IPNet{}
		if pf.v6 {
			n.IP, n.Mask = make(net.IP, 16), net.CIDRMask(int(pf.bits), 128)
			binary.BigEndian.PutUint64(n.IP[:8], pf.addr)
		} else {
			n.IP, n.Mask = make(net.IP, 4), net.CIDRMask(int(pf.bits), 32)
			binary.BigEndian.PutUint32(n.IP, uint32(pf.addr))
		}
		if err := tree.Insert(&n, recs[pf.owner]); err != nil {
			return 0, fmt.Errorf("cdngen: geo.mmdb: network %d (%s): %w", i, pf.Prefix(), err)
		}
	}
	cw := &countingWriter{w: w}
	if _, err := tree.WriteTo(cw); err != nil {
		return cw.n, fmt.Errorf("cdngen: geo.mmdb: %w", err)
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
