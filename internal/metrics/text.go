package metrics

import (
	"math"
	"slices"
	"strconv"
)

// AppendText appends the exposition text of every family, sorted by name, to dst.
func (r *Registry) AppendText(dst []byte) []byte {
	r.mu.Lock()
	fams := make([]*family, 0, len(r.families))
	for _, f := range r.families {
		fams = append(fams, f)
	}
	// Series slices only grow under r.mu; copy them so writing runs unlocked.
	type view struct {
		f      *family
		series []*series
	}
	views := make([]view, len(fams))
	slices.SortFunc(fams, func(a, b *family) int {
		if a.name < b.name {
			return -1
		}
		if a.name > b.name {
			return 1
		}
		return 0
	})
	for i, f := range fams {
		views[i] = view{f, slices.Clone(f.series)}
	}
	r.mu.Unlock()

	var counts []uint64
	for _, v := range views {
		f := v.f
		dst = append(dst, "# HELP "...)
		dst = append(dst, f.name...)
		dst = append(dst, ' ')
		dst = appendEscaped(dst, f.help, false)
		dst = append(dst, "\n# TYPE "...)
		dst = append(dst, f.name...)
		dst = append(dst, ' ')
		dst = append(dst, f.kind.String()...)
		dst = append(dst, '\n')
		for _, s := range v.series {
			switch {
			case s.counter != nil:
				dst = appendSampleName(dst, f.name, "", f.labelNames, s.labelValues, "")
				dst = strconv.AppendUint(dst, s.counter.Value(), 10)
				dst = append(dst, '\n')
			case s.gauge != nil:
				dst = appendSampleName(dst, f.name, "", f.labelNames, s.labelValues, "")
				dst = appendFloat(dst, s.gauge.Value())
				dst = append(dst, '\n')
			case s.counterFunc != nil:
				dst = appendSampleName(dst, f.name, "", f.labelNames, s.labelValues, "")
				dst = strconv.AppendUint(dst, s.counterFunc(), 10)
				dst = append(dst, '\n')
			case s.gaugeFunc != nil:
				dst = appendSampleName(dst, f.name, "", f.labelNames, s.labelValues, "")
				dst = appendFloat(dst, s.gaugeFunc())
				dst = append(dst, '\n')
			case s.histogram != nil:
				var sum float64
				counts, sum = s.histogram.snapshot(counts)
				var cum uint64
				for i, c := range counts {
					cum += c
					le := "+Inf"
					if i < len(f.buckets) {
						le = strconv.FormatFloat(f.buckets[i], 'g', -1, 64)
					}
					dst = appendSampleName(dst, f.name, "_bucket", f.labelNames, s.labelValues, le)
					dst = strconv.AppendUint(dst, cum, 10)
					dst = append(dst, '\n')
				}
				dst = appendSampleName(dst, f.name, "_sum", f.labelNames, s.labelValues, "")
				dst = appendFloat(dst, sum)
				dst = append(dst, '\n')
				dst = appendSampleName(dst, f.name, "_count", f.labelNames, s.labelValues, "")
				dst = strconv.AppendUint(dst, cum, 10)
				dst = append(dst, '\n')
			}
		}
	}
	return dst
}

// appendSampleName appends name+suffix, the label set (plus le when non-empty) and a
// space.
func appendSampleName(dst []byte, name, suffix string, names, values []string, le string) []byte {
	dst = append(dst, name...)
	dst = append(dst, suffix...)
	if len(names) > 0 || le != "" {
		dst = append(dst, '{')
		for i, n := range names {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, n...)
			dst = append(dst, `="`...)
			dst = appendEscaped(dst, values[i], true)
			dst = append(dst, '"')
		}
		if le != "" {
			if len(names) > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `le="`...)
			dst = append(dst, le...)
			dst = append(dst, '"')
		}
		dst = append(dst, '}')
	}
	return append(dst, ' ')
}

// appendEscaped escapes backslash and newline (HELP text), and double quotes too in
// label values.
func appendEscaped(dst []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			dst = append(dst, `\\`...)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '"' && quote:
			dst = append(dst, `\"`...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func appendFloat(dst []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(dst, "+Inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-Inf"...)
	case math.IsNaN(v):
		return append(dst, "NaN"...)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}
