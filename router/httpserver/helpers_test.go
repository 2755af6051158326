package httpserver

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/internal/syncbuf"

	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/router"
	"github.com/signpost-cdn/signpost/router/accesslog"
)

// loadSet reads the fixture snapshot directory into a control.Set; edit,
// when set, may change a file's bytes before parsing.
func loadSet(tb testing.TB, edit func(name string, data []byte) []byte) *control.Set {
	tb.Helper()
	dir := fixture.DefaultDir(tb)
	ds := map[string]control.Dataset{}
	for _, name := range control.Files() {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			tb.Fatal(err)
		}
		if edit != nil {
			data = edit(name, data)
		}
		d, err := control.ParseFile(name, data)
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		ds[name] = d
	}
	return control.Assemble(ds, 1, time.Now())
}

// env is a running server on in-memory listeners.
type env struct {
	srv                    *Server
	rt                     *router.Router
	httpLn, httpsLn, apiLn *fasthttputil.InmemoryListener
	client                 *http.Client
	accessLog              *syncbuf.Buffer
	appLog                 *syncbuf.Buffer
	cancel                 context.CancelFunc
	done                   chan error
	logDone                chan error
}

func newEnv(t *testing.T, set *control.Set) *env {
	t.Helper()
	e := &env{
		rt:        router.New(hashring.MD5, nil),
		httpLn:    fasthttputil.NewInmemoryListener(),
		httpsLn:   fasthttputil.NewInmemoryListener(),
		apiLn:     fasthttputil.NewInmemoryListener(),
		accessLog: &syncbuf.Buffer{},
		appLog:    &syncbuf.Buffer{},
	}
	tab, err := e.rt.Publish(set)
	if err != nil {
		t.Fatal(err)
	}
	alog, err := accesslog.New(accesslog.Config{Out: e.accessLog, FlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.srv, err = New(Config{
		Router: e.rt, HTTPListener: e.httpLn, HTTPSListener: e.httpsLn, APIListener: e.apiLn,
		AccessLog: alog, Logger: slog.New(slog.NewTextHandler(e.appLog, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Publish(tab); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done, e.logDone = cancel, make(chan error, 1), make(chan error, 1)
	go func() { e.logDone <- alog.Run(ctx) }()
	go func() { e.done <- e.srv.Run(ctx) }()
	dial := func(addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		switch port {
		case "443":
			return e.httpsLn.Dial()
		case "3333":
			return e.apiLn.Dial()
		}
		return e.httpLn.Dial()
	}
	e.client = &http.Client{
		Transport: &http.Transport{
			DialContext: func(_ context.Context, _, addr string) (net.Conn, error) { return dial(addr) },
			DialTLSContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				c, err := dial(addr)
				if err != nil {
					return nil, err
				}
				host, _, _ := net.SplitHostPort(addr)
				tc := tls.Client(c, &tls.Config{ServerName: host, InsecureSkipVerify: true})
				if err := tc.HandshakeContext(ctx); err != nil {
					c.Close()
					return nil, err
				}
				return tc, nil
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       5 * time.Second,
	}
	t.Cleanup(func() {
		cancel()
		if err := <-e.done; err != nil {
			t.Errorf("Run: %v", err)
		}
		<-e.logDone
	})
	return e
}

// response is what a test request got.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends method to url (scheme://host/target; port 443 for https)
// with the headers.
func (e *env) do(t *testing.T, method, url string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

// raw writes a raw request on a fresh connection to the HTTP port and
// returns the raw response.
func (e *env) raw(t *testing.T, req string) string {
	t.Helper()
	c, err := e.httpLn.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		sb.Write(buf[:n])
		if err != nil || strings.Contains(sb.String(), "\r\n\r\n") && (strings.HasPrefix(req, "HEAD ") || !strings.Contains(sb.String(), "Content-Length: ")) {
			break
		}
		if i := strings.Index(sb.String(), "\r\n\r\n"); i >= 0 {
			head := sb.String()[:i]
			if j := strings.Index(head, "Content-Length: "); j >= 0 {
				var cl int
				for _, c := range head[j+len("Content-Length: "):] {
					if c < '0' || c > '9' {
						break
					}
					cl = cl*10 + int(c-'0')
				}
				if len(sb.String())-i-4 >= cl {
					break
				}
			}
		}
	}
	return sb.String()
}

// waitLog waits until the access log holds a line containing want.
func (e *env) waitLog(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(e.accessLog.String(), "\n") {
			if strings.Contains(line, want) {
				return line
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no access log line with %q in:\n%s", want, e.accessLog.String())
	return ""
}
