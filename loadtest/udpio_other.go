//go:build !linux

package loadtest

import "net"

// plainIO sends and receives one datagram per system call.
type plainIO struct{ c *net.UDPConn }

func newUDPIO(c *net.UDPConn, _ int) (udpIO, error) { return plainIO{c}, nil }

func (p plainIO) sendBatch(bufs [][]byte) (int, error) {
	for i, b := range bufs {
		if _, err := p.c.Write(b); err != nil {
			return i, err
		}
	}
	return len(bufs), nil
}

func (p plainIO) recvBatch(bufs [][]byte, sizes []int) (int, error) {
	n, err := p.c.Read(bufs[0])
	if err != nil {
		return 0, err
	}
	sizes[0] = n
	return 1, nil
}
