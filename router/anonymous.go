package router

import (
	"net/netip"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/geo"
)

// AnonymousBlocker applies the anonymous IP blocking policy (spec 4.10) to
// clients of delivery services with anonymousBlockingEnabled. It is
// immutable and safe for concurrent use.
type AnonymousBlocker struct {
	policy *control.AnonymousPolicy
	db     *geo.Anonymous
}

// NewAnonymousBlocker returns the blocker of a dataset set, or nil when the
// feature is off: no anonymous-ip.json policy, no anonymous-ip.mmdb
// database, or no delivery service with anonymousBlockingEnabled. (Traffic
// Router also requires the two polling URLs in the snapshot config; with
// Signpost the source delivers the files, so their presence decides.)
func NewAnonymousBlocker(set *control.Set) *AnonymousBlocker {
	if set == nil || set.AnonymousPolicy == nil || set.AnonymousIP == nil || set.Snapshot == nil {
		return nil
	}
	for i := range set.Snapshot.DeliveryServices {
		if set.Snapshot.DeliveryServices[i].AnonymousBlockingEnabled {
			return &AnonymousBlocker{policy: set.AnonymousPolicy, db: set.AnonymousIP}
		}
	}
	return nil
}

// NewAnonymousBlockerFrom builds a blocker from a policy and a database
// directly (either nil gives nil).
func NewAnonymousBlockerFrom(policy *control.AnonymousPolicy, db *geo.Anonymous) *AnonymousBlocker {
	if policy == nil || db == nil {
		return nil
	}
	return &AnonymousBlocker{policy: policy, db: db}
}

// Blocked reports whether the client is blocked: not whitelisted (the
// IPv6 list for IPv6 clients), found in the database, and flagged with a
// category the policy blocks. A nil blocker blocks nothing.
func (b *AnonymousBlocker) Blocked(client netip.Addr) bool {
	if b == nil {
		return false
	}
	client = client.Unmap()
	list := b.policy.IP4Whitelist
	if client.Is6() {
		list = b.policy.IP6Whitelist
	}
	for _, p := range list {
		if p.Contains(client) {
			return false
		}
	}
	f, ok := b.db.Lookup(client)
	if !ok {
		return false
	}
	p := b.policy
	return (p.BlockAnonymousVPN && f.IsAnonymousVPN) || (p.BlockHostingProvider && f.IsHostingProvider) ||
		(p.BlockPublicProxy && f.IsPublicProxy) || (p.BlockTorExitNode && f.IsTorExitNode)
}

// RedirectURL is where blocked clients are redirected (302); "" means they
// are refused with 403.
func (b *AnonymousBlocker) RedirectURL() string {
	if b == nil {
		return ""
	}
	return b.policy.RedirectURL
}
