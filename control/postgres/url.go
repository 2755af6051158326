package postgres

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/signpost-cdn/signpost/control/lkg"
)

// Source URL parameters read by this package; they are removed before the
// URL reaches pgx (which would send unknown parameters to the server as
// run-time settings).
const (
	ParamCDN  = "cdn"
	ParamMode = "mode"
)

// ParseSource turns a --source URL (postgres://user:pass@host/db?cdn=NAME
// [&mode=signpost|trafficops] plus any pgx parameters) into Options. A
// credentials file ("user:password" on its first line), when given,
// supplies the user and password; otherwise the URL's, or pgx's own
// PGUSER/PGPASSWORD/.pgpass, apply.
func ParseSource(raw, credentialsFile string) (Options, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Options{}, fmt.Errorf("postgres source %s: %w", lkg.RedactURL(raw), errors.Unwrap(err))
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return Options{}, fmt.Errorf("postgres source %s: scheme must be postgres:// or postgresql://", lkg.RedactURL(raw))
	}
	q := u.Query()
	opts := Options{CDN: q.Get(ParamCDN), Mode: Mode(q.Get(ParamMode))}
	var problems []string
	if len(q[ParamCDN]) > 1 || len(q[ParamMode]) > 1 {
		problems = append(problems, "cdn and mode may each be given once")
	}
	if opts.CDN == "" {
		problems = append(problems, "the CDN name is required: add ?cdn=NAME")
	}
	switch opts.Mode {
	case "", ModeSignpost, ModeTrafficOps:
	default:
		problems = append(problems, fmt.Sprintf("mode %q: want %s or %s", opts.Mode, ModeSignpost, ModeTrafficOps))
	}
	if len(problems) > 0 {
		return Options{}, fmt.Errorf("postgres source %s: %s", lkg.RedactURL(raw), strings.Join(problems, "; "))
	}
	q.Del(ParamCDN)
	q.Del(ParamMode)
	u.RawQuery = q.Encode()
	opts.URL = u.String()
	if credentialsFile != "" {
		user, pass, err := lkg.ReadCredentials(credentialsFile)
		if err != nil {
			return Options{}, err
		}
		opts.Username, opts.Password = user, pass
	}
	return opts, nil
}

// redactErr removes the password from an error's text (pgx errors can
// quote the connection string).
func redactErr(err error, opts Options) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, secret := range []string{opts.Password, urlPassword(opts.URL)} {
		if len(secret) >= 3 && strings.Contains(msg, secret) {
			msg = strings.ReplaceAll(msg, secret, "***")
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

func urlPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}
