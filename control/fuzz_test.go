package control

import "testing"

// FuzzParseSnapshot (seed corpus in testdata/fuzz/FuzzParseSnapshot: the
// fixture CrConfig.json, the spec §1.14 example and truncated variants): no
// input panics, and an accepted snapshot re-parses
// to the same shape (decoding is deterministic).
func FuzzParseSnapshot(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte(minimal[:len(minimal)/2]))
	f.Add([]byte(`{"response":` + minimal + `}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSnapshot("fuzz.json", data)
		if err != nil {
			if s != nil {
				t.Fatal("snapshot and error")
			}
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		again, err := ParseSnapshot("fuzz.json", data)
		if err != nil {
			t.Fatalf("accepted then rejected: %v", err)
		}
		if len(again.DeliveryServices) != len(s.DeliveryServices) || len(again.ContentServers) != len(s.ContentServers) || len(again.Warnings) != len(s.Warnings) {
			t.Fatal("re-parse differs")
		}
		for _, ds := range s.DeliveryServices {
			for _, ms := range ds.MatchSets {
				for _, m := range ms.Matches {
					if m.Compiled == nil {
						t.Fatalf("uncompiled matcher in accepted snapshot: %+v", m)
					}
				}
			}
		}
	})
}

// FuzzParseOthers covers the health, steering and federation decoders.
func FuzzParseOthers(f *testing.F) {
	f.Add([]byte(`{"caches":{"e":{"isAvailable":"true"}},"deliveryServices":{"d":{"disabledLocations":["x"]}}}`))
	f.Add([]byte(`{"response":[{"deliveryService":"d","targets":[{"deliveryService":"t","weight":"1"}],"filters":[{"pattern":".*","deliveryService":"t"}]}]}`))
	f.Add([]byte(`{"response":[{"deliveryService":"d","mappings":[{"cname":"a.","ttl":"30","resolve4":["1.2.3.0/24"],"resolve6":["::/0"]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if h, err := ParseCrStates("h", data); (h == nil) == (err == nil) {
			t.Fatal("crstates: value/error mismatch")
		}
		if s, err := ParseSteering("s", data); (s == nil) == (err == nil) {
			t.Fatal("steering: value/error mismatch")
		}
		if fe, err := ParseFederations("f", data); (fe == nil) == (err == nil) {
			t.Fatal("federations: value/error mismatch")
		}
	})
}
