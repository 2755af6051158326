package control

import "strconv"

// Supersedes decides whether s replaces prev (reliability §3.1 invariant 5,
// Traffic Router issue 6072). A snapshot is identified by the sha256 of its
// bytes: the same hash is a no-op (false). Any changed content is accepted,
// whatever its stats.date: Traffic Router ignores a snapshot whose date did
// not increase and so loses changes published within the same second or
// after a clock step; Signpost never rejects on the date alone. When the
// date did not increase the reason says so and the caller logs it as a
// warning. reason is always a short human-readable explanation.
func (s *Snapshot) Supersedes(prev *Snapshot) (ok bool, reason string) {
	switch {
	case prev == nil:
		return true, "first snapshot"
	case s.Hash == prev.Hash:
		return false, "unchanged (same sha256)"
	case s.Stats.Date > prev.Stats.Date:
		return true, "newer stats.date " + strconv.FormatInt(s.Stats.Date, 10)
	case s.Stats.Date == prev.Stats.Date:
		return true, "content changed but stats.date did not increase (" + strconv.FormatInt(s.Stats.Date, 10) + "); accepted"
	default:
		return true, "stats.date went backwards (" + strconv.FormatInt(prev.Stats.Date, 10) + " -> " + strconv.FormatInt(s.Stats.Date, 10) + "); accepted as a rollback"
	}
}

// DateAnomaly reports whether accepting s over prev is the unusual case
// (changed content without a newer stats.date) that should be logged as a
// warning.
func (s *Snapshot) DateAnomaly(prev *Snapshot) bool {
	return prev != nil && s.Hash != prev.Hash && s.Stats.Date <= prev.Stats.Date
}
