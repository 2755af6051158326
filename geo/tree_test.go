package geo

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/oschwald/maxminddb-golang/v2"
)

// chainDB returns a 24-bit City database whose first n nodes form a chain:
// both records of node i point to node i+1, and node n points both ways to
// the first data record. Every one of the 2^n paths reaches the same
// record, a shape no writer produces but a hostile file can.
func chainDB(t *testing.T, n int) []byte {
	t.Helper()
	recs := map[string]mmdbtype.DataType{}
	for i := range 300 {
		recs[fmt.Sprintf("2001:db8:%x::1/128", i)] = cityRec(1, 2)
	}
	data := writeDB(t, mmdbwriter.Options{DatabaseType: "GeoIP2-City", RecordSize: 24, DisableIPv4Aliasing: true}, recs)
	db, err := maxminddb.OpenBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	nodes := int(db.Metadata.NodeCount)
	if nodes <= n {
		t.Fatalf("only %d nodes", nodes)
	}
	put := func(node int, v int) {
		for side := range 2 {
			b := data[node*6+side*3:]
			b[0], b[1], b[2] = byte(v>>16), byte(v>>8), byte(v)
		}
	}
	for i := range n {
		put(i, i+1)
	}
	put(n, nodes+dataSeparator) // data offset 0
	return data
}

func TestLoadSharedSubtreesIsLinear(t *testing.T) {
	start := time.Now()
	c, err := LoadCity("chain.mmdb", chainDB(t, 100))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("load took %v", d)
	}
	for _, s := range []string{"::", "ffff::1", "8000::", "1.2.3.4"} {
		if _, ok := c.Lookup(netip.MustParseAddr(s)); !ok {
			t.Errorf("Lookup(%s) missed; every path of the chain reaches the record", s)
		}
	}
	if md := c.Metadata(); md.Records != 1 {
		t.Errorf("Records = %d, want 1", md.Records)
	}
}

func TestLoadTreeTooDeep(t *testing.T) {
	_, err := LoadCity("deep.mmdb", chainDB(t, 200))
	if err == nil || !strings.Contains(err.Error(), "deep.mmdb: corrupt search tree: node 128 under 0.0.0.0/32") ||
		!strings.Contains(err.Error(), "continues past bit 128") {
		t.Errorf("err = %v", err)
	}
}
