package monitor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Comparator is the operator of a health threshold: the cache is healthy
// while "measured <op> threshold" holds.
type Comparator uint8

// The comparators of spec A.5, in the order they are recognised.
const (
	CmpLess Comparator = iota // "<" (also the default without a prefix)
	CmpGreaterEqual
	CmpLessEqual
	CmpGreater
	CmpEqual
)

var comparatorText = [...]string{CmpLess: "<", CmpGreaterEqual: ">=", CmpLessEqual: "<=", CmpGreater: ">", CmpEqual: "="}

// String returns the comparator as written in a threshold ("<", ">=", ...).
func (c Comparator) String() string {
	if int(c) < len(comparatorText) {
		return comparatorText[c]
	}
	return "?"
}

// Threshold is one parsed health.threshold.<stat> rule of a profile.
type Threshold struct {
	Stat string
	Cmp  Comparator
	Val  float64
}

// ParseThreshold parses a threshold value ("25.0", ">1750000", ">=5", ...).
// The comparator prefixes are checked in the order >=, <=, >, <, =; no
// prefix means "<".
func ParseThreshold(stat, s string) (Threshold, error) {
	t := Threshold{Stat: stat, Cmp: CmpLess}
	v := strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(v, ">="):
		t.Cmp, v = CmpGreaterEqual, v[2:]
	case strings.HasPrefix(v, "<="):
		t.Cmp, v = CmpLessEqual, v[2:]
	case strings.HasPrefix(v, ">"):
		t.Cmp, v = CmpGreater, v[1:]
	case strings.HasPrefix(v, "<"):
		t.Cmp, v = CmpLess, v[1:]
	case strings.HasPrefix(v, "="):
		t.Cmp, v = CmpEqual, v[1:]
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) {
			err = ne.Err
		}
		return Threshold{}, fmt.Errorf("invalid threshold %q: %w", s, err)
	}
	t.Val = f
	return t, nil
}

// Holds reports whether the measured value v satisfies the threshold.
func (t Threshold) Holds(v float64) bool {
	switch t.Cmp {
	case CmpLess:
		return v < t.Val
	case CmpGreaterEqual:
		return v >= t.Val
	case CmpLessEqual:
		return v <= t.Val
	case CmpGreater:
		return v > t.Val
	case CmpEqual:
		return v == t.Val
	}
	return true // an invalid comparator never marks a cache down
}

// Violation returns the reason text for a measured value that does not
// satisfy the threshold, e.g. "loadavg too high (36.37 > 25.00)".
func (t Threshold) Violation(v float64) string {
	var text, op string
	switch t.Cmp {
	case CmpLess:
		text, op = "too high", ">"
	case CmpLessEqual:
		text, op = "too high", ">="
	case CmpGreater:
		text, op = "too low", "<"
	case CmpGreaterEqual:
		text, op = "too low", "<="
	case CmpEqual:
		text, op = "not equal", "!="
	}
	return fmt.Sprintf("%s %s (%.2f %s %.2f)", t.Stat, text, v, op, t.Val)
}
