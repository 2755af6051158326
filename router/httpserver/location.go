package httpserver

import (
	"bytes"
	"strconv"

	"github.com/signpost-cdn/signpost/router"
)

// splitTarget splits a request target into the raw path and the raw query
// (without '?'); hasQuery reports a '?'. An absolute-form target
// (http://host/path) gives its path.
func splitTarget(target []byte) (path, query []byte, hasQuery bool) {
	if i := bytes.IndexByte(target, '?'); i >= 0 {
		path, query, hasQuery = target[:i], target[i+1:], true
	} else {
		path = target
	}
	if len(path) > 0 && path[0] != '/' {
		if i := bytes.Index(path, []byte("://")); i > 0 {
			rest := path[i+3:]
			if j := bytes.IndexByte(rest, '/'); j >= 0 {
				path = rest[j:]
			} else {
				path = []byte("/")
			}
		}
	}
	return path, query, hasQuery
}

// parseHost appends the lower-case host of a Host header value (without
// port) to dst and returns the port text ("" when none). ok is false for
// an empty or malformed host: characters outside letters, digits, '-',
// '.', '_' (or an IPv6 literal in brackets), or a bad port.
func parseHost(dst, h []byte) (host, port []byte, ok bool) {
	if len(h) == 0 || len(h) > 255 {
		return dst, nil, false
	}
	name := h
	if h[0] == '[' {
		end := bytes.IndexByte(h, ']')
		if end < 0 {
			return dst, nil, false
		}
		name = h[:end+1]
		for _, c := range h[1:end] {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.') {
				return dst, nil, false
			}
		}
		h = h[end+1:]
		if len(h) > 0 {
			if h[0] != ':' {
				return dst, nil, false
			}
			port = h[1:]
		}
	} else {
		if i := bytes.IndexByte(h, ':'); i >= 0 {
			name, port = h[:i], h[i+1:]
		}
		if len(name) == 0 {
			return dst, nil, false
		}
		for _, c := range name {
			if !hostNameChar[c] {
				return dst, nil, false
			}
		}
	}
	if port != nil {
		if len(port) == 0 || len(port) > 5 {
			return dst, nil, false
		}
		for _, c := range port {
			if c < '0' || c > '9' {
				return dst, nil, false
			}
		}
	}
	start := len(dst)
	dst = append(dst, name...)
	for i := start; i < len(dst); i++ {
		if c := dst[i]; 'A' <= c && c <= 'Z' {
			dst[i] = c + 'a' - 'A'
		}
	}
	return dst, port, true
}

// hostNameChar marks the bytes allowed in a host name: letters, digits,
// '-', '.', '_'. Read-only.
var hostNameChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
	}
	return t
}()

// appendRequestedURL appends Tomcat's getRequestURL: scheme://host[:port]path,
// the port omitted when it is the scheme's default.
func appendRequestedURL(dst []byte, secure bool, host, port, rawPath []byte) []byte {
	def := "80"
	if secure {
		dst = append(dst, strHTTPSScheme...)
		def = "443"
	} else {
		dst = append(dst, strHTTPScheme...)
	}
	dst = append(dst, host...)
	if len(port) > 0 && string(port) != def {
		dst = append(append(dst, ':'), port...)
	}
	return append(dst, rawPath...)
}

// queryPart is the query string to carry into a produced URL.
type queryPart struct {
	raw     []byte
	present bool // the request had a query and the service appends it
	strip   bool // strip.special.query.params
}

// appendTo appends "?query" (without trred and fakeClientIpAddress when
// stripping, other parameters in order; nothing when none remain).
func (q queryPart) appendTo(dst []byte) []byte {
	if !q.present || len(q.raw) == 0 {
		return dst
	}
	if !q.strip {
		return append(append(dst, '?'), q.raw...)
	}
	first := true
	for rest := q.raw; ; {
		piece := rest
		i := bytes.IndexByte(rest, '&')
		if i >= 0 {
			piece, rest = rest[:i], rest[i+1:]
		}
		name := piece
		if j := bytes.IndexByte(piece, '='); j >= 0 {
			name = piece[:j]
		}
		if len(piece) > 0 && !bytes.Equal(name, paramTrred) && !bytes.Equal(name, paramFakeClientIP) {
			if first {
				dst = append(dst, '?')
				first = false
			} else {
				dst = append(dst, '&')
			}
			dst = append(dst, piece...)
		}
		if i < 0 {
			return dst
		}
	}
}

