package bench

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKubeAPIFromKubeconfig(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer s3cret":
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"who are you"}`)
		case r.URL.Path == "/api/v1/namespaces/x":
			w.WriteHeader(http.StatusNotFound)
		default:
			fmt.Fprint(w, `{"items":[{"metadata":{"name":"127.0.0.1"}}]}`)
		}
	}))
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(name, caLine, token string) string {
		p := filepath.Join(dir, name)
		kc := fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: a
clusters:
- name: c
  cluster:
    server: %s
    %s
users:
- name: u
  user:
    token: %s
contexts:
- name: a
  context: {cluster: c, user: u}
`, srv.URL, caLine, token)
		if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, caLine, token, ctx, wantErr string
	}{
		{name: "relative CA file", caLine: "certificate-authority: ca.crt", token: "s3cret"},
		{name: "inline CA", caLine: "certificate-authority-data: " + base64.StdEncoding.EncodeToString(ca), token: "s3cret"},
		{name: "wrong token", caLine: "certificate-authority: ca.crt", token: "nope", wantErr: "who are you (HTTP 401)"},
		{name: "no such context", caLine: "certificate-authority: ca.crt", token: "s3cret", ctx: "b", wantErr: `no context "b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api, err := newKubeAPI(write(strings.ReplaceAll(tc.name, " ", "_"), tc.caLine, tc.token), tc.ctx)
			if err == nil {
				var out struct {
					Items []struct {
						Metadata struct{ Name string } `json:"metadata"`
					} `json:"items"`
				}
				err = api.do(context.Background(), "GET", "/api/v1/nodes", nil, &out)
				if err == nil && (len(out.Items) != 1 || out.Items[0].Metadata.Name != "127.0.0.1") {
					t.Fatalf("decoded %+v", out)
				}
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	api, _ := newKubeAPI(write("nf", "certificate-authority: ca.crt", "s3cret"), "")
	if err := api.do(context.Background(), "GET", "/api/v1/namespaces/x", nil, nil); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("404: %v", err)
	}
}
