package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/signpost-cdn/signpost/ops/store"
)

// hostile are names and values that broke SQL built by concatenation
// (Traffic Ops CVE-2024-45387) or that stress quoting and encoding.
var hostile = []string{
	`'; DROP TABLE cdn; --`,
	`Robert'); DROP TABLE app_user;--`,
	`" OR "1"="1`,
	`' OR '1'='1`,
	`a;b;c`,
	`back\slash`,
	`$1 $2 %s %d`,
	`日本語のCDN 🚀`,
	`a/b`,
	`..a`,
	`x` + strings.Repeat("ü", 500), // 1001 bytes
}

func TestHostileNamesAndValues(t *testing.T) {
	e := newEnv(t)
	files := fixtureFiles(t)
	ptok := e.login("publisher")
	for _, name := range hostile {
		// The CDN name also goes into the snapshot and the comment.
		snap := editSnapshot(t, func(doc map[string]any) {
			doc["stats"].(map[string]any)["CDN_name"] = name
			doc["stats"].(map[string]any)["tm_user"] = `'); DELETE FROM blob; --` + name
		})
		body := map[string]any{"comment": name, "files": map[string]json.RawMessage{
			FileSnapshot: snap, FileSteering: files[FileSteering], FileMonitoring: json.RawMessage(monitoringExample)}}
		resp, out := e.do("POST", "/api/5.0/signpost/cdns/"+url.PathEscape(name)+"/generations", ptok, body, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("publish %q: %d %s", name, resp.StatusCode, out)
		}
	}
	rtok := e.login("reader")
	for _, name := range hostile {
		resp, body := e.do("GET", snapshotPath(name), rtok, nil, nil)
		if resp.StatusCode != 200 || resp.Header.Get(GenerationHeader) != "1" {
			t.Fatalf("fetch %q: %d %.200s", name, resp.StatusCode, body)
		}
		var doc struct {
			Response struct {
				Stats map[string]any `json:"stats"`
			} `json:"response"`
		}
		if err := json.Unmarshal(body, &doc); err != nil || doc.Response.Stats["CDN_name"] != name {
			t.Fatalf("CDN %q served the snapshot of %v (%v)", name, doc.Response.Stats["CDN_name"], err)
		}
		_, body = e.do("GET", "/api/5.0/federations/all?cdnName="+url.QueryEscape(name), rtok, nil, nil)
		marker, _ := json.Marshal(map[string]string{"cdnName": name})
		if !bytes.HasPrefix(body, append([]byte(`{"response":[`), marker...)) {
			t.Fatalf("federations of %q: %.200s", name, body)
		}
		_, body = e.do("GET", "/api/5.0/cdns/name/"+url.PathEscape(name)+"/dnsseckeys", rtok, nil, nil)
		var dk struct {
			Alerts []alert `json:"alerts"`
		}
		if err := json.Unmarshal(body, &dk); err != nil || len(dk.Alerts) != 1 || !strings.Contains(dk.Alerts[0].Text, name) {
			t.Fatalf("dnsseckeys of %q: %s (%v)", name, body, err)
		}
		h, err := e.store.History(e.ctx, name, 0)
		if err != nil || len(h) != 1 || h[0].Comment != name {
			t.Fatalf("history of %q: %+v %v", name, h, err)
		}
	}
	// Merged steering holds every CDN's entries: nothing lost, nothing extra.
	_, body := e.do("GET", "/api/5.0/steering", rtok, nil, nil)
	items, err := responseItems(body)
	if err != nil || len(items) != len(hostile)*countItems(t, files[FileSteering]) {
		t.Fatalf("merged steering has %d entries (%v)", len(items), err)
	}
	// Every table is intact.
	var cdns, gens, users int
	err = e.store.Pool().QueryRow(e.ctx, `SELECT (SELECT count(*) FROM cdn), (SELECT count(*) FROM generation), (SELECT count(*) FROM app_user)`).Scan(&cdns, &gens, &users)
	if err != nil || cdns != len(hostile) || gens != len(hostile) || users != 2 {
		t.Fatalf("after hostile publishes: %d CDNs, %d generations, %d users (%v)", cdns, gens, users, err)
	}

	// Hostile user names: stored and matched literally, never as SQL.
	for _, name := range hostile[:8] {
		var out bytes.Buffer
		t.Setenv("OPS_TEST_PW", testPassword)
		if err := AddUser(e.ctx, AddUserOptions{DB: e.url, Name: name, Role: store.RoleRead, PasswordEnv: "OPS_TEST_PW", BcryptCost: bcrypt.MinCost}, &out); err != nil {
			t.Fatalf("add user %q: %v", name, err)
		}
		resp, b := e.do("POST", "/api/5.0/user/login", "", map[string]string{"u": name, "p": "wrong' OR '1'='1"}, nil)
		if resp.StatusCode != 401 {
			t.Fatalf("login %q with an injected password: %d %s", name, resp.StatusCode, b)
		}
		if tok := e.login(name); tok == "" {
			t.Fatalf("login %q", name)
		}
	}
	for _, u := range []string{`reader' --`, `' OR 1=1 --`, `reader"`} {
		resp, _ := e.do("POST", "/api/5.0/user/login", "", map[string]string{"u": u, "p": testPassword}, nil)
		if resp.StatusCode != 401 {
			t.Fatalf("login as %q: %d, want 401", u, resp.StatusCode)
		}
	}

	// Names the server refuses, with a precise message and nothing stored.
	for _, c := range []struct{ name, want string }{
		{strings.Repeat("n", MaxCDNNameLen+1), "longer than the limit of 1024"},
		{"tab\tname", "control character U+0009"},
		{"nul\x00name", "control character U+0000"},
		{"..", "cannot be addressed in a URL path"},
	} {
		_, err := publishFiles(context.Background(), e.store, c.name, files, "t", "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("publish as %.20q: %v; want %s", c.name, err, c.want)
		}
	}
	resp, b := e.do("POST", "/api/5.0/signpost/cdns/"+strings.Repeat("n", 2000)+"/generations", ptok,
		map[string]any{"files": map[string]json.RawMessage{FileSnapshot: files[FileSnapshot]}}, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "longer than the limit") {
		t.Fatalf("over-long CDN name over HTTP: %d %s", resp.StatusCode, b)
	}
	if err := e.store.Pool().QueryRow(e.ctx, "SELECT count(*) FROM cdn").Scan(&cdns); err != nil || cdns != len(hostile) {
		t.Fatalf("CDNs after refused names: %d (%v)", cdns, err)
	}
}

func countItems(t *testing.T, raw []byte) int {
	t.Helper()
	var doc struct {
		Response []json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return len(doc.Response)
}
