package ops

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/ops/store"
)

// File names of the datasets a generation holds (the snapshot-directory
// names of docs/ARCHITECTURE.md, plus monitoring.json).
const (
	FileSnapshot         = "crconfig.json"
	FileMonitoring       = "monitoring.json"
	FileSteering         = "steering.json"
	FileFederations      = "federations.json"
	FileDNSSECKeys       = "dnsseckeys.json"
	FileSSLKeys          = "sslkeys.json"
	FileCoverageZones    = "czmap.json"
	FileDeepCoverage     = "dczmap.json"
	FileRegionalGeoblock = "regional-geoblock.json"
	FileAnonymousIP      = "anonymous-ip.json"
)

// fileSpec says how one dataset is stored and checked.
type fileSpec struct {
	// wrap: served as {"response": <content>} (the Traffic Ops shape); the
	// stored body is that wrapped form. Otherwise the file is stored as is.
	wrap bool
	// shape is the JSON kind the (unwrapped) content must have: '{' or '['.
	shape byte
	// check validates the content, returning the problems found.
	check func(name string, data []byte) []Problem
}

// fileSpecs lists every stored dataset.
func fileSpecs() map[string]fileSpec {
	return map[string]fileSpec{
		FileSnapshot:         {wrap: true, shape: '{', check: checkControl},
		FileMonitoring:       {wrap: true, shape: '{', check: checkMonitoring},
		FileSteering:         {wrap: true, shape: '[', check: checkControl},
		FileFederations:      {wrap: true, shape: '[', check: checkControl},
		FileDNSSECKeys:       {wrap: true, shape: '{', check: checkControl},
		FileSSLKeys:          {wrap: true, shape: '[', check: checkControl},
		FileCoverageZones:    {shape: '{', check: checkControl},
		FileDeepCoverage:     {shape: '{', check: checkControl},
		FileRegionalGeoblock: {shape: '{', check: checkControl},
		FileAnonymousIP:      {shape: '{', check: checkControl},
	}
}

// notStored lists snapshot-directory files a publish deliberately skips,
// with the reason printed.
func notStored(name string) (string, bool) {
	switch {
	case name == "crstates.json":
		return "health comes from the monitors, not the ops server", true
	case strings.HasSuffix(name, ".mmdb"):
		return "MaxMind databases are not stored; routers read them from local files", true
	}
	return "", false
}

// Problem is one reason a publish was refused (or a warning about it).
type Problem struct {
	File    string `json:"file"`
	Path    string `json:"path,omitempty"`
	Value   string `json:"value,omitempty"`
	Message string `json:"message"`
	Warning bool   `json:"warning,omitempty"`
}

// String renders "file: path: message".
func (p Problem) String() string {
	s := p.File
	if p.Path != "" {
		s += ": " + p.Path
	}
	if p.Warning {
		return s + ": warning: " + p.Message
	}
	return s + ": " + p.Message
}

// ValidationError refuses a publish. Problems lists every error found in
// every file (warnings are included, marked).
type ValidationError struct {
	Problems []Problem
}

// Error renders one line per problem.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func fromControl(name string, err error) []Problem {
	var ve *control.ValidationError
	if !errors.As(err, &ve) {
		return []Problem{{File: name, Message: err.Error()}}
	}
	out := make([]Problem, 0, len(ve.Problems))
	for _, p := range ve.Problems {
		out = append(out, Problem{File: p.File, Path: p.Path, Value: p.Value, Message: p.Message, Warning: p.Warning})
	}
	return out
}

// checkControl validates a file with the router's own decoder
// (control.ParseFile), so the ops server refuses exactly what a router
// would reject, and passes its warnings on.
func checkControl(name string, data []byte) []Problem {
	d, err := control.ParseFile(name, data)
	if err != nil {
		return fromControl(name, err)
	}
	out := make([]Problem, 0, len(d.Warnings))
	for _, p := range d.Warnings {
		out = append(out, Problem{File: p.File, Path: p.Path, Value: p.Value, Message: p.Message, Warning: true})
	}
	return out
}

// Prepared is a validated generation ready to store.
type Prepared struct {
	Files    []store.File // sorted by name
	Warnings []Problem
}

