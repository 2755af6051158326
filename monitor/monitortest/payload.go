package monitortest

import (
	"strconv"
)

// fillerStats renders constant stats that give a payload a realistic size.
func fillerStats(format Format, n, seed int) []byte {
	var b []byte
	for i := range n {
		if format == StatsOverHTTP {
			b = append(b, "\t\t\"proxy.process.fake.counter_"...)
		} else {
			b = append(b, "   \"proxy.process.fake.counter_"...)
		}
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, "\": "...)
		switch i % 3 {
		case 0:
			b = strconv.AppendInt(b, int64(seed*100000+i*7919), 10)
		case 1:
			b = strconv.AppendFloat(b, float64(i)/7, 'f', 6, 64)
		default:
			b = append(b, "0"...)
		}
		b = append(b, ",\n"...)
	}
	return b
}

// render writes one payload in the fleet's format.
func render(opts FleetOptions, name string, p snapshot, filler []byte, dses []string, csv bool) []byte {
	if csv {
		return renderCSV(opts, name, p, filler, dses)
	}
	b := make([]byte, 0, len(filler)+1024)
	num := func(k string, v uint64) {
		b = append(b, "   \""...)
		b = append(b, k...)
		b = append(b, "\": "...)
		b = strconv.AppendUint(b, v, 10)
		b = append(b, ",\n"...)
	}
	remap := func() {
		for _, ds := range dses {
			prefix := "plugin.remap_stats." + name + "." + ds + ".example.net."
			num(prefix+"in_bytes", p.out/50)
			num(prefix+"out_bytes", p.out)
			num(prefix+"status_2xx", p.reqs)
			num(prefix+"status_3xx", 0)
			num(prefix+"status_4xx", 0)
			num(prefix+"status_5xx", 0)
		}
	}
	if opts.Format == StatsOverHTTP {
		b = append(b, "{ \"global\": {\n"...)
		b = append(b, filler...)
		remap()
		num("proxy.process.http.current_client_connections", 42)
		num("plugin.system_stats.loadavg.one", uint64(p.load*65536))
		num("plugin.system_stats.loadavg.five", uint64(p.load*65536))
		num("plugin.system_stats.loadavg.fifteen", uint64(p.load*65536))
		num("plugin.system_stats.current_processes", 803)
		ifp := "plugin.system_stats.net." + opts.Interface + "."
		num(ifp+"rx_bytes", p.out/50)
		num(ifp+"tx_bytes", p.out)
		b = append(b, "   \""+ifp+"speed\": "...)
		b = strconv.AppendFloat(b, p.speed, 'f', -1, 64)
		b = append(b, "\n  }\n}\n"...)
		return b
	}
	b = append(b, "{ \"ats\": {\n"...)
	b = append(b, filler...)
	remap()
	num("proxy.process.http.current_client_connections", 42)
	b = append(b, "   \"server\": \"9.2.3\"\n  },\n \"system\": {\n"...)
	b = append(b, "   \"inf.name\": \""+opts.Interface+"\",\n   \"inf.speed\": "...)
	b = strconv.AppendFloat(b, p.speed, 'f', -1, 64)
	b = append(b, ",\n   \"proc.net.dev\": \""+opts.Interface+":"...)
	b = strconv.AppendUint(b, p.out/50, 10)
	b = append(b, " 14601260 0 0 0 0 0 790726 "...)
	b = strconv.AppendUint(b, p.out, 10)
	b = append(b, " 10210700052 0 0 0 0 0 0\",\n   \"proc.loadavg\": \""...)
	b = strconv.AppendFloat(b, p.load, 'f', 2, 64)
	b = append(b, " 0.12 0.21 3/863 1421\",\n   \"configReloadRequests\": 29,\n   \"notAvailable\": "...)
	b = strconv.AppendBool(b, p.notAvail)
	b = append(b, "\n  }\n}\n"...)
	return b
}

func renderCSV(opts FleetOptions, name string, p snapshot, filler []byte, dses []string) []byte {
	var b []byte
	// filler lines are JSON members: turn `   "k": v,\n` into `k,v\n`
	for len(filler) > 0 {
		i := 0
		for i < len(filler) && filler[i] != '\n' {
			i++
		}
		line := filler[:i]
		filler = filler[min(i+1, len(filler)):]
		start, end := -1, -1
		for j, c := range line {
			if c == '"' {
				if start < 0 {
					start = j + 1
				} else {
					end = j
					break
				}
			}
		}
		if start < 0 || end < 0 {
			continue
		}
		val := line[end+3:]
		if len(val) > 0 && val[len(val)-1] == ',' {
			val = val[:len(val)-1]
		}
		b = append(b, line[start:end]...)
		b = append(b, ',')
		b = append(b, val...)
		b = append(b, '\n')
	}
	kv := func(k, v string) { b = append(b, k+","+v+"\n"...) }
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	for _, ds := range dses {
		prefix := "plugin.remap_stats." + name + "." + ds + ".example.net."
		kv(prefix+"out_bytes", u(p.out))
		kv(prefix+"status_2xx", u(p.reqs))
	}
	if opts.Format == StatsOverHTTP {
		kv("plugin.system_stats.loadavg.one", u(uint64(p.load*65536)))
		kv("plugin.system_stats.loadavg.five", "0")
		kv("plugin.system_stats.loadavg.fifteen", "0")
		kv("plugin.system_stats.current_processes", "803")
		ifp := "plugin.system_stats.net." + opts.Interface + "."
		kv(ifp+"rx_bytes", u(p.out/50))
		kv(ifp+"tx_bytes", u(p.out))
		kv(ifp+"speed", strconv.FormatFloat(p.speed, 'f', -1, 64))
		return b
	}
	kv("inf.name", opts.Interface)
	kv("inf.speed", strconv.FormatFloat(p.speed, 'f', -1, 64))
	kv("proc.net.dev", opts.Interface+":"+u(p.out/50)+" 1 0 0 0 0 0 0 "+u(p.out)+" 1 0 0 0 0 0 0")
	kv("proc.loadavg", strconv.FormatFloat(p.load, 'f', 2, 64)+" 0.12 0.21 3/863 1421")
	kv("notAvailable", strconv.FormatBool(p.notAvail))
	return b
}
