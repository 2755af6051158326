package monitor

import (
	"encoding/json"
	"testing"
	"time"
)

func TestCrStatesEncoding(t *testing.T) {
	ts := time.Date(2022, 3, 15, 17, 54, 3, 821178179, time.UTC)
	st := &State{
		CacheNames: []string{"edge", "mid"},
		Caches: map[string]*CacheState{
			"edge": {Local: Availability{false, false, false}, Combined: Availability{true, true, false}, Reason: "REPORTED - loadavg too high (36.37 > 25.00)", LastPoll: ts},
			"mid":  {Local: Availability{true, true, true}, Combined: Availability{true, true, true}},
		},
		DSNames: []string{"demo1"},
		DSes:    map[string]*DSState{"demo1": {Local: false, Combined: true}},
	}
	want := `{"caches":{"edge":{"isAvailable":true,"ipv4Available":true,"ipv6Available":false,"status":"REPORTED - loadavg too high (36.37 \u003e 25.00)","lastPoll":"2022-03-15T17:54:03.821178179Z"},` +
		`"mid":{"isAvailable":true,"ipv4Available":true,"ipv6Available":true,"status":"","lastPoll":"0001-01-01T00:00:00Z"}},` +
		`"deliveryServices":{"demo1":{"disabledLocations":[],"isAvailable":true}}}`
	if got := string(st.CrStatesJSON()); got != want {
		t.Errorf("CrStates:\n got %s\nwant %s", got, want)
	}
	var raw map[string]map[string]map[string]any
	if err := json.Unmarshal(st.RawCrStatesJSON(), &raw); err != nil {
		t.Fatal(err)
	}
	if raw["caches"]["edge"]["isAvailable"] != false || raw["deliveryServices"]["demo1"]["isAvailable"] != false {
		t.Errorf("raw CrStates: %v", raw)
	}
	for _, s := range []string{"a\"b\\c\n\x01\u2028é", "\xff"} {
		var back string
		if err := json.Unmarshal(appendJSONString(nil, s), &back); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
}
