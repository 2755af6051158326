//go:build linux

package cdngen

import "syscall"

// maxRSS returns the peak resident set size of this process in bytes, or -1.
func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Maxrss * 1024 // kilobytes on Linux
}
