package control

import (
	"errors"
	"os"
	"path/filepath"
)

// ValidatePath validates what `signpost snapshot validate PATH` is given:
// a snapshot directory (every known file present is validated, and
// crconfig.json must exist) or a single file, recognized by its base name
// (Files()); any other name, such as CrConfig.json, is validated as a
// snapshot.
//
// problems lists every problem found, warnings included. err is non-nil
// when PATH cannot be read or when any problem is an error; it is then a
// *ValidationError (or an I/O error) suitable for printing.
func ValidatePath(path string) (problems []Problem, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		file := filepath.Base(path)
		if !KnownFile(file) {
			s, perr := ParseSnapshot(file, data)
			var warnings []Problem
			if s != nil {
				warnings = s.Warnings
			}
			return finish(collectProblems(warnings, perr))
		}
		d, perr := ParseFile(file, data)
		return finish(collectProblems(d.Warnings, perr))
	}
	var all []Problem
	for _, file := range Files() {
		data, rerr := os.ReadFile(filepath.Join(path, file))
		if errors.Is(rerr, os.ErrNotExist) {
			if file == FileSnapshot {
				all = append(all, Problem{File: file, Message: "required file is missing from " + path})
			}
			continue
		}
		if rerr != nil {
			all = append(all, Problem{File: file, Message: rerr.Error()})
			continue
		}
		d, perr := ParseFile(file, data)
		all = append(all, collectProblems(d.Warnings, perr)...)
	}
	return finish(all)
}

func collectProblems(warnings []Problem, err error) []Problem {
	if err == nil {
		return warnings
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Problems
	}
	return []Problem{{Message: err.Error()}}
}

func finish(ps []Problem) ([]Problem, error) {
	var errs []Problem
	for _, p := range ps {
		if !p.Warning {
			errs = append(errs, p)
		}
	}
	if len(errs) > 0 {
		return ps, &ValidationError{Problems: errs}
	}
	return ps, nil
}
