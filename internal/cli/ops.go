package cli

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/signpost-cdn/signpost/ops"
)

func runOpsServe(ctx context.Context, args []string, _, stderr io.Writer) int {
	var o ops.ServeOptions
	fs := newFlagSet("ops serve", "--db URL --listen ADDR [--tls-cert FILE --tls-key FILE]", stderr)
	fs.StringVar(&o.DB, "db", "", "PostgreSQL URL (postgres://...)")
	fs.StringVar(&o.Listen, "listen", "", "listen address, e.g. :8443")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "PEM certificate chain (serve HTTPS with --tls-key)")
	fs.StringVar(&o.TLSKey, "tls-key", "", "PEM private key")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if err := required(fs, "db", "listen"); err != nil {
		return usageError(stderr, fs, err)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return usageError(stderr, fs, errors.New("--tls-cert and --tls-key go together"))
	}
	o.Logger = newLogger(stderr)
	if err := ops.Serve(ctx, o); err != nil {
		return fail(stderr, "ops serve", err)
	}
	return 0
}

func runOpsPublish(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o ops.PublishOptions
	fs := newFlagSet("ops publish", "--db URL --cdn NAME [--comment TEXT] DIR", stderr)
	fs.StringVar(&o.DB, "db", "", "PostgreSQL URL")
	fs.StringVar(&o.CDN, "cdn", "", "CDN name")
	fs.StringVar(&o.Comment, "comment", "", "comment recorded with the generation")
	fs.StringVar(&o.Author, "author", os.Getenv("USER"), "author recorded with the generation")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if err := required(fs, "db", "cdn"); err != nil {
		return usageError(stderr, fs, err)
	}
	if fs.NArg() != 1 {
		return usageError(stderr, fs, errors.New("one snapshot directory is required"))
	}
	o.Dir = fs.Arg(0)
	if err := ops.Publish(ctx, o, stdout); err != nil {
		return fail(stderr, "ops publish", err)
	}
	return 0
}

func runOpsHistory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o ops.HistoryOptions
	fs := newFlagSet("ops history", "--db URL --cdn NAME [--limit N]", stderr)
	fs.StringVar(&o.DB, "db", "", "PostgreSQL URL")
	fs.StringVar(&o.CDN, "cdn", "", "CDN name")
	fs.IntVar(&o.Limit, "limit", 20, "newest N generations")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if err := required(fs, "db", "cdn"); err != nil {
		return usageError(stderr, fs, err)
	}
	if err := ops.History(ctx, o, stdout); err != nil {
		return fail(stderr, "ops history", err)
	}
	return 0
}

func runOpsRollback(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o ops.RollbackOptions
	fs := newFlagSet("ops rollback", "--db URL --cdn NAME --to GENERATION", stderr)
	fs.StringVar(&o.DB, "db", "", "PostgreSQL URL")
	fs.StringVar(&o.CDN, "cdn", "", "CDN name")
	fs.Int64Var(&o.To, "to", 0, "generation whose content to restore")
	fs.StringVar(&o.Comment, "comment", "", "comment (default: rollback to generation N)")
	fs.StringVar(&o.Author, "author", os.Getenv("USER"), "author recorded with the generation")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if err := required(fs, "db", "cdn"); err != nil {
		return usageError(stderr, fs, err)
	}
	if o.To <= 0 {
		return usageError(stderr, fs, errors.New("--to GENERATION must be a positive generation number"))
	}
	if err := ops.Rollback(ctx, o, stdout); err != nil {
		return fail(stderr, "ops rollback", err)
	}
	return 0
}

func runOpsUserAdd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o ops.AddUserOptions
	fs := newFlagSet("ops user-add", "--db URL --name NAME --role read|publish [--password-env VAR]", stderr)
	fs.StringVar(&o.DB, "db", "", "PostgreSQL URL")
	fs.StringVar(&o.Name, "name", "", "user name")
	fs.StringVar(&o.Role, "role", "", "read or publish")
	fs.StringVar(&o.PasswordEnv, "password-env", "", "environment variable holding the password (default: first line of stdin)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if err := required(fs, "db", "name", "role"); err != nil {
		return usageError(stderr, fs, err)
	}
	o.Stdin = os.Stdin
	if err := ops.AddUser(ctx, o, stdout); err != nil {
		return fail(stderr, "ops user-add", err)
	}
	return 0
}
