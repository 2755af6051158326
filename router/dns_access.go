package router

import "github.com/signpost-cdn/signpost/hashring"

// HashMode returns the consistent-hash mode the table was built with; the
// DNS server orders edge Traffic Routers with it (spec 4.9).
func (t *Table) HashMode() hashring.Mode { return t.mode }
