package metrics

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// checkExposition validates text against the Prometheus text format 0.0.4 grammar and
// the rules a scraper enforces, returning every problem found:
//   - every line ends in \n; no blank lines;
//   - "# HELP name text" then "# TYPE name counter|gauge|histogram" once per family,
//     families in strictly increasing name order, before their samples;
//   - sample: name[{label="value",...}] value, names and label names valid, label values
//     using only \\ \" \n escapes, no repeated label name, no repeated series;
//   - sample names belong to the current family (histograms: _bucket, _sum, _count);
//   - counter values are non-negative integers or floats;
//   - histogram buckets: le increasing, cumulative counts non-decreasing, a +Inf bucket
//     equal to _count, and _sum/_count present.
func checkExposition(text string) []string {
	var errs []string
	bad := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		errs = append(errs, "text does not end in a newline")
	}
	type hist struct {
		les    []float64
		counts []float64
		sum    bool
		count  float64
		hasCnt bool
	}
	var (
		famName, famType string
		helpSeen         bool
		prevFam          string
		seenFam          = map[string]bool{}
		seenSeries       = map[string]bool{}
		hists            = map[string]*hist{}
		histOrder        []string
	)
	finishFamily := func(line int) {
		for _, key := range histOrder {
			h := hists[key]
			if len(h.les) == 0 || !math.IsInf(h.les[len(h.les)-1], 1) {
				bad(line, "histogram series %s has no +Inf bucket", key)
				continue
			}
			if !h.sum || !h.hasCnt {
				bad(line, "histogram series %s lacks _sum or _count", key)
			}
			if h.counts[len(h.counts)-1] != h.count {
				bad(line, "histogram series %s: +Inf bucket %v != _count %v", key, h.counts[len(h.counts)-1], h.count)
			}
		}
		hists = map[string]*hist{}
		histOrder = nil
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		lines = nil
	}
	for i, l := range lines {
		n := i + 1
		switch {
		case l == "":
			bad(n, "blank line")
		case strings.HasPrefix(l, "# HELP "):
			rest := l[len("# HELP "):]
			name, help, _ := strings.Cut(rest, " ")
			if !validMetricName(name) {
				bad(n, "HELP for invalid name %q", name)
			}
			if err := checkEscapes(help, false); err != "" {
				bad(n, "HELP text: %s", err)
			}
			finishFamily(n)
			if seenFam[name] {
				bad(n, "family %q appears twice", name)
			}
			if prevFam != "" && name <= prevFam {
				bad(n, "family %q not after %q", name, prevFam)
			}
			seenFam[name] = true
			prevFam, famName, famType, helpSeen = name, name, "", true
		case strings.HasPrefix(l, "# TYPE "):
			name, typ, _ := strings.Cut(l[len("# TYPE "):], " ")
			if !helpSeen || name != famName {
				bad(n, "TYPE %q not right after its HELP", name)
			}
			switch typ {
			case "counter", "gauge", "histogram", "summary", "untyped":
			default:
				bad(n, "unknown type %q", typ)
			}
			if famType != "" {
				bad(n, "second TYPE for %q", name)
			}
			famType, helpSeen = typ, false
		case strings.HasPrefix(l, "#"):
			bad(n, "unexpected comment %q", l)
		default:
			name, labels, value, err := parseSample(l)
			if err != "" {
				bad(n, "%s in %q", err, l)
				continue
			}
			if famType == "" {
				bad(n, "sample %q before its TYPE", name)
				continue
			}
			key := name + "{" + labelKey(labels, "") + "}"
			if seenSeries[key] {
				bad(n, "series %s repeated", key)
			}
			seenSeries[key] = true
			switch famType {
			case "counter", "gauge":
				if name != famName {
					bad(n, "sample %q in family %q", name, famName)
				}
				if famType == "counter" && !(value >= 0) {
					bad(n, "counter value %v", value)
				}
			case "histogram":
				base := labelKey(labels, "le")
				h := hists[base]
				if h == nil {
					h = &hist{}
					hists[base] = h
					histOrder = append(histOrder, base)
				}
				switch name {
				case famName + "_bucket":
					le, ok := labels["le"]
					if !ok {
						bad(n, "bucket without le")
						continue
					}
					b, perr := strconv.ParseFloat(le, 64)
					if perr != nil {
						bad(n, "le %q: %v", le, perr)
						continue
					}
					if k := len(h.les); k > 0 && (b <= h.les[k-1] || value < h.counts[k-1]) {
						bad(n, "bucket le=%q count %v not above previous", le, value)
					}
					h.les, h.counts = append(h.les, b), append(h.counts, value)
				case famName + "_sum":
					h.sum = true
				case famName + "_count":
					h.count, h.hasCnt = value, true
				default:
					bad(n, "sample %q in histogram %q", name, famName)
				}
			}
		}
	}
	finishFamily(len(lines))
	return errs
}

