package dnsload

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Main is the dnsload command: `dnsload --out DIR [flags]` writes the
// benchmark inputs (see the package comment) and prints what it wrote. It
// returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	o := Defaults()
	fs := flag.NewFlagSet("dnsload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory to write the snapshot, peer configurations and query files to")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed (same seed and sizes: byte-identical files)")
	fs.IntVar(&o.Prefixes, "prefixes", o.Prefixes, "coverage zone /24s")
	fs.IntVar(&o.Groups, "groups", o.Groups, "cache groups (gdnsd datacenters)")
	fs.IntVar(&o.StaticNames, "static-names", o.StaticNames, "h<i> names in the static zone")
	fs.IntVar(&o.MixQueries, "mix-queries", o.MixQueries, "lines of queries-mix.txt")
	fs.IntVar(&o.ECSQueries, "ecs-queries", o.ECSQueries, "messages in queries-ecs.bin")
	fs.BoolVar(&o.EdgeDNSRouting, "edge-dns-routing", o.EdgeDNSRouting, "set edge.dns.routing in crconfig.json")
	fs.IntVar(&o.KnotPort, "knot-port", o.KnotPort, "loopback port of the Knot DNS configuration")
	fs.IntVar(&o.GdnsdPort, "gdnsd-port", o.GdnsdPort, "loopback port of the gdnsd configuration")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: dnsload --out DIR [flags]")
		fs.PrintDefaults()
		return 2
	}
	names, err := Write(*out, o)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "dnsload: %d /24s over %d groups, %d static names; wrote %s\n",
		o.Prefixes, o.Groups, o.StaticNames, strings.Join(names, " "))
	return 0
}
