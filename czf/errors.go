package czf

import (
	"strconv"
	"strings"
)

// Problem is one thing wrong with a coverage zone file: where (the JSON path
// inside the file) and what (a message that quotes the offending value).
type Problem struct {
	// Path is the JSON path of the offending value, for example
	// `coverageZones["cg1"].network[3]`. It is empty for problems with the
	// document as a whole (invalid JSON at the top level, trailing data).
	Path string
	// Msg says what is wrong and quotes the value, for example
	// `invalid CIDR "10.0.0.0/40": mask longer than 32`.
	Msg string
}

// maxErrorLines bounds how many problems Error.Error prints; Problems keeps
// them all.
const maxErrorLines = 50

// Error rejects a whole coverage zone file. It lists every problem found, in
// document order (parsing stops at the first JSON syntax error, which is then
// the last problem).
type Error struct {
	// File is the name given to Parse or ParseDeep.
	File string
	// Problems holds every problem, at least one.
	Problems []Problem
}

// Error returns one line per problem, "file: path: message", for at most
// the first 50 problems followed by a count of the rest.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i == maxErrorLines {
			b.WriteString("\n")
			b.WriteString(e.File)
			b.WriteString(": ... and ")
			b.WriteString(strconv.Itoa(len(e.Problems) - maxErrorLines))
			b.WriteString(" more problems")
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.line(e.File))
	}
	return b.String()
}

func (p Problem) line(file string) string {
	if p.Path == "" {
		return file + ": " + p.Msg
	}
	return file + ": " + p.Path + ": " + p.Msg
}
