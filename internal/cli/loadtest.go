package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/signpost-cdn/signpost/loadtest/cdngen"
)

// runLoadtestGen is `signpost loadtest gen --out DIR [--scale NAME | counts]`.
func runLoadtestGen(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("loadtest gen", "--out DIR [--seed N] [--scale small|medium|large] [--delivery-services N --caches N --cache-groups N ...]", stderr)
	out := fs.String("out", "", "directory to write the snapshot directory and client populations to")
	scale := fs.String("scale", "small", "preset: small, medium or large")
	seed := fs.Int64("seed", 1, "random seed (same seed and options: byte-identical files)")
	dss := fs.Int("delivery-services", 0, "number of delivery services (overrides the preset)")
	caches := fs.Int("caches", 0, "number of caches (overrides the preset)")
	groups := fs.Int("cache-groups", 0, "number of cache groups (overrides the preset)")
	czPrefixes := fs.Int("coverage-zone-prefixes", 0, "number of coverage zone prefixes (overrides the preset)")
	geoNets := fs.Int("geo-networks", 0, "number of MaxMind networks (overrides the preset)")
	steering := fs.Int("steering-services", -1, "number of steering delivery services (overrides the preset)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *out == "" {
		return usageError(stderr, fs, errors.New("--out DIR is required"))
	}
	o, err := cdngen.Scale(*scale)
	if err != nil {
		return usageError(stderr, fs, err)
	}
	o.Seed = *seed
	for _, ov := range []struct {
		dst *int
		v   int
	}{{&o.DeliveryServices, *dss}, {&o.Caches, *caches}, {&o.CacheGroups, *groups}, {&o.CoverageZonePrefixes, *czPrefixes}, {&o.GeoNetworks, *geoNets}} {
		if ov.v > 0 {
			*ov.dst = ov.v
		}
	}
	if *steering >= 0 {
		o.SteeringServices = *steering
	}
	sum, err := cdngen.Write(*out, o)
	if err != nil {
		return fail(stderr, "loadtest gen", err)
	}
	fmt.Fprintln(stdout, sum.String())
	return 0
}
