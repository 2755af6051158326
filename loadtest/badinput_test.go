package loadtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/loadtest/internal/lttest"
)

func TestLoadCDNBadDirectory(t *testing.T) {
	if _, err := LoadCDN(filepath.Join(t.TempDir(), "nope")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing directory: %v", err)
	}
	dir := t.TempDir()
	if _, err := LoadCDN(dir); err == nil || !strings.Contains(err.Error(), "crconfig.json") {
		t.Fatalf("empty directory: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "crconfig.json"), []byte(`{"config": {"domain_name": 5}, "contentServers": [`), 0o644)
	os.WriteFile(filepath.Join(dir, "czmap.json"), []byte(`{"coverageZones": {"z": {"network": ["10.0.0.0/40"]}}}`), 0o644)
	_, err := LoadCDN(dir)
	if err == nil || !strings.Contains(err.Error(), "crconfig.json") || !strings.Contains(err.Error(), "czmap.json") {
		t.Fatalf("want every file's problems, got %v", err)
	}
}

func TestConfigValidateListsEveryProblem(t *testing.T) {
	err := Config{Mode: "sideways", Mix: Mix{DNS: -1, Miss: 2}, HTTP: "nocolon"}.Validate()
	for _, want := range []string{"snapshot: required", `mode "sideways"`, "duration 0s", "mix.dns -1", "mix.miss 2", `http "nocolon"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
}

func TestWrongAndGarbageAnswers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		addr    string
		garbage bool
		check   func(*recorder) bool
	}{
		{"wrong cache", "10.9.9.9", false, func(r *recorder) bool { return r.c.wrong > 0 && r.c.reasons[reasonWrongAddr] == r.c.wrong }},
		{"garbage", "10.0.0.1", true, func(r *recorder) bool { return r.c.errors > 0 && r.c.reasons[reasonMalformed] == r.c.errors }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, rec := newTestUDPEngine(t, udpResponderWith(t, tc.garbage, mustAddr(tc.addr)))
			e.roundTrip(udpBatch)
			if !tc.check(rec) {
				t.Fatalf("counts %+v", rec.c)
			}
			if tc.name == "wrong cache" && (len(e.s.wrong) == 0 || !strings.Contains(e.s.wrong[0].Detail, "answered 10.9.9.9")) {
				t.Fatalf("samples %+v", e.s.wrong)
			}
		})
	}
}

func freeAddr(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestRouterDown(t *testing.T) {
	dir := lttest.GenSmall(t)
	cfg := Config{DNS: freeAddr(t, "udp"), HTTP: freeAddr(t, "tcp"), Snapshot: dir, Mode: ClosedLoop, Concurrency: 4,
		Duration: Duration(500 * time.Millisecond), Timeout: Duration(200 * time.Millisecond), Mix: DefaultMix()}
	cfg.Mix.DNSTCP = 1
	res, err := Run(context.Background(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.OK != 0 || res.Total.Errors+res.Total.Timeouts == 0 || !strings.Contains(res.Summary(), "connection refused") {
		t.Fatalf("want refused errors:\n%s", res.Summary())
	}
}

func TestHTTPSCertificateNotTrusted(t *testing.T) {
	dir := lttest.GenSmall(t)
	a := lttest.StartRouter(t, dir)
	ca := filepath.Join(t.TempDir(), "other-ca.pem")
	os.WriteFile(ca, selfSignedCA(t), 0o644)
	cfg := Config{HTTPS: a.HTTPS, Snapshot: dir, CAFile: ca, Mode: ClosedLoop, Concurrency: 2,
		Duration: Duration(300 * time.Millisecond), Mix: Mix{HTTPS: 1, CoverageZone: 1}}
	res, err := Run(context.Background(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.OK != 0 || res.Total.Reasons[reasonTLS.String()] == 0 || !strings.Contains(res.FirstErrors[reasonTLS.String()], "certificate") {
		t.Fatalf("want TLS errors:\n%s", res.Summary())
	}
}

func TestInterruptedRunKeepsPartialResults(t *testing.T) {
	dir := lttest.GenSmall(t)
	a := lttest.StartRouter(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	cfg := Config{DNS: a.DNS, HTTP: a.HTTP, Snapshot: dir, Mode: OpenLoop, Rate: 2000,
		Duration: Duration(time.Minute), Mix: DefaultMix()}
	res, err := Run(ctx, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Total.OK == 0 || res.Total.Wrong != 0 {
		t.Fatalf("want a partial, correct result:\n%s", res.Summary())
	}
}

func selfSignedCA(t *testing.T) []byte {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other CA"}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
