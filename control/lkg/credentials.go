package lkg

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// ReadCredentials reads "user:password" from the first line of a file (the
// --source-credentials file of the network sources). The password may
// contain colons; surrounding whitespace is trimmed. Errors never quote
// the file's content.
func ReadCredentials(path string) (user, password string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("credentials file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	user, password, ok := strings.Cut(strings.TrimSpace(line), ":")
	if !ok || user == "" {
		return "", "", fmt.Errorf("credentials file %s: first line must be user:password", path)
	}
	return user, password, nil
}

// RedactURL returns the source URL raw with its password replaced by "***"
// (and a password= parameter likewise), for messages and logs of the
// network sources.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// Cut anything between "://" and "@" rather than risk printing it.
		if i, j := strings.Index(raw, "://"), strings.LastIndexByte(raw, '@'); i >= 0 && j > i {
			return raw[:i+3] + "***" + raw[j:]
		}
		return "(unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "***")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "***")
		u.RawQuery = q.Encode()
	}
	return strings.Replace(u.String(), "%2A%2A%2A", "***", -1)
}
