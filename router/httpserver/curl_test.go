package httpserver

import (
	"context"
	"encoding/pem"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/internal/testtool"
	"github.com/signpost-cdn/signpost/router"
)

// TestCurl starts the real servers on loopback ports and checks routing
// and the API with curl over HTTP and HTTPS. HTTPS verifies the fixture's
// chain: the https-only-test certificate (CN *.https-only-test.thecdn.example.com,
// no subjectAltName) is issued by "Testing Intermediate CA", which the
// chain carries; the root is not in the fixture, so the intermediate is
// the trust anchor (curl accepts a partial chain with OpenSSL) and no -k
// is needed.
func TestCurl(t *testing.T) {
	testtool.Require(t, "curl")
	set := loadSet(t, nil)
	rt := router.New(hashring.MD5, nil)
	tab, err := rt.Publish(set)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Router: rt, HTTPAddr: "127.0.0.1:0", HTTPSAddr: "127.0.0.1:0", APIAddr: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(tab); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	port := func(a net.Addr) string { return strconv.Itoa(a.(*net.TCPAddr).Port) }
	httpPort, httpsPort, apiPort := port(s.HTTPAddr()), port(s.HTTPSAddr()), port(s.APIAddr())

	key, ok := set.TLSKeys.Key("https-only-test")
	if !ok || len(key.Certificate.Certificate) < 2 {
		t.Fatal("fixture https-only-test chain")
	}
	ca := filepath.Join(t.TempDir(), "intermediate.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: key.Certificate.Certificate[1]}), 0o644); err != nil {
		t.Fatal(err)
	}

	curl := func(args ...string) (code, location, body string) {
		t.Helper()
		out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "5", "-o", "-", "-w", "\n%{http_code} %{redirect_url}"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, out)
		}
		s := string(out)
		i := strings.LastIndexByte(s, '\n')
		f := strings.SplitN(s[i+1:], " ", 2)
		return f[0], f[1], s[:i]
	}
	const q = "?fakeClientIpAddress=12.34.0.123"
	code, loc, _ := curl("-H", "Host: tr.http-only-test.thecdn.example.com", "http://127.0.0.1:"+httpPort+"/stuff"+q)
	if code != "302" || loc != "http://edge-cache-001.http-only-test.thecdn.example.com:8090/stuff"+q {
		t.Errorf("R1: %s %s", code, loc)
	}
	code, _, body := curl("-H", "Host: tr.http-only-test.thecdn.example.com", "http://127.0.0.1:"+httpPort+"/stuff"+q+"&format=json")
	if code != "200" || body != `{"location": "http://edge-cache-001.http-only-test.thecdn.example.com:8090/stuff`+q+`&format=json" }`+"\n" {
		t.Errorf("R2: %s %q", code, body)
	}
	host := "tr.https-only-test.thecdn.example.com"
	code, loc, _ = curl("--cacert", ca, "--resolve", host+":"+httpsPort+":127.0.0.1", "https://"+host+":"+httpsPort+"/stuff"+q)
	if code != "302" || loc != "https://edge-cache-002.https-only-test.thecdn.example.com/stuff"+q {
		t.Errorf("R6: %s %s", code, loc)
	}
	// TLS 1.1 is refused.
	if out, err := exec.Command("curl", "-sS", "--max-time", "5", "--cacert", ca, "--tls-max", "1.1", "--resolve", host+":"+httpsPort+":127.0.0.1",
		"https://"+host+":"+httpsPort+"/").CombinedOutput(); err == nil {
		t.Errorf("TLS 1.1 accepted: %s", out)
	}
	code, _, body = curl("http://127.0.0.1:" + apiPort + "/crs/deliveryservices?url=http%3A%2F%2Ftrafficrouter01.steering-target-1.thecdn.example.com%2Fstuff")
	if code != "200" || body != `{"id":"steering-target-1"}` {
		t.Errorf("R20: %s %q", code, body)
	}
	if code, _, _ = curl("http://127.0.0.1:" + apiPort + "/readyz"); code != "200" {
		t.Errorf("readyz %s", code)
	}
}
