package router

import (
	"net/netip"
	"testing"

	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/router/routertest"
)

// TestAnonymousVectors holds spec 15.5 (AnonymousIpTest) against the
// fixture's policy and MaxMind's Anonymous IP test database.
func TestAnonymousVectors(t *testing.T) {
	set := routertest.LoadSet(t, fixture.DefaultDir(t))
	b := NewAnonymousBlockerFrom(set.AnonymousPolicy, set.AnonymousIP)
	if b == nil {
		t.Fatal("no anonymous IP data in the fixture")
	}
	// Traffic Router's vectors whose answer does not depend on its own
	// (unpublished) test database, then the same decisions on MaxMind's
	// GeoIP2-Anonymous-IP-Test records.
	for _, tc := range []struct {
		ip    string
		block bool
	}{
		{"5.34.32.79", false},      // ip4Whitelist
		{"10.0.0.1", false},        // not in the database
		{"10.0.2.1", false},        // ip4Whitelist
		{"192.168.0.1", false},     // not in the database
		{"2001:418::1", false},     // not in the database
		{"2001:550:90a::1", false}, // ip6Whitelist
		{"::1", false},             // ip6Whitelist
		{"1.2.0.1", true},          // anonymous VPN
		{"1.124.213.1", true},      // VPN and Tor
		{"65.0.0.1", false},        // Tor only: blockTorExitNode is false
		{"71.160.223.1", true},     // hosting provider
		{"186.30.236.1", true},     // public proxy
		{"6.1.0.4", false},         // residential proxy: not a policy category
		{"2001:480:3a::1", true},   // public proxy, IPv6
		{"abcd:1000::1", true},     // public proxy, IPv6
		{"::ffff:1.2.0.1", true},   // mapped IPv4 is IPv4
	} {
		if got := b.Blocked(netip.MustParseAddr(tc.ip)); got != tc.block {
			t.Errorf("%s: blocked %v, want %v", tc.ip, got, tc.block)
		}
	}
	// The whitelist wins over the database.
	pol := *set.AnonymousPolicy
	pol.IP4Whitelist = append(pol.IP4Whitelist, netip.MustParsePrefix("1.2.0.0/16"))
	if NewAnonymousBlockerFrom(&pol, set.AnonymousIP).Blocked(netip.MustParseAddr("1.2.0.1")) {
		t.Error("whitelisted 1.2.0.1 blocked")
	}
	if b.RedirectURL() != "http://youvebeenblocked.com" {
		t.Errorf("redirect %q", b.RedirectURL())
	}
	var nilB *AnonymousBlocker
	if nilB.Blocked(netip.MustParseAddr("2.38.158.142")) || nilB.RedirectURL() != "" {
		t.Error("nil blocker blocks")
	}
	// The fixture has no delivery service with anonymousBlockingEnabled:
	// the feature is off for the set.
	if NewAnonymousBlocker(set) != nil {
		t.Log("fixture enables anonymous blocking")
	}
}
