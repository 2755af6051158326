package accesslog

import (
	"bytes"
	"strconv"
)

// AppendHTTP appends r's access log line (spec §11.1, Traffic Router's
// HTTPAccessEventBuilder) to dst without a trailing newline and returns the extended
// buffer. It does not allocate when dst has room.
func AppendHTTP(dst []byte, r *HTTPRecord) []byte {
	dst = appendEpochMillis(dst, r.Start.UnixMilli())
	dst = append(dst, " qtype=HTTP chi="...)
	chiStart := len(dst)
	remoteStart := 0
	if r.ClientOverride != nil {
		dst = append(dst, r.ClientOverride...)
		dst = append(dst, " rhi="...)
		remoteStart = len(dst)
		dst = appendJavaIP(dst, r.Remote)
		if bytes.Equal(dst[remoteStart:], dst[chiStart:chiStart+len(r.ClientOverride)]) {
			dst = append(dst[:remoteStart], '-')
		}
	} else {
		dst = appendJavaIP(dst, r.Remote)
		dst = append(dst, " rhi=-"...)
	}

	dst = append(dst, ` url="`...)
	if len(r.URL) == 0 {
		dst = append(dst, '-')
	} else {
		dst = append(dst, r.URL...)
		if len(r.Query) > 0 {
			dst = append(dst, '?')
			dst = append(dst, r.Query...)
		}
	}
	dst = append(dst, `" cqhm=`...)
	dst = appendOrDash(dst, r.Method)
	dst = append(dst, " cqhv="...)
	dst = appendOrDash(dst, r.Proto)
	dst = append(dst, " rtype="...)
	dst = append(dst, r.Result.String()...)
	dst = append(dst, ` rloc="`...)
	dst = appendLocation(dst, r.HasLocation, r.Lat, r.Lon, appendCoordHTTP)
	dst = append(dst, `" rdtl=`...)
	if r.Result == ResultNone {
		dst = append(dst, '-')
	} else {
		dst = append(dst, r.Details.String()...)
	}
	dst = append(dst, ` rerr="`...)
	dst = appendStringOrDash(dst, r.Err)
	dst = append(dst, `" rgb="`...)
	dst = appendRGB(dst, &r.RGB)
	dst = append(dst, '"')
	if r.Status != 0 {
		dst = append(dst, " pssc="...)
		dst = strconv.AppendInt(dst, int64(r.Status), 10)
		dst = append(dst, " ttms="...)
		dst = appendMillis3(dst, int64(r.Elapsed))
	}
	dst = append(dst, ` rurl="`...)
	dst = appendOrDash(dst, r.RURL)
	dst = append(dst, `" rurls="`...)
	if len(r.RURLs) == 0 {
		dst = append(dst, '-')
	} else {
		dst = append(dst, '[')
		for i, u := range r.RURLs {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, u...)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `" uas="`...)
	if r.UserAgent == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, r.UserAgent...)
	}
	dst = append(dst, `" svc="`...)
	if len(r.Services) == 0 {
		dst = append(dst, '-')
	} else {
		for i, s := range r.Services {
			if i > 0 {
				dst = append(dst, '|')
			}
			dst = append(dst, s...)
		}
	}
	dst = append(dst, `" `...)
	return appendRequestHeaders(dst, r.Headers)
}

// appendRequestHeaders appends rh="Name: value" for each header with a non-empty value,
// double quotes in values replaced by single quotes; rh="-" when none.
func appendRequestHeaders(dst []byte, hs []Header) []byte {
	first := true
	for i := range hs {
		h := &hs[i]
		if len(h.Value) == 0 {
			continue
		}
		if !first {
			dst = append(dst, ' ')
		}
		first = false
		dst = append(dst, `rh="`...)
		dst = append(dst, h.Name...)
		dst = append(dst, ": "...)
		for _, c := range h.Value {
			if c == '"' {
				c = '\''
			}
			dst = append(dst, c)
		}
		dst = append(dst, '"')
	}
	if first {
		dst = append(dst, `rh="-"`...)
	}
	return dst
}

// appendRGB appends Java RegionalGeoResult.toString, or "-" when unset.
func appendRGB(dst []byte, g *RegionalGeo) []byte {
	if !g.Set {
		return append(dst, '-')
	}
	if g.HasPostal {
		dst = append(dst, g.Postal...)
	} else {
		dst = append(dst, '-')
	}
	dst = append(dst, ':', boolDigit(g.Outcome == RegionalGeoAllowed), ':')
	switch {
	case g.Outcome == RegionalGeoDenied || g.Rule == RegionalGeoRuleNone:
		dst = append(dst, '-')
	case g.Rule == RegionalGeoRuleInclude:
		dst = append(dst, 'I')
	default:
		dst = append(dst, 'X')
	}
	return append(dst, ':', boolDigit(g.Fallback), ':', boolDigit(g.Whitelisted))
}

