//go:build !linux

package dnsserver

import "net"

// setSocketBuffers keeps the kernel's default buffer sizes off Linux.
func setSocketBuffers(*net.UDPConn, int) {}

// dontFragment keeps the kernel's default path MTU handling off Linux.
func dontFragment(*net.UDPConn) {}