// useSecure is spec 7.4.1: https for a secure request when the service
// accepts HTTPS, for a plain one when it redirects to HTTPS; both only
// when the service has a certificate (sslReady).
func useSecure(ds *router.DeliveryService, secure, sslReady bool) bool {
	if !sslReady || !ds.Protocol.AcceptHTTPS {
		return false
	}
	return secure || ds.Protocol.RedirectToHTTPS
}

// appendCacheOrigin appends scheme://host[:port] of the cache for the
// service (spec 7.4.2): the reference FQDN, else the cache's first label
// plus the request host without its first label; https never carries a
// port (quirk 5), http carries the cache port unless 80.
func appendCacheOrigin(dst []byte, ds *router.DeliveryService, c *router.Cache, secure, sslReady bool, reqHost []byte) []byte {
	https := useSecure(ds, secure, sslReady)
	if https {
		dst = append(dst, strHTTPSScheme...)
	} else {
		dst = append(dst, strHTTPScheme...)
	}
	if ref, ok := c.Reference(ds.Index); ok {
		dst = append(dst, ref...)
	} else {
		id := c.ID
		for i := 0; i < len(id); i++ {
			if id[i] == '.' {
				id = id[:i]
				break
			}
		}
		dst = append(dst, id...)
		if i := bytes.IndexByte(reqHost, '.'); i >= 0 {
			dst = append(dst, reqHost[i:]...)
		}
	}
	switch {
	case !https && c.Port > 0 && c.Port != 80:
		dst = strconv.AppendInt(append(dst, ':'), int64(c.Port), 10)
	case https && c.HTTPSPort > 0 && c.HTTPSPort != 443:
		// Traffic Router ignores httpsPort (quirk 5) and sends HTTPS
		// clients to 443 even when the cache listens elsewhere.
		dst = strconv.AppendInt(append(dst, ':'), int64(c.HTTPSPort), 10)
	}
	return dst
}

// appendBypassURL appends the HTTP bypass URL (spec 7.4.3): the bypass
// FQDN, its port or the default of the request's security, the port
// omitted when it is the chosen scheme's default, the raw path and query.
func appendBypassURL(dst []byte, ds *router.DeliveryService, secure, sslReady bool, rawPath []byte, q queryPart) []byte {
	b := ds.BypassHTTP
	https := useSecure(ds, secure, sslReady)
	def := int64(80)
	if https {
		dst = append(dst, strHTTPSScheme...)
		def = 443
	} else {
		dst = append(dst, strHTTPScheme...)
	}
	dst = append(dst, b.FQDN...)
	port := int64(80)
	if secure {
		port = 443
	}
	port = b.Port.Or(port)
	if port != def {
		dst = strconv.AppendInt(append(dst, ':'), port, 10)
	}
	dst = append(dst, rawPath...)
	return q.appendTo(dst)
}

// queryParam returns the raw value of the first parameter named name
// (exact case).
func queryParam(query, name []byte) ([]byte, bool) {
	return findParam(query, name, false)
}

// queryParamFold is queryParam with the name compared in any letter case.
func queryParamFold(query, name []byte) ([]byte, bool) {
	return findParam(query, name, true)
}

func findParam(query, name []byte, fold bool) ([]byte, bool) {
	for rest := query; len(rest) > 0; {
		piece := rest
		if i := bytes.IndexByte(rest, '&'); i >= 0 {
			piece, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		k, v := piece, piece[len(piece):]
		if j := bytes.IndexByte(piece, '='); j >= 0 {
			k, v = piece[:j], piece[j+1:]
		}
		if (fold && bytes.EqualFold(k, name)) || (!fold && bytes.Equal(k, name)) {
			return v, true
		}
	}
	return nil, false
}

// appendJSONString appends s escaped for a JSON string (without quotes).
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20 || c == 0x7f:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
