//go:build !linux

package dnsserver

import "net"

// setSocketBuffers keeps the kernel's default buffer sizes off Linux.
func setSocketBuffers(*net.UDPConn, int) {}

// dontFragment keeps the kernel's default path MTU handling off Linux.
func dontFragment(*net.UDPConn) {}

// ctrlSlot is the control buffer per datagram (unused off Linux).
const ctrlSlot = 64

// recvDestination leaves sockets alone off Linux: answers from a socket
// bound to a wildcard address leave from the address the kernel picks.
func recvDestination(*net.UDPConn) (bool, error) { return false, nil }

// replySource sends no control messages off Linux.
func replySource([]byte) int { return 0 }