// Prepare validates raw dataset files (by file name) and returns them in
// their stored form: wrapped datasets as {"response": <compact JSON>}, each
// with a gzip copy. Every problem of every file is reported in one
// *ValidationError. crconfig.json is required.
func Prepare(raw map[string][]byte) (*Prepared, error) {
	specs := fileSpecs()
	var problems []Problem
	if _, ok := raw[FileSnapshot]; !ok {
		problems = append(problems, Problem{File: FileSnapshot, Message: "missing: every generation needs a snapshot"})
	}
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	sort.Strings(names)
	out := &Prepared{}
	for _, name := range names {
		spec, ok := specs[name]
		if !ok {
			problems = append(problems, Problem{File: name, Message: "unknown dataset file; known: " + strings.Join(knownFileNames(specs), ", ")})
			continue
		}
		body, probs := prepareOne(name, spec, raw[name])
		for _, p := range probs {
			if p.Warning {
				out.Warnings = append(out.Warnings, p)
			}
		}
		if hasError(probs) {
			problems = append(problems, probs...)
			continue
		}
		gz, err := gzipBytes(body)
		if err != nil {
			return nil, fmt.Errorf("ops: compress %s: %w", name, err)
		}
		out.Files = append(out.Files, store.NewFile(name, body, gz))
	}
	if hasError(problems) {
		return nil, &ValidationError{Problems: problems}
	}
	return out, nil
}

func hasError(ps []Problem) bool {
	for _, p := range ps {
		if !p.Warning {
			return true
		}
	}
	return false
}

func knownFileNames(specs map[string]fileSpec) []string {
	out := make([]string, 0, len(specs))
	for n := range specs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// prepareOne checks the JSON shape, runs the dataset validator and returns
// the stored body.
func prepareOne(name string, spec fileSpec, data []byte) ([]byte, []Problem) {
	content := bytes.TrimSpace(data)
	if !json.Valid(content) {
		var v any
		err := json.Unmarshal(content, &v)
		return nil, []Problem{{File: name, Message: "invalid JSON: " + errString(err)}}
	}
	if spec.wrap {
		content = unwrap(name, content)
	}
	if len(content) == 0 || content[0] != spec.shape {
		got := "empty"
		if len(content) > 0 {
			got = jsonKind(content[0])
		}
		return nil, []Problem{{File: name, Path: wrapPath(spec), Message: "must be a JSON " + jsonKind(spec.shape) + ", got " + got}}
	}
	var probs []Problem
	if spec.check != nil {
		probs = spec.check(name, data)
		if hasError(probs) {
			return nil, probs
		}
	}
	var buf bytes.Buffer
	if spec.wrap {
		buf.WriteString(`{"response":`)
	}
	if err := json.Compact(&buf, content); err != nil {
		return nil, []Problem{{File: name, Message: "invalid JSON: " + err.Error()}}
	}
	if spec.wrap {
		buf.WriteByte('}')
	}
	return buf.Bytes(), probs
}

func wrapPath(spec fileSpec) string {
	if spec.wrap {
		return "response"
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return "malformed"
	}
	return err.Error()
}

func jsonKind(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// unwrap returns the value of "response" when content is an object holding
// it (for the snapshot: and none of the snapshot sections, as control does).
func unwrap(name string, content []byte) []byte {
	if len(content) == 0 || content[0] != '{' {
		return content
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(content, &top); err != nil {
		return content
	}
	r, ok := top["response"]
	if !ok {
		return content
	}
	if name == FileSnapshot {
		_, hasCfg := top["config"]
		_, hasDS := top["deliveryServices"]
		if hasCfg || hasDS {
			return content
		}
	}
	return bytes.TrimSpace(r)
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ReadDir reads the dataset files of a snapshot directory. It returns the
// files to publish and, for the files it skips, a line saying why.
func ReadDir(dir string) (map[string][]byte, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("ops: snapshot directory: %w", err)
	}
	specs := fileSpecs()
	raw := make(map[string][]byte)
	var skipped []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		if _, ok := specs[name]; ok {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return nil, nil, fmt.Errorf("ops: %w", err)
			}
			raw[name] = b
			continue
		}
		if why, ok := notStored(name); ok {
			skipped = append(skipped, name+": not stored ("+why+")")
			continue
		}
		skipped = append(skipped, name+": not stored (not a dataset file)")
	}
	if _, ok := raw[FileSnapshot]; !ok {
		return nil, nil, fmt.Errorf("ops: snapshot directory %s: %s is missing", dir, FileSnapshot)
	}
	return raw, skipped, nil
}
