// Package cli is signpost's command line: it parses arguments and calls one
// function per subcommand. It holds no routing, monitoring or storage logic.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand. run returns the process exit code.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands lists every subcommand. Names with a space are two-word commands
// ("snapshot validate").
func commands() map[string]command {
	return map[string]command{
		"route":             {"serve DNS and HTTP routing for a CDN snapshot", runRoute},
		"snapshot validate": {"check a snapshot directory or file and print every problem", runSnapshotValidate},
		"loadtest gen":      {"write a synthetic CDN snapshot directory and client populations", runLoadtestGen},
		"loadtest run":      {"drive DNS and HTTP load at a router and check every answer", runLoadtestRun},
		"loadtest serve":    {"web page to run load tests against a router and watch the results", runLoadtestServe},
		"monitor":           {"poll caches, judge health, serve CrStates to routers", runMonitor},
		"ops serve":         {"serve a Traffic Ops compatible API over PostgreSQL", runOpsServe},
		"ops publish":       {"validate a snapshot directory and publish it as a new generation", runOpsPublish},
		"ops history":       {"list a CDN's generations and what each changed", runOpsHistory},
		"ops rollback":      {"publish an old generation's content as a new generation", runOpsRollback},
		"ops user-add":      {"add or update an ops API user (read or publish role)", runOpsUserAdd},
	}
}

// Main runs the command line and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, stdout, stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		return 0
	}
	if len(args) >= 2 {
		if c, ok := cmds[args[0]+" "+args[1]]; ok {
			return c.run(ctx, args[2:], stdout, stderr)
		}
	}
	if c, ok := cmds[args[0]]; ok {
		return c.run(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "signpost: unknown command %q\n\n", strings.Join(args[:min(2, len(args))], " "))
	usage(stderr, cmds)
	return 2
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: signpost <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-20s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'signpost <command> -h' for the flags of a command. See docs/ for details.")
}
