package monitor

import (
	"strings"
	"testing"
)

func TestThresholds(t *testing.T) {
	tests := []struct {
		stat, val string
		measured  float64
		holds     bool
		violation string
	}{
		{"loadavg", "25.0", 36.37, false, "loadavg too high (36.37 > 25.00)"},
		{"loadavg", "25.0", 1, true, ""},
		{"availableBandwidthInKbps", ">1750000", 1500000, false, "availableBandwidthInKbps too low (1500000.00 < 1750000.00)"},
		{"availableBandwidthInKbps", ">1750000", 1750001, true, ""},
		{"queryTime", "1000", 1000, false, "queryTime too high (1000.00 > 1000.00)"},
		{"x", "<=5", 6, false, "x too high (6.00 >= 5.00)"},
		{"x", "<=5", 5, true, ""},
		{"x", ">=5", 4, false, "x too low (4.00 <= 5.00)"},
		{"x", ">=5", 5, true, ""},
		{"x", "=3", 4, false, "x not equal (4.00 != 3.00)"},
		{"x", "=3", 3, true, ""},
		{"x", "<3", 2, true, ""},
		{"x", " > 10 ", 11, true, ""},
	}
	for _, tc := range tests {
		th, err := ParseThreshold(tc.stat, tc.val)
		if err != nil {
			t.Fatalf("%q: %v", tc.val, err)
		}
		if got := th.Holds(tc.measured); got != tc.holds {
			t.Errorf("%s %q holds(%v) = %v", tc.stat, tc.val, tc.measured, got)
		}
		if !tc.holds {
			if got := th.Violation(tc.measured); got != tc.violation {
				t.Errorf("violation = %q, want %q", got, tc.violation)
			}
		}
	}
	for _, bad := range []string{"", ">", "abc", ">=x", "1.2.3"} {
		if _, err := ParseThreshold("s", bad); err == nil || !strings.Contains(err.Error(), "invalid threshold") {
			t.Errorf("ParseThreshold(%q) error = %v", bad, err)
		}
	}
}
