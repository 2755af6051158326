package dnsload

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/miekg/dns"
)

// staticQueries is BENCHMARKING.md's queries.txt on the static zone.
func staticQueries() []byte {
	return []byte("www." + StaticZone + " A\nimg." + StaticZone + " A\n")
}

// mixQueries follows BENCHMARKING.md's queries-big.txt recipe on the static
// zone: 10% unknown names (NXDOMAIN), 10% AAAA of names that have one, the
// rest A.
func (p *plan) mixQueries() []byte {
	rng := rand.New(rand.NewPCG(p.o.Seed, 0x6d6978))
	var b bytes.Buffer
	quarter := (p.o.StaticNames + 3) / 4 // names with an AAAA: h0, h4, ...
	for range p.o.MixQueries {
		switch r := rng.Float64(); {
		case r < 0.1:
			fmt.Fprintf(&b, "nx%d.%s A\n", rng.IntN(1000001), StaticZone)
		case r < 0.2:
			fmt.Fprintf(&b, "h%d.%s AAAA\n", 4*rng.IntN(quarter), StaticZone)
		default:
			fmt.Fprintf(&b, "h%d.%s A\n", rng.IntN(p.o.StaticNames), StaticZone)
		}
	}
	return b.Bytes()
}

// ecsQuery packs an A query for the routed name with EDNS (1232) and an ECS
// option carrying the /24 of n.
func ecsQuery(id uint16, n zoneNet) ([]byte, error) {
	m := new(dns.Msg)
	m.SetQuestion(RoutedName+".", dns.TypeA)
	m.Id = id
	m.RecursionDesired = false
	opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	opt.SetUDPSize(1232)
	opt.Option = append(opt.Option, &dns.EDNS0_SUBNET{
		Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: uint8(n.prefix.Bits()), Address: n.prefix.Addr().AsSlice(),
	})
	m.Extra = append(m.Extra, opt)
	return m.Pack()
}

// ecsQueries is dnsperf's binary query format (-B): each message preceded by
// its 16-bit big-endian length, as on a TCP stream. Every query carries the
// /24 of a coverage zone drawn at random.
func (p *plan) ecsQueries() ([]byte, error) {
	rng := rand.New(rand.NewPCG(p.o.Seed, 0x656373))
	var b bytes.Buffer
	for i := range p.o.ECSQueries {
		msg, err := ecsQuery(uint16(i), p.nets[rng.IntN(len(p.nets))])
		if err != nil {
			return nil, fmt.Errorf("dnsload: queries-ecs.bin: %w", err)
		}
		b.Write(binary.BigEndian.AppendUint16(nil, uint16(len(msg))))
		b.Write(msg)
	}
	return b.Bytes(), nil
}

// ecsChecks lists, for the first prefix of every group and a few more, the
// subnet and the address both routers must answer: "10.1.2.0/24 192.0.2.27".
func (p *plan) ecsChecks() []byte {
	var b bytes.Buffer
	for i, n := range p.nets {
		if i >= p.o.Groups+5 {
			break
		}
		fmt.Fprintf(&b, "%s %s\n", n.prefix, cacheAddr(n.group))
	}
	return b.Bytes()
}
