package control

import (
	"strconv"
	"strings"
)

// Problem is one finding of decoding or validation. File is the file name
// given to the parser, Path a JSON path into it (deliveryServices["foo"].matchsets[0]),
// Value the offending value as text ("" when the value is missing) and
// Message what is wrong. Warning problems do not reject the dataset; they are
// kept on the accepted value so the loader can log them.
type Problem struct {
	File    string
	Path    string
	Value   string
	Message string
	Warning bool
}

// String renders the problem as "file: path: message" ("file: path: warning: message"
// for warnings).
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Path != "" {
		b.WriteString(": ")
		b.WriteString(p.Path)
	}
	b.WriteString(": ")
	if p.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError rejects a dataset. Problems lists every error found (and
// the warnings found alongside them), in document order.
type ValidationError struct {
	Problems []Problem
}

// Error renders one line per problem.
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Errors returns the problems that are not warnings.
func (e *ValidationError) Errors() []Problem {
	var out []Problem
	for _, p := range e.Problems {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// problems collects findings for one file.
type problems struct {
	file string
	list []Problem
	errs int
}

const maxValueLen = 120

// shorten bounds a value quoted in a message.
func shorten(v string) string {
	if len(v) <= maxValueLen {
		return v
	}
	return v[:maxValueLen] + "..."
}

func (p *problems) add(warning bool, path, value, msg string) {
	if !warning {
		p.errs++
	}
	p.list = append(p.list, Problem{File: p.file, Path: path, Value: shorten(value), Message: msg, Warning: warning})
}

// errorf records an error. msg is used verbatim.
func (p *problems) error(path, value, msg string) { p.add(false, path, value, msg) }

// warn records a warning.
func (p *problems) warn(path, value, msg string) { p.add(true, path, value, msg) }

// warnings returns only the warnings.
func (p *problems) warnings() []Problem {
	var out []Problem
	for _, q := range p.list {
		if q.Warning {
			out = append(out, q)
		}
	}
	return out
}

// result returns nil when no error was recorded, else a *ValidationError
// holding every problem.
func (p *problems) result() error {
	if p.errs == 0 {
		return nil
	}
	return &ValidationError{Problems: p.list}
}

// q quotes a value for a message.
func q(s string) string { return strconv.Quote(shorten(s)) }

// isIdent reports whether a key can be written as .key in a path.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// field appends a schema field name to a path.
func field(path, name string) string {
	if isIdent(name) {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	return path + "[" + strconv.Quote(name) + "]"
}

// key appends a user-chosen map key (an xml_id, a host name) to a path.
func key(path, k string) string { return path + "[" + strconv.Quote(k) + "]" }

// index appends an array index to a path.
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// indexFirst records key at position n unless it is already indexed: the
// first entry for a key wins, a repeat is a warning ("<what> "key"
// repeated; the first entry is used").
func (p *problems) indexFirst(index map[string]int, key string, n int, path, what string) {
	if _, dup := index[key]; dup {
		p.warn(path, key, what+" "+q(key)+" repeated; the first entry is used")
		return
	}
	index[key] = n
}
