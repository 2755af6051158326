package router

import (
	"fmt"

	"github.com/signpost-cdn/signpost/steering"
)

// buildSteering compiles the set's steering registry against the table's
// delivery services (the build hook of steering). Cross-check findings are
// warnings, logged once per build; a weight above steering.MaxWeight fails
// the build (the previous table keeps serving).
func (t *Table) buildSteering(b *Builder) error {
	var src = t.Set.Steering
	st, err := steering.Compile(src, len(t.ds), func(xmlID string) (int32, bool) {
		i, ok := t.dsIndex[xmlID]
		return i, ok
	}, b.points.Get)
	if err != nil {
		return fmt.Errorf("router: build: steering: %w", err)
	}
	for _, w := range st.Warnings() {
		b.log.Warn("steering: "+w.Message, "file", w.File, "path", w.Path, "value", w.Value, "generation", t.Generation)
	}
	t.steering = st
	return nil
}

// Steering returns the steering registry compiled for the table (never
// nil; without steering.json it has no entries).
func (t *Table) Steering() *steering.Table { return t.steering }

// SteeringEntry returns the steering entry of ds, or nil when ds is not a
// steering delivery service.
func (t *Table) SteeringEntry(ds *DeliveryService) *steering.Entry {
	if ds == nil {
		return nil
	}
	return t.steering.Entry(ds.Index)
}

// SteeringTarget returns the delivery service a STEERING service sends the
// request to (spec 8.3), without routing it: the X-TC-Steering-Option
// target when option is non-empty (nil when it names no target), else the
// target of the first matching filter, else the target the weighted ring
// picks with the steering service's consistent-hash string and dispersion.
// For a delivery service that is not steering it returns ds. The
// steering service's consistentHashRegex is not copied onto the target
// (quirk 9 fixed).
func (t *Table) SteeringTarget(ds *DeliveryService, req *Request, option []byte, sc *Scratch) (*DeliveryService, error) {
	e := t.SteeringEntry(ds)
	if e == nil {
		return ds, nil
	}
	if len(option) > 0 {
		if k := e.TargetByName(option); k >= 0 {
			return &t.ds[e.Targets[k].DS], nil
		}
		return nil, nil
	}
	if k := e.FilterTarget(req.Path); k >= 0 {
		return &t.ds[e.Targets[k].DS], nil
	}
	hs, err := t.appendHashString(sc, ds, req)
	if err != nil {
		return nil, err
	}
	sc.idx = e.AppendSelect(sc.idx[:0], t.mode.HashBytes(hs), ds.dispersion)
	if len(sc.idx) == 0 {
		return nil, nil
	}
	return &t.ds[e.Targets[sc.idx[0]].DS], nil
}

// GeoRedirectURLType is Traffic Router's geoRedirectUrlType of the
// delivery service as the /crs API reports it: "DS_URL", "NOT_DS_URL",
// "INVALID_URL", or "" without a geoLimitRedirectURL.
func (ds *DeliveryService) GeoRedirectURLType() string {
	switch ds.geoRedirect {
	case geoRedirectDSURL:
		return "DS_URL"
	case geoRedirectNotDSURL:
		return "NOT_DS_URL"
	case geoRedirectInvalid:
		return "INVALID_URL"
	}
	return ""
}