func labelKey(labels map[string]string, skip string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		if k != skip {
			keys = append(keys, k)
		}
	}
	// insertion sort: label sets are tiny
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, labels[k])
	}
	return b.String()
}

// parseSample parses `name{l="v",...} value`.
func parseSample(l string) (string, map[string]string, float64, string) {
	i := 0
	for i < len(l) && l[i] != '{' && l[i] != ' ' {
		i++
	}
	name := l[:i]
	if !validMetricName(name) {
		return "", nil, 0, fmt.Sprintf("invalid metric name %q", name)
	}
	labels := map[string]string{}
	if i < len(l) && l[i] == '{' {
		i++
		for {
			if i < len(l) && l[i] == '}' {
				i++
				break
			}
			j := i
			for j < len(l) && l[j] != '=' {
				j++
			}
			ln := l[i:j]
			if !validLabelName(ln) && ln != "le" {
				return "", nil, 0, fmt.Sprintf("invalid label name %q", ln)
			}
			if j+1 >= len(l) || l[j+1] != '"' {
				return "", nil, 0, "label value not quoted"
			}
			k := j + 2
			var v strings.Builder
			for ; k < len(l) && l[k] != '"'; k++ {
				if l[k] == '\\' {
					if k+1 >= len(l) {
						return "", nil, 0, "dangling backslash"
					}
					switch l[k+1] {
					case '\\':
						v.WriteByte('\\')
					case '"':
						v.WriteByte('"')
					case 'n':
						v.WriteByte('\n')
					default:
						return "", nil, 0, fmt.Sprintf("bad escape \\%c", l[k+1])
					}
					k++
					continue
				}
				v.WriteByte(l[k])
			}
			if k >= len(l) {
				return "", nil, 0, "unterminated label value"
			}
			if _, dup := labels[ln]; dup {
				return "", nil, 0, fmt.Sprintf("label %q repeated", ln)
			}
			labels[ln] = v.String()
			i = k + 1
			if i < len(l) && l[i] == ',' {
				i++
				continue
			}
			if i < len(l) && l[i] == '}' {
				i++
				break
			}
			return "", nil, 0, "expected , or } after label"
		}
	}
	if i >= len(l) || l[i] != ' ' {
		return "", nil, 0, "no space before value"
	}
	vs := l[i+1:]
	var v float64
	switch vs {
	case "+Inf":
		v = math.Inf(1)
	case "-Inf":
		v = math.Inf(-1)
	case "NaN":
		v = math.NaN()
	default:
		var err error
		if v, err = strconv.ParseFloat(vs, 64); err != nil || strings.ContainsAny(vs, " \t") {
			return "", nil, 0, fmt.Sprintf("bad value %q", vs)
		}
	}
	return name, labels, v, ""
}

func checkEscapes(s string, quote bool) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			if i+1 >= len(s) || !(s[i+1] == '\\' || s[i+1] == 'n' || quote && s[i+1] == '"') {
				return fmt.Sprintf("bad escape at %d", i)
			}
			i++
		}
	}
	return ""
}
