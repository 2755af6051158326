// Command dnsuth runs the closed loop of Traffic Control's Ultimate Test
// Harness against a DNS server and reports the rate against Traffic
// Router's floors; see dnsload.UTHMain.
package main

import (
	"os"

	"github.com/signpost-cdn/signpost/loadtest/dnsload"
)

func main() { os.Exit(dnsload.UTHMain(os.Args[1:], os.Stdout, os.Stderr)) }
