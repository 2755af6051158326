package ops

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/ops/store"
)

func TestPublishRollbackHistoryCommands(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	// Generation 1 from the repository's example snapshot directory (which
	// also holds files that are not stored).
	var out bytes.Buffer
	if err := Publish(ctx, PublishOptions{DB: e.url, CDN: "thecdn", Dir: fixture.DefaultDir(t), Author: "alice", Comment: "initial"}, &out); err != nil {
		t.Fatalf("publish: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"skipped crstates.json: not stored (health comes from the monitors",
		"skipped geo.mmdb: not stored (MaxMind databases",
		`cdn "thecdn": generation 1 published; first generation:`,
		"  files: ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("publish output lacks %q:\n%s", want, out.String())
		}
	}
	gen1Files := e.mustLoad("thecdn", 1)

	// Generation 2: one delivery service removed, one cache changed, one
	// cache and one cache group added, steering changed.
	base, err := os.ReadFile(filepath.Join(fixture.DefaultDir(t), "crconfig.json"))
	if err != nil {
		t.Fatal(err)
	}
	snap := editJSON(t, base, func(doc map[string]any) {
		ds := doc["deliveryServices"].(map[string]any)
		var victim string
		for k := range ds {
			if victim == "" || k < victim {
				victim = k
			}
		}
		delete(ds, victim)
		cs := doc["contentServers"].(map[string]any)
		var first string
		for k := range cs {
			if first == "" || k < first {
				first = k
			}
		}
		cs[first].(map[string]any)["status"] = "ADMIN_DOWN"
		clone := map[string]any{}
		for k, v := range cs[first].(map[string]any) {
			clone[k] = v
		}
		cs["new-cache-x"] = clone
		el := doc["edgeLocations"].(map[string]any)
		el["new-group-y"] = map[string]any{"latitude": 1.0, "longitude": 2.0}
	})
	dir := t.TempDir()
	copyDir(t, fixture.DefaultDir(t), dir)
	if err := os.WriteFile(filepath.Join(dir, "crconfig.json"), snap, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "steering.json"), fixture.Read(t, "atc/steering2.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := Publish(ctx, PublishOptions{DB: e.url, CDN: "thecdn", Dir: dir, Author: "bob"}, &out); err != nil {
		t.Fatalf("publish 2: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"generation 2 published; changes since generation 1:",
		"delivery services: 0 added, 1 removed, 0 changed",
		"caches: 1 added, 0 removed, 1 changed",
		`+ "new-cache-x"`,
		"cache groups: 1 added, 0 removed, 0 changed",
		`+ "new-group-y"`,
		"files: 0 added, 0 removed, 2 changed",
		`~ "steering.json"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("publish 2 output lacks %q:\n%s", want, out.String())
		}
	}

	// Rollback to 1: generation 3 with generation 1's content.
	out.Reset()
	if err := Rollback(ctx, RollbackOptions{DB: e.url, CDN: "thecdn", To: 1, Author: "carol"}, &out); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	for _, want := range []string{
		"generation 3 published (rollback to generation 1); changes since generation 2:",
		"delivery services: 1 added, 0 removed, 0 changed",
		"caches: 0 added, 1 removed, 1 changed",
		`- "new-cache-x"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("rollback output lacks %q:\n%s", want, out.String())
		}
	}
	gen3Files := e.mustLoad("thecdn", 3)
	if len(gen3Files) != len(gen1Files) {
		t.Fatalf("generation 3 has %d files, generation 1 %d", len(gen3Files), len(gen1Files))
	}
	for i := range gen1Files {
		if gen1Files[i].Name != gen3Files[i].Name || !bytes.Equal(gen1Files[i].Body, gen3Files[i].Body) {
			t.Fatalf("generation 3 %s differs from generation 1", gen3Files[i].Name)
		}
	}
	if err := Rollback(ctx, RollbackOptions{DB: e.url, CDN: "thecdn", To: 9}, &out); err == nil || !strings.Contains(err.Error(), "has no generation 9") {
		t.Fatalf("rollback to a missing generation: %v", err)
	}

	// History, newest first, with per-generation changes.
	out.Reset()
	if err := History(ctx, HistoryOptions{DB: e.url, CDN: "thecdn"}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("history has %d lines:\n%s", len(lines), out.String())
	}
	checks := []string{
		`generation 3 `, `by "carol"  rollback to 1  "rollback to generation 1"`,
		`delivery services +1 -0 ~0, caches +0 -1 ~1, cache groups +0 -1 ~0, files +0 -0 ~2`,
		`generation 2 `, `delivery services +0 -1 ~0, caches +1 -0 ~1, cache groups +1 -0 ~0, files +0 -0 ~2`,
		`generation 1 `, `by "alice"  "initial"`,
	}
	for _, c := range checks {
		if !strings.Contains(out.String(), c) {
			t.Errorf("history lacks %q:\n%s", c, out.String())
		}
	}
	var ie *InputError
	if err := History(ctx, HistoryOptions{DB: e.url, CDN: "nope"}, &out); !errors.As(err, &ie) {
		t.Fatalf("history of an unknown CDN: %v", err)
	}
	// The server followed all three generations.
	tok := e.login("reader")
	resp, _ := e.do("GET", snapshotPath("thecdn"), tok, nil, nil)
	if resp.Header.Get(GenerationHeader) != "3" {
		t.Fatalf("server generation %q, want 3", resp.Header.Get(GenerationHeader))
	}
}

func TestAddUserCommand(t *testing.T) {
	e := newEnv(t)
	var out bytes.Buffer
	err := AddUser(e.ctx, AddUserOptions{DB: e.url, Name: "ops1", Role: "publish", Stdin: strings.NewReader(testPassword + "\n"), BcryptCost: bcrypt.MinCost}, &out)
	if err != nil || out.String() != "user \"ops1\" created with role publish\n" {
		t.Fatalf("add: %v %q", err, out.String())
	}
	e.login("ops1")
	t.Setenv("OPS_PW", testPassword)
	out.Reset()
	err = AddUser(e.ctx, AddUserOptions{DB: e.url, Name: "ops1", Role: "read", PasswordEnv: "OPS_PW", BcryptCost: bcrypt.MinCost}, &out)
	if err != nil || !strings.Contains(out.String(), "updated (sessions ended) with role read") {
		t.Fatalf("update: %v %q", err, out.String())
	}
	for _, c := range []struct {
		opts AddUserOptions
		want string
	}{
		{AddUserOptions{Name: "x", Role: "admin", Stdin: strings.NewReader(testPassword)}, "want read or publish"},
		{AddUserOptions{Name: "x", Role: "read", Stdin: strings.NewReader("short\n")}, "at least 8"},
		{AddUserOptions{Name: "x", Role: "read", Stdin: strings.NewReader(strings.Repeat("p", 80))}, "at most 72"},
		{AddUserOptions{Name: "x", Role: "read"}, "stdin"},
		{AddUserOptions{Name: "", Role: "read", Stdin: strings.NewReader(testPassword)}, "must not be empty"},
	} {
		c.opts.DB = e.url
		if err := AddUser(e.ctx, c.opts, &out); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("AddUser(%+v): %v; want %s", c.opts, err, c.want)
		}
	}
}

