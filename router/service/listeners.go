package service

import (
	"context"
	"fmt"
	"net"

	"golang.org/x/sync/errgroup"

	"github.com/signpost-cdn/signpost/router/dnsserver"
	"github.com/signpost-cdn/signpost/router/httpserver"
)

// startListeners binds every configured listener (so a bad address fails at
// start) and adds its Run to g. DNS answers nothing until the first table
// is published; the HTTP routing ports answer 503 and /readyz fails until
// then.
func (s *Service) startListeners(ctx context.Context, g *errgroup.Group) error {
	var addrs Addrs
	if s.cfg.DNS != "" {
		h := dnsserver.NewRoutingHandler(s.router, dnsserver.Options{AccessLog: s.alog, Metrics: s.metrics, Logger: s.log})
		srv, err := dnsserver.New(dnsserver.Config{Addr: s.cfg.DNS, Workers: s.cfg.DNSWorkers, UDPWait: s.cfg.DNSWait, Logger: s.log})
		if err != nil {
			return fmt.Errorf("route: --dns %s: %w", s.cfg.DNS, err)
		}
		srv.RegisterMetrics(s.metrics)
		s.addPublisher(publishFunc(func(t publishTable) error {
			if err := h.Publish(t); err != nil {
				return err
			}
			srv.SetHandler(h)
			return nil
		}))
		addrs.DNS = srv.UDPAddr().String()
		g.Go(func() error { return srv.Run(ctx) })
	}
	if s.cfg.HTTP != "" || s.cfg.HTTPS != "" || s.cfg.API != "" {
		srv, err := httpserver.New(httpserver.Config{
			Router: s.router, HTTPAddr: s.cfg.HTTP, HTTPSAddr: s.cfg.HTTPS, APIAddr: s.cfg.API,
			AccessLog: s.alog, Metrics: s.metrics, Logger: s.log, ReloadStatus: s.status,
			Version: s.cfg.Version,
		})
		if err != nil {
			return fmt.Errorf("route: HTTP listeners: %w", err)
		}
		s.addPublisher(srv)
		addrs.HTTP, addrs.HTTPS, addrs.API = addrString(srv.HTTPAddr()), addrString(srv.HTTPSAddr()), addrString(srv.APIAddr())
		g.Go(func() error { return srv.Run(ctx) })
	}
	s.mu.Lock()
	s.readyFn = func() {
		if s.cfg.OnReady != nil {
			s.cfg.OnReady(addrs)
		}
	}
	s.mu.Unlock()
	return nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
