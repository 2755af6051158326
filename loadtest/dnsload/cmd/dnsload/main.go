// Command dnsload writes the inputs of `make bench-dns`; see package
// github.com/signpost-cdn/signpost/loadtest/dnsload.
package main

import (
	"os"

	"github.com/signpost-cdn/signpost/loadtest/dnsload"
)

func main() { os.Exit(dnsload.Main(os.Args[1:], os.Stdout, os.Stderr)) }
