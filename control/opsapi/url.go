package opsapi

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/signpost-cdn/signpost/control/lkg"
)

// Environment variables holding the ops API credentials when neither the
// URL nor a credentials file gives them.
const (
	EnvUser     = "SIGNPOST_OPS_USER"
	EnvPassword = "SIGNPOST_OPS_PASSWORD"
)

// ParamCDN is the source URL parameter naming the CDN.
const ParamCDN = "cdn"

// ParseSource turns a --source URL into Options:
// https://[user:password@]host[:port][/prefix]?cdn=NAME. The credentials
// come from the URL, else from credentialsFile ("user:password" on its
// first line), else from the environment (EnvUser, EnvPassword) read with
// getenv (nil: no environment). Errors never include the password.
func ParseSource(raw, credentialsFile string, getenv func(string) string) (Options, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Options{}, fmt.Errorf("ops API source %s: not a URL", lkg.RedactURL(raw))
	}
	var problems []string
	if u.Scheme != "http" && u.Scheme != "https" {
		problems = append(problems, "scheme must be https:// (or http://)")
	}
	if u.Host == "" {
		problems = append(problems, "host missing")
	}
	q := u.Query()
	cdn := q.Get(ParamCDN)
	switch {
	case len(q[ParamCDN]) > 1:
		problems = append(problems, "cdn given more than once")
	case cdn == "":
		problems = append(problems, "the CDN name is required: add ?cdn=NAME")
	}
	var unknown []string
	for k := range q {
		if k != ParamCDN {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		problems = append(problems, fmt.Sprintf("unknown parameter %q (only cdn)", k))
	}
	if u.Fragment != "" {
		problems = append(problems, "fragment not allowed")
	}
	if len(problems) > 0 {
		return Options{}, fmt.Errorf("ops API source %s: %s", lkg.RedactURL(raw), strings.Join(problems, "; "))
	}
	opts := Options{CDN: cdn}
	if u.User != nil {
		opts.Username = u.User.Username()
		opts.Password, _ = u.User.Password()
	}
	switch {
	case u.User != nil:
	case credentialsFile != "":
		if opts.Username, opts.Password, err = lkg.ReadCredentials(credentialsFile); err != nil {
			return Options{}, err
		}
	case getenv != nil:
		opts.Username, opts.Password = getenv(EnvUser), getenv(EnvPassword)
	}
	base := url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimSuffix(u.Path, "/")}
	opts.URL = base.String()
	return opts, nil
}
