package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/loadtest"
)

func TestReportShowsExpectedMisses(t *testing.T) {
	dns := loadtest.Summary{Protocol: "dns-udp", Sent: 100, Completed: 100, OK: 80, ExpectedMisses: 20,
		MissReasons: map[string]uint64{"rcode NXDOMAIN": 20}}
	r := &loadtest.Result{Config: loadtest.Config{Mode: loadtest.ClosedLoop, Concurrency: 8, Duration: loadtest.Duration(time.Second)},
		Started: time.Unix(1700000000, 0), Protocols: []loadtest.Summary{dns}, Total: dns,
		Timeline: []loadtest.Point{{T: 1, Sent: 100, OK: 80, ExpectedMisses: 20, Rate: 100}}}
	r.Total.Protocol = "total"
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{`<th title="answers without a cache for which the snapshot selects no cache either">expected misses</th>`,
		`<td class="miss">20</td>`, `<h2 id="expected-misses">`, `<td class="l">rcode NXDOMAIN</td><td>20</td>`, `"expectedMisses":20`} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %s", want)
		}
	}
	if strings.Contains(html, `class="bad"`) {
		t.Errorf("expected misses are marked bad")
	}
}
