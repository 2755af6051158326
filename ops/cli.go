package ops

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/errgroup"

	"github.com/signpost-cdn/signpost/ops/store"
)

// ServeOptions are the flags of `ops serve`.
type ServeOptions struct {
	DB      string // --db: PostgreSQL URL
	Listen  string // --listen: address, e.g. :8443
	TLSCert string // --tls-cert: PEM certificate chain (with TLSKey: serve HTTPS)
	TLSKey  string // --tls-key: PEM private key
	Logger  *slog.Logger
	// OnListen, when set, is called with the bound address once listening.
	OnListen func(net.Addr)
}

// Serve runs the ops API server until ctx ends: it migrates the database,
// loads every CDN, follows publishes and serves HTTP (HTTPS with a
// certificate and key).
func Serve(ctx context.Context, opts ServeOptions) error {
	if (opts.TLSCert == "") != (opts.TLSKey == "") {
		return errors.New("ops serve: --tls-cert and --tls-key go together")
	}
	if opts.Listen == "" {
		return errors.New("ops serve: --listen is required")
	}
	var tlsCfg *tls.Config
	if opts.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
		if err != nil {
			return fmt.Errorf("ops serve: TLS: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	st, err := store.Open(ctx, opts.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := NewServer(Config{Store: st, Logger: opts.Logger, SecureCookies: tlsCfg != nil})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("ops serve: %w", err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       10 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(srv.log.Handler(), slog.LevelWarn),
	}
	if opts.OnListen != nil {
		opts.OnListen(ln.Addr())
	}
	srv.log.Info("ops: serving", "addr", ln.Addr().String(), "tls", tlsCfg != nil)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Run(gctx) })
	g.Go(func() error {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("ops serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	})
	return g.Wait()
}

// PublishOptions are the flags of `ops publish`.
type PublishOptions struct {
	DB      string // --db
	CDN     string // --cdn
	Dir     string // the snapshot directory
	Author  string // recorded with the generation; default $USER
	Comment string // --comment
}

// Publish validates the dataset files of a snapshot directory and stores
// them as a new generation of the CDN, printing what changed versus the
// previous generation. An invalid directory prints every problem and stores
// nothing (the returned error is a *ValidationError).
func Publish(ctx context.Context, opts PublishOptions, out io.Writer) error {
	raw, skipped, err := ReadDir(opts.Dir)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, opts.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, s := range skipped {
		fmt.Fprintln(out, "skipped "+s)
	}
	res, err := publishFiles(ctx, st, opts.CDN, raw, author(opts.Author), opts.Comment)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			fmt.Fprintf(out, "refused: %d problems, nothing stored\n", len(ve.Problems))
			for _, p := range ve.Problems {
				fmt.Fprintln(out, "  "+p.String())
			}
		}
		return err
	}
	return res.Write(out)
}

// HistoryOptions are the flags of `ops history`.
type HistoryOptions struct {
	DB    string // --db
	CDN   string // --cdn
	Limit int    // --limit: newest N generations (default 20)
}

// History prints the CDN's generations, newest first, each with what it
// changed versus the generation before it.
func History(ctx context.Context, opts HistoryOptions, out io.Writer) error {
	st, err := store.Open(ctx, opts.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	if opts.Limit <= 0 {
		opts.Limit = 20
	}
	gens, err := st.History(ctx, opts.CDN, opts.Limit)
	if errors.Is(err, store.ErrNotFound) {
		return &InputError{Msg: fmt.Sprintf("ops history: CDN %q has no generations", opts.CDN)}
	}
	if err != nil {
		return err
	}
	for _, g := range gens {
		line := fmt.Sprintf("generation %d  %s  by %q", g.Number, g.CreatedAt.UTC().Format(time.RFC3339), g.Author)
		if g.RollbackOf > 0 {
			line += fmt.Sprintf("  rollback to %d", g.RollbackOf)
		}
		if g.Comment != "" {
			line += fmt.Sprintf("  %q", g.Comment)
		}
		d, err := generationDiff(ctx, st, g)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(out, "%s\n  %s\n", line, d.Summary()); err != nil {
			return err
		}
	}
	return nil
}

// RollbackOptions are the flags of `ops rollback`.
type RollbackOptions struct {
	DB      string // --db
	CDN     string // --cdn
	To      int64  // --to: the generation whose content to restore
	Author  string // default $USER
	Comment string // default "rollback to generation N"
}

// Rollback publishes a new generation whose files equal those of generation
// To, printing what changed versus the current one.
func Rollback(ctx context.Context, opts RollbackOptions, out io.Writer) error {
	st, err := store.Open(ctx, opts.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := rollbackTo(ctx, st, opts.CDN, opts.To, author(opts.Author), opts.Comment)
	if err != nil {
		return err
	}
	return res.Write(out)
}

// AddUserOptions are the flags of `ops user add`.
type AddUserOptions struct {
	DB   string // --db
	Name string // --name
	Role string // --role: read or publish
	// PasswordEnv names an environment variable holding the password; when
	// empty or unset the first line of Stdin is the password.
	PasswordEnv string
	Stdin       io.Reader
	// BcryptCost is the bcrypt work factor; 0 means bcrypt.DefaultCost.
	BcryptCost int
}

// AddUser creates the user (or replaces its password and role, ending its
// sessions) with a bcrypt hash of the password.
func AddUser(ctx context.Context, opts AddUserOptions, out io.Writer) error {
	if err := CheckName("user name", opts.Name, MaxUserNameLen); err != nil {
		return err
	}
	if opts.Role != store.RoleRead && opts.Role != store.RolePublish {
		return &InputError{Msg: fmt.Sprintf("--role: want read or publish, got %q", opts.Role)}
	}
	pw, err := readPassword(opts)
	if err != nil {
		return err
	}
	cost := opts.BcryptCost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return fmt.Errorf("ops user add: %w", err)
	}
	st, err := store.Open(ctx, opts.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	created, err := st.PutUser(ctx, opts.Name, string(hash), opts.Role)
	if err != nil {
		return err
	}
	verb := "updated (sessions ended)"
	if created {
		verb = "created"
	}
	_, err = fmt.Fprintf(out, "user %q %s with role %s\n", opts.Name, verb, opts.Role)
	return err
}

func readPassword(opts AddUserOptions) (string, error) {
	var pw string
	if opts.PasswordEnv != "" {
		pw = os.Getenv(opts.PasswordEnv)
	}
	if pw == "" {
		if opts.Stdin == nil {
			return "", &InputError{Msg: "password: set the environment variable named by PasswordEnv or give it on stdin"}
		}
		line, err := bufio.NewReader(opts.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	switch {
	case len(pw) < 8:
		return "", &InputError{Msg: fmt.Sprintf("password: %d bytes; at least 8 are required", len(pw))}
	case len(pw) > 72:
		return "", &InputError{Msg: fmt.Sprintf("password: %d bytes; bcrypt uses at most 72", len(pw))}
	}
	return pw, nil
}

func author(a string) string {
	if a != "" {
		return a
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "cli"
}
