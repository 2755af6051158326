package monitor

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The encoders in this file are append-style: they take dst and return it
// extended, so a caller can reuse buffers.

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string literal.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf && c != '<' && c != '>' && c != '&' {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendJSONBytesString(dst, s []byte) []byte {
	return appendJSONString(dst, string(s))
}

func appendBool(dst []byte, b bool) []byte { return strconv.AppendBool(dst, b) }

func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// appendCrStates writes the CrStates document (spec A.13 / TR spec §2):
// {"caches":{host:{isAvailable,ipv4Available,ipv6Available,status,lastPoll}},
// "deliveryServices":{xmlId:{disabledLocations:[],isAvailable}}}.
func appendCrStates(dst []byte, s *State, raw bool) []byte {
	dst = append(dst, `{"caches":{`...)
	for i, name := range s.CacheNames {
		c := s.Caches[name]
		a := c.Combined
		if raw {
			a = c.Local
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, name)
		dst = append(dst, `:{"isAvailable":`...)
		dst = appendBool(dst, a.Available)
		dst = append(dst, `,"ipv4Available":`...)
		dst = appendBool(dst, a.IPv4)
		dst = append(dst, `,"ipv6Available":`...)
		dst = appendBool(dst, a.IPv6)
		dst = append(dst, `,"status":`...)
		dst = appendJSONString(dst, c.Reason)
		dst = append(dst, `,"lastPoll":`...)
		dst = appendTime(dst, c.LastPoll)
		dst = append(dst, '}')
	}
	dst = append(dst, `},"deliveryServices":{`...)
	for i, name := range s.DSNames {
		d := s.DSes[name]
		avail := d.Combined
		if raw {
			avail = d.Local
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, name)
		dst = append(dst, `:{"disabledLocations":[],"isAvailable":`...)
		dst = appendBool(dst, avail)
		dst = append(dst, '}')
	}
	return append(dst, "}}"...)
}
