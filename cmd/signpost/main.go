// Command signpost is a CDN request router compatible with Apache Traffic
// Control's Traffic Router. Everything lives in testable packages; see
// internal/cli for the command line.
package main

import (
	"os"

	"github.com/signpost-cdn/signpost/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
