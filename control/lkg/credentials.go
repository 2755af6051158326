package lkg

import (
	"fmt"
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
