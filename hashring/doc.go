// Package hashring orders candidates for a request string the way Traffic
// Router's ConsistentHasher does (spec §5), bit for bit in MD5 mode, and with
// the same algorithm over xxhash in XXHash mode.
//
// Every candidate (a cache, an edge Traffic Router, a steering target) owns a
// sorted set of points on the real line (Points, computed once per hashId
// and count by a PointCache). A request string maps to one point h;
// candidates are ordered by the distance from h to their nearest own point,
// with Traffic Router's ulp "bump" for equal distances and its head/tail
// placement of candidates without points (zero-weight steering targets).
//
// A Ring is built once per candidate set when a routing table is compiled.
// It merges the points of all members into one sorted array, so the first k
// candidates cost a binary search plus a short outward walk instead of one
// binary search per candidate. Availability is a predicate evaluated during
// the walk: unavailable members are not candidates at all (spec §5.8), and
// the result equals Traffic Router's ordering over the filtered list.
//
// The package knows nothing about caches; members are indices.
package hashring