func boolDigit(b bool) byte {
	if b {
		return '1'
	}
	return '0'
}

// AppendDNS appends r's access log line (spec §11.2, Traffic Router's
// DNSAccessEventBuilder) to dst without a trailing newline and returns the extended
// buffer. It does not allocate when dst has room.
func AppendDNS(dst []byte, r *DNSRecord) []byte {
	dst = appendEpochMillis(dst, r.Received.UnixMilli())
	dst = append(dst, " qtype=DNS chi="...)
	chiStart := len(dst)
	dst = appendJavaIP(dst, r.Client)
	chiEnd := len(dst)
	dst = append(dst, " rhi="...)
	rhiStart := len(dst)
	dst = appendJavaIP(dst, r.Resolver)
	if bytes.Equal(dst[rhiStart:], dst[chiStart:chiEnd]) {
		dst = append(dst[:rhiStart], '-')
	}
	dst = append(dst, " ttms="...)
	dst = appendMillis3(dst, int64(r.Elapsed))
	if !r.HasMessage {
		dst = append(dst, " xn=- fqdn=- type=- class=- rcode=-"...)
	} else {
		dst = append(dst, " xn="...)
		dst = strconv.AppendUint(dst, uint64(r.ID), 10)
		dst = append(dst, ' ')
		if r.QName != nil {
			// Java: " " + createQuery(question); no question leaves two spaces.
			dst = append(dst, "fqdn="...)
			mark := len(dst)
			var ok bool
			if dst, ok = appendName(dst, r.QName); !ok {
				dst = appendUnknownName(dst[:mark], r.QName)
			}
			dst = append(dst, " type="...)
			dst = appendType(dst, r.QType)
			dst = append(dst, " class="...)
			dst = appendClass(dst, r.QClass)
		}
		dst = append(dst, " rcode="...)
		dst = appendRcode(dst, r.Rcode)
	}

	if r.Err != "" {
		dst = append(dst, ` rtype=- rloc="-" rdtl=- rerr="`...)
		dst = append(dst, r.Err...)
		dst = append(dst, `" ttl="-" ans="-" svc="`...)
		dst = appendStringOrDash(dst, r.Service)
		return append(dst, '"')
	}

	dst = append(dst, " rtype="...)
	dst = append(dst, r.Result.String()...)
	dst = append(dst, ` rloc="`...)
	dst = appendLocation(dst, r.HasLocation, r.Lat, r.Lon, appendCoordDNS)
	dst = append(dst, `" rdtl=`...)
	if r.Result == ResultNone {
		dst = append(dst, '-')
	} else {
		dst = append(dst, r.Details.String()...)
	}
	dst = append(dst, ` rerr="-" `...)
	switch {
	case !r.HasMessage:
		// Java: without a message only ans="-" is printed (no ttl field).
		dst = append(dst, `ans="-"`...)
	case len(r.Answers) == 0:
		dst = append(dst, `ttl="-" ans="-"`...)
	default:
		dst = append(dst, `ttl="`...)
		mark := len(dst)
		for i := range r.Answers {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = strconv.AppendUint(dst, uint64(r.Answers[i].TTL), 10)
		}
		dst = javaTrimFrom(dst, mark)
		dst = append(dst, `" ans="`...)
		mark = len(dst)
		for i := range r.Answers {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = appendRData(dst, &r.Answers[i])
		}
		dst = javaTrimFrom(dst, mark)
		dst = append(dst, '"')
	}
	dst = append(dst, ` svc="`...)
	dst = appendStringOrDash(dst, r.Service)
	return append(dst, '"')
}

// appendUnknownName is the fallback for a malformed question name: its bytes escaped as
// in a label, so the line stays one line and shows what arrived.
func appendUnknownName(dst, name []byte) []byte {
	for _, c := range name {
		dst = appendNameByte(dst, c)
	}
	return dst
}

// javaTrimFrom applies Java's String.trim (strip bytes <= 0x20 at both ends) to
// dst[mark:] in place.
func javaTrimFrom(dst []byte, mark int) []byte {
	end := len(dst)
	for end > mark && dst[end-1] <= ' ' {
		end--
	}
	start := mark
	for start < end && dst[start] <= ' ' {
		start++
	}
	if start > mark {
		n := copy(dst[mark:], dst[start:end])
		return dst[:mark+n]
	}
	return dst[:end]
}

func appendLocation(dst []byte, has bool, lat, lon float64, f func([]byte, float64) []byte) []byte {
	if !has {
		return append(dst, '-')
	}
	dst = f(dst, lat)
	dst = append(dst, ',')
	return f(dst, lon)
}

func appendOrDash(dst, b []byte) []byte {
	if len(b) == 0 {
		return append(dst, '-')
	}
	return append(dst, b...)
}

func appendStringOrDash(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, '-')
	}
	return append(dst, s...)
}
