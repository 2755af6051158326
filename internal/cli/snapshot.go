package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/signpost-cdn/signpost/control"
)

// runSnapshotValidate is `signpost snapshot validate PATH`: it checks a
// snapshot directory or a single dataset file and prints OK or every
// problem. Exit status 1 when any problem is an error.
func runSnapshotValidate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("snapshot validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: signpost snapshot validate PATH")
		fmt.Fprintln(stderr, "  PATH is a snapshot directory or one of its files (crconfig.json, czmap.json, ...).")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	path := fs.Arg(0)
	problems, err := control.ValidatePath(path)
	errors, warnings := 0, 0
	for _, p := range problems {
		if p.Warning {
			warnings++
		} else {
			errors++
		}
		fmt.Fprintln(stdout, p.String())
	}
	if err != nil && errors == 0 {
		fmt.Fprintf(stderr, "signpost: %v\n", err)
		return 1
	}
	if errors > 0 {
		fmt.Fprintf(stdout, "%s: INVALID (%d errors, %d warnings)\n", path, errors, warnings)
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK (%d warnings)\n", path, warnings)
	return 0
}
