package control

import (
	"strings"
)

// CrStates is one health document from a monitor (spec §2): the
// /publish/CrStates shape, which is also the shape of /publish/CrStates?raw
// (the raw form carries the same keys; extra keys such as status or
// lastPoll are ignored). Immutable once returned.
type CrStates struct {
	Name string
	Hash string
	// Caches in document order.
	Caches []CacheState
	// DeliveryServices in document order.
	DeliveryServices []DSState
	Warnings         []Problem

	cacheIndex map[string]int
	dsIndex    map[string]int
}

// CacheState is the health of one cache. The availability flags default to
// true when the entry exists but a flag is absent.
type CacheState struct {
	ID            string
	IsAvailable   bool
	IPv4Available bool
	IPv6Available bool
	Status        string
}

// DSState is the health of one delivery service. HasDisabledLocations is
// false when the entry carries no disabledLocations key (the previous list
// is then kept, spec §2).
type DSState struct {
	ID                   string
	IsAvailable          bool
	DisabledLocations    []string
	HasDisabledLocations bool
}

// Cache returns the state of a cache, looked up by its id with any "@..."
// suffix removed (spec §2). A missing entry means the cache is unavailable
// for both families once health is authoritative.
func (h *CrStates) Cache(id string) (CacheState, bool) {
	if i := strings.IndexByte(id, '@'); i >= 0 {
		id = id[:i]
	}
	i, ok := h.cacheIndex[id]
	if !ok {
		return CacheState{}, false
	}
	return h.Caches[i], true
}

// DeliveryService returns the state of a delivery service. A missing entry
// means available.
func (h *CrStates) DeliveryService(xmlID string) (DSState, bool) {
	i, ok := h.dsIndex[xmlID]
	if !ok {
		return DSState{}, false
	}
	return h.DeliveryServices[i], true
}

// ParseCrStates decodes and validates a health document. "caches" is
// required; "deliveryServices" is optional.
func ParseCrStates(name string, data []byte) (*CrStates, error) {
	p, root, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	if r := root.get("response"); r != nil && r.kind == kindObject && !root.has("caches") {
		root = r
	}
	h := &CrStates{}
	if root.kind != kindObject {
		p.error("", root.text(), "health must be a JSON object, got "+root.kind.String())
		return nil, p.result()
	}
	if c := root.get("caches"); p.object(c, "caches", true) {
		h.cacheIndex = make(map[string]int, len(c.keys))
		h.Caches = make([]CacheState, 0, len(c.keys))
		each(c, "caches", func(k string, v *node, path string) {
			if !p.object(v, path, true) {
				return
			}
			h.cacheIndex[k] = len(h.Caches)
			h.Caches = append(h.Caches, CacheState{
				ID:            k,
				IsAvailable:   p.boolean(v.get("isAvailable"), field(path, "isAvailable"), true),
				IPv4Available: p.boolean(v.get("ipv4Available"), field(path, "ipv4Available"), true),
				IPv6Available: p.boolean(v.get("ipv6Available"), field(path, "ipv6Available"), true),
				Status:        p.str(v.get("status"), field(path, "status"), ""),
			})
		})
	}
	h.dsIndex = map[string]int{}
	if d := root.get("deliveryServices"); p.object(d, "deliveryServices", false) {
		each(d, "deliveryServices", func(k string, v *node, path string) {
			if !p.object(v, path, true) {
				return
			}
			st := DSState{ID: k, IsAvailable: p.boolean(v.get("isAvailable"), field(path, "isAvailable"), true)}
			if dl := v.get("disabledLocations"); dl != nil {
				st.HasDisabledLocations = true
				st.DisabledLocations = p.strList(dl, field(path, "disabledLocations"))
			}
			h.dsIndex[k] = len(h.DeliveryServices)
			h.DeliveryServices = append(h.DeliveryServices, st)
		})
	}
	if err := p.result(); err != nil {
		return nil, err
	}
	h.Name, h.Hash, h.Warnings = name, ContentHash(data), p.list
	return h, nil
}
