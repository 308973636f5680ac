package web

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/auth"
)

func TestServeGraceful(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, h, TLS{}) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		got <- string(body)
	}()
	<-started
	cancel() // as SIGTERM does, with a request in flight
	if err := <-served; err != nil {
		t.Errorf("Serve: %v; want nil after a graceful stop", err)
	}
	if body := <-got; body != "done" {
		t.Errorf("request in flight got %q; want it finished", body)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("still listening after shutdown")
	}
}

// TestServeEndsStreams: on shutdown an event stream ends at once, while a
// plain request in flight still gets to finish.
func TestServeEndsStreams(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, e.h, TLS{}) }()
	base := "http://" + ln.Addr().String()
	get := func(path string) (*http.Response, error) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.AddCookie(&http.Cookie{Name: auth.CookieName, Value: "cookie-admin1"})
		return http.DefaultClient.Do(req)
	}
	stream, err := get("/admin/events")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	line, err := bufio.NewReader(stream.Body).ReadString('\n')
	if err != nil || line != "data: hello\n" {
		t.Fatalf("stream: %q %v", line, err)
	}
	slow := make(chan string, 1)
	go func() {
		resp, err := get("/admin/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		slow <- string(b)
	}()
	time.Sleep(100 * time.Millisecond) // the slow request is in flight
	start := time.Now()
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v; want a clean stop", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %s with a stream open; want it ended at once", d)
	}
	if got := <-slow; got != "done" {
		t.Errorf("request in flight: %q; want it finished", got)
	}
}
