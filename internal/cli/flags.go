package cli

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// newFlagSet returns a flag set that prints its usage line and defaults to
// stderr and returns errors instead of exiting.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: signpost %s %s\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and reports an exit code when the caller must
// stop (2 for bad usage, 0 for -h).
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

// required reports the named flags that are empty.
func required(fs *flag.FlagSet, names ...string) error {
	var missing []string
	for _, n := range names {
		if f := fs.Lookup(n); f != nil && f.Value.String() == "" {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing required flag(s): %s", strings.Join(missing, ", "))
	}
	return nil
}

// newLogger returns the process logger: text to stderr at the level named
// by SIGNPOST_LOG_LEVEL (debug, info, warn, error; default info).
func newLogger(stderr io.Writer) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(os.Getenv("SIGNPOST_LOG_LEVEL"))); err != nil {
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
}

// fail prints an error for the command and returns exit code 1.
func fail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "signpost %s: %v\n", cmd, err)
	return 1
}

// usageError prints a usage problem and returns exit code 2.
func usageError(stderr io.Writer, fs *flag.FlagSet, err error) int {
	fmt.Fprintf(stderr, "signpost %s: %v\n", fs.Name(), err)
	fs.Usage()
	return 2
}
