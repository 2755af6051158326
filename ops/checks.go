package ops

import (
	"encoding/json"
	"strconv"
	"strings"
)

// checkMonitoring validates the monitoring config (spec A.5): the members
// the monitor cannot work without. Keys are matched case-insensitively, as
// the monitor decodes them.
func checkMonitoring(name string, data []byte) []Problem {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(unwrap(name, data), &top); err != nil {
		return []Problem{{File: name, Message: "must be a JSON object: " + err.Error()}}
	}
	c := &collector{file: name}
	fold := foldKeys(top)
	servers := c.array(fold, "trafficServers", "trafficServers", true)
	for i, s := range servers {
		path := "trafficServers[" + strconv.Itoa(i) + "]"
		obj := c.object(s, path)
		if obj != nil {
			c.str(obj, "hostname", path, true)
		}
	}
	for i, p := range c.array(fold, "profiles", "profiles", false) {
		path := "profiles[" + strconv.Itoa(i) + "]"
		if obj := c.object(p, path); obj != nil {
			c.str(obj, "name", path, true)
		}
	}
	for i, d := range c.array(fold, "deliveryServices", "deliveryServices", false) {
		path := "deliveryServices[" + strconv.Itoa(i) + "]"
		if obj := c.object(d, path); obj != nil {
			c.str(obj, "xmlId", path, true)
		}
	}
	raw, ok := fold["config"]
	if !ok {
		c.add("config", "", "missing: the monitor needs health.polling.interval and peers.polling.interval")
		return c.list
	}
	cfg := c.object(raw, "config")
	if cfg == nil {
		return c.list
	}
	for _, k := range []string{"health.polling.interval", "peers.polling.interval"} {
		c.number(cfg, k, "config", true)
	}
	for _, k := range []string{"heartbeat.polling.interval", "tm.polling.interval"} {
		c.number(cfg, k, "config", false)
	}
	return c.list
}

// collector gathers problems of one file.
type collector struct {
	file string
	list []Problem
}

func (c *collector) add(path, value, msg string) {
	if len(value) > 120 {
		value = value[:120] + "..."
	}
	c.list = append(c.list, Problem{File: c.file, Path: path, Value: value, Message: msg})
}

// foldKeys lower-cases the keys of an object.
func foldKeys(m map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

func isNull(v json.RawMessage) bool { return string(v) == "null" }

func (c *collector) object(v json.RawMessage, path string) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if len(v) == 0 || v[0] != '{' || json.Unmarshal(v, &m) != nil {
		c.add(path, string(v), "must be an object")
		return nil
	}
	return foldKeys(m)
}

func (c *collector) array(obj map[string]json.RawMessage, key, path string, required bool) []json.RawMessage {
	v, ok := obj[strings.ToLower(key)]
	if !ok || isNull(v) {
		if required {
			c.add(path, "", "missing: must be an array")
		}
		return nil
	}
	var out []json.RawMessage
	if len(v) == 0 || v[0] != '[' || json.Unmarshal(v, &out) != nil {
		c.add(path, string(v), "must be an array")
		return nil
	}
	return out
}

func (c *collector) str(obj map[string]json.RawMessage, key, path string, required bool) {
	p := path + "." + key
	v, ok := obj[strings.ToLower(key)]
	if !ok || isNull(v) {
		if required {
			c.add(p, "", "missing: must be a non-empty string")
		}
		return
	}
	var s string
	if json.Unmarshal(v, &s) != nil || s == "" {
		c.add(p, string(v), "must be a non-empty string")
	}
}

func (c *collector) number(obj map[string]json.RawMessage, key, path string, required bool) {
	p := path + "[" + strconv.Quote(key) + "]"
	v, ok := obj[strings.ToLower(key)]
	if !ok || isNull(v) {
		if required {
			c.add(p, "", "missing: must be a number of milliseconds")
		}
		return
	}
	var f float64
	if json.Unmarshal(v, &f) != nil || f <= 0 {
		c.add(p, string(v), "must be a positive number of milliseconds")
	}
}
