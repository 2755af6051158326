//go:build !linux

package main

import "net"

// serveDNS answers one query per system call.
func serveDNS(c *net.UDPConn, d *dnsAnswers) error {
	in := make([]byte, 4096)
	out := make([]byte, 0, 4096)
	for {
		n, from, err := c.ReadFromUDPAddrPort(in)
		if err != nil {
			return err
		}
		var ok bool
		if out, ok = d.answer(out[:0], in[:n]); ok {
			if _, err := c.WriteToUDPAddrPort(out, from); err != nil {
				return err
			}
		}
	}
}
