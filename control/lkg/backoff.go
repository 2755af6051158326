package lkg

import (
	"math/rand/v2"
	"time"
)

// Backoff paces the retries of a source that cannot reach its origin:
// exponential from Min to Max with jitter (each wait is uniformly drawn
// from [d/2, d]) so that a fleet of routers does not retry in step.
type Backoff struct {
	Min, Max time.Duration
	cur      time.Duration
}

// Next returns the next wait and doubles the base.
func (b *Backoff) Next() time.Duration {
	if b.Min <= 0 {
		b.Min = 500 * time.Millisecond
	}
	if b.Max < b.Min {
		b.Max = max(30*time.Second, b.Min)
	}
	if b.cur < b.Min {
		b.cur = b.Min
	}
	d := b.cur
	b.cur = min(b.cur*2, b.Max)
	half := d / 2
	return half + rand.N(d-half+1)
}

// Reset starts over from Min (after a success).
func (b *Backoff) Reset() { b.cur = 0 }
