package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/auth"
	"github.com/jobctl/jobctl/internal/health"
)

// TestSeparateMonitor: with --metrics-addr the admin's listener leaves
// health and metrics to the monitor's, which serves nothing else.
func TestSeparateMonitor(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SeparateMonitor, c.Health, c.Metrics = true, nil, nil })
	w := e.do(t, req{method: "GET", path: HealthPath})
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "metrics address") {
		t.Errorf("health on the admin's listener: %d %s; want 404 pointing at the metrics address", w.Code, w.Body)
	}
	if w := e.do(t, req{method: "GET", path: MetricsPath}); w.Code != http.StatusNotFound {
		t.Errorf("metrics on the admin's listener: %d; want 404", w.Code)
	}
	unhealthy := func(context.Context) *health.Report { return &health.Report{Status: health.Unhealthy} }
	m := NewMonitor(Monitor{Health: unhealthy, Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "m\n") }), Version: "v9"})
	if w := serve2(m, httptestRequest("GET", HealthPath, "")); w.Code != http.StatusServiceUnavailable || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("monitor health: %d %v; want 503 JSON, not cached", w.Code, w.Header())
	}
	if w := serve2(m, httptestRequest("GET", MetricsPath, "")); w.Body.String() != "m\n" {
		t.Errorf("monitor metrics: %q", w.Body)
	}
	if w := serve2(m, httptestRequest("GET", "/api/admin/jobs", "")); w.Code != http.StatusNotFound {
		t.Errorf("monitor serves the API: %d; want 404", w.Code)
	}
	if w := serve2(m, httptestRequest("GET", "/", "")); !strings.HasPrefix(w.Body.String(), "jobctl v9\n") {
		t.Errorf("monitor root: %q", w.Body)
	}
}

// TestNewConfig refuses configurations that cannot work.
func TestNewConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no ops":                 {SeparateMonitor: true},
		"no health":              {Ops: newFakeOps()},
		"proxy without trusting": {Ops: newFakeOps(), SeparateMonitor: true, Proxy: Proxy{UserHeader: "X-User"}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Without pages, the root lists what is served.
	e := newEnv(t, func(c *Config) { c.UI = nil })
	if w := e.do(t, req{method: "GET", path: "/"}); !strings.Contains(w.Body.String(), OpenAPIPath) {
		t.Errorf("root without pages: %q", w.Body)
	}
	// ... and pages still need a login rather than a 404 that leaks nothing either way.
	if w := e.do(t, req{method: "GET", path: "/admin/jobs"}); w.Code != http.StatusSeeOther {
		t.Errorf("page path without pages, anonymous: %d; want 303", w.Code)
	}
}

// TestServeTLS: with a certificate the server speaks HTTPS, and the login
// cookie it sets is Secure.
func TestServeTLS(t *testing.T) {
	cert, key := selfSigned(t)
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, e.h, TLS{CertFile: cert, KeyFile: key}) }()
	certPEM, _ := os.ReadFile(cert)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := "https://" + ln.Addr().String()
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var csrf *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == CSRFCookie {
			csrf = ck
		}
	}
	if csrf == nil || !csrf.Secure {
		t.Fatalf("CSRF cookie over TLS: %+v; want Secure", csrf)
	}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader("name=admin1&password=pw-admin1&csrf="+csrf.Value))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(csrf)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == auth.CookieName {
			sess = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || sess == nil || !sess.Secure || !sess.HttpOnly {
		t.Errorf("login over TLS: %d, cookie %+v; want 303 and a Secure, HttpOnly session cookie", resp.StatusCode, sess)
	}
	// Plain HTTP to the TLS listener gets Go's 400, never the admin.
	if resp, err := http.Get("http://" + ln.Addr().String() + "/api/admin/jobs"); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain HTTP to the TLS listener: %v %v; want 400", resp, err)
	} else {
		resp.Body.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "jobctl test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
