// Package geo answers the geographic questions of the data plane: where a
// client address is (MaxMind GeoIP2/GeoLite2 City databases), whether it is
// an anonymising network (MaxMind GeoIP2 Anonymous IP databases), how far
// apart two points are (Traffic Router's great-circle formula) and which
// point a geo miss or a country-centroid answer falls back to.
//
// # Loading
//
// [LoadCity] and [LoadAnonymous] take the bytes of an .mmdb file and the
// file's name (used in every error). They check the database type in the
// metadata, walk the whole search tree once and decode every distinct data
// record into an immutable table keyed by the record's offset in the data
// section. A lookup afterwards only walks the search tree (done by
// github.com/oschwald/maxminddb-golang/v2) and indexes the table: no
// decoding, no allocation. The returned values are immutable and safe for
// concurrent use; a reload builds a new value and the caller swaps a pointer.
//
// # Addresses
//
// IPv4 addresses are looked up as IPv4 whether given plain (1.2.3.4) or
// IPv4-mapped (::ffff:1.2.3.4). MaxMind databases are IPv6 trees with the
// IPv4 space at ::/96; an IPv6 address inside ::/96 (::1.2.3.4) reaches the
// same records. Zones are ignored.
package geo
