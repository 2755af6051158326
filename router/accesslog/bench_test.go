package accesslog

import (
	"context"
	"io"
	"net/netip"
	"testing"
	"time"
)

// fullHTTP is a routed request with every field set.
func fullHTTP() HTTPRecord {
	r := baseHTTP()
	r.Start = time.UnixMilli(1700000000123)
	r.Result = ResultCZ
	r.HasLocation, r.Lat, r.Lon = true, 39.7528, -104.9997
	r.Status = 302
	r.Elapsed = 183456
	r.RURL = []byte("http://edge-cache-01.foo.mycdn.example.com/index.html?foo=bar")
	r.UserAgent = []byte("Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0")
	r.Services = []string{"foo"}
	r.Headers = []Header{{Name: "Host", Value: []byte("tr.foo.mycdn.example.com")}}
	return r
}

// fullDNS is a routed A query answered with two addresses.
func fullDNS(t testing.TB) DNSRecord {
	r := baseDNS(t)
	r.Received = time.UnixMilli(1700000000123)
	r.Resolver = netip.MustParseAddr("2001:db8::53")
	r.Elapsed = 51234
	r.Result = ResultGeo
	r.HasLocation, r.Lat, r.Lon = true, 39.7528, -104.9997
	r.Answers = []DNSAnswer{
		{TTL: 30, Type: 1, RData: []byte{10, 0, 0, 1}},
		{TTL: 30, Type: 1, RData: []byte{10, 0, 0, 2}},
	}
	r.Service = "foo"
	return r
}

func BenchmarkAppendHTTP(b *testing.B) {
	r := fullHTTP()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendHTTP(buf[:0], &r)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkAppendDNS(b *testing.B) {
	r := fullDNS(b)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendDNS(buf[:0], &r)
	}
	b.SetBytes(int64(len(buf)))
}

func benchWriter(b *testing.B) *Writer {
	w, err := New(Config{Out: io.Discard, QueueChunks: 256})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
		st := w.Stats()
		b.ReportMetric(float64(st.Dropped)/float64(st.Dropped+st.Accepted), "dropped/op")
	})
	return w
}

func BenchmarkLogDNS(b *testing.B) {
	w := benchWriter(b)
	r := fullDNS(b)
	b.ReportAllocs()
	for b.Loop() {
		w.LogDNS(&r)
	}
}

func BenchmarkLogDNSParallel(b *testing.B) {
	w := benchWriter(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := fullDNS(b)
		for pb.Next() {
			w.LogDNS(&r)
		}
	})
}

func BenchmarkLogHTTPParallel(b *testing.B) {
	w := benchWriter(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := fullHTTP()
		for pb.Next() {
			w.LogHTTP(&r)
		}
	})
}
