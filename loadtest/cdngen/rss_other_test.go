//go:build !linux

package cdngen

// maxRSS is not measured outside Linux.
func maxRSS() int64 { return -1 }