func TestServeTLS(t *testing.T) {
	dbURL := newEnv(t).url
	cert, key := selfSigned(t)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeOptions{DB: dbURL, Listen: "127.0.0.1:0", TLSCert: cert, TLSKey: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), OnListen: func(a net.Addr) { addrc <- a }})
	}()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // test certificate
	resp, err := client.Post("https://"+addr.String()+"/api/5.0/user/login", "application/json", strings.NewReader(`{"u":"reader","p":"`+testPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(resp.Cookies()) != 2 || !resp.Cookies()[0].Secure || !resp.Cookies()[0].HttpOnly {
		t.Fatalf("TLS login: %d cookies %v", resp.StatusCode, resp.Cookies())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not stop")
	}
	if err := Serve(context.Background(), ServeOptions{DB: dbURL, Listen: ":0", TLSCert: cert}); err == nil || !strings.Contains(err.Error(), "go together") {
		t.Fatalf("cert without key: %v", err)
	}
}

func (e *env) mustLoad(cdn string, gen int64) []store.File {
	e.t.Helper()
	_, files, err := e.store.Load(e.ctx, cdn, gen)
	if err != nil {
		e.t.Fatal(err)
	}
	return files
}

func editJSON(t *testing.T, data []byte, fn func(map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if r, ok := doc["response"].(map[string]any); ok {
		doc = r
	}
	fn(doc)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 and returns their paths.
func selfSigned(t *testing.T) (string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ops-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}
