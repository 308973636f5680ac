package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	webTarget = 50 * time.Millisecond
	// webWarmups are the requests per route before the timed ones: the
	// first requests to a fresh serve pay one-off costs a running server
	// has long paid (each pooled connection prepares each statement once;
	// Postgres plans a prepared statement afresh for its first five runs
	// before it settles on a generic plan; cold buffers). They ran 36-85
	// ms on the dashboard, then it settled at ~20 ms. The table's "first"
	// column shows the very first request of each route.
	webWarmups = 10
	webSamples = 50 // requests timed per route
	sseClients = 100
	// sseWindow is how long CPU is sampled with 0 and with 100 clients:
	// five of the stream's default 2 s ticks.
	sseWindow = 10 * time.Second
)

// webRoute is one page or API call, timed as a client sees it.
type webRoute struct {
	label  string
	method string
	path   string
	body   string // JSON, for POST
	api    bool   // sent with the bearer token; pages send the session cookie
	// alsoOK is a status other than 200 that is an answer, not a failure:
	// the health endpoint's 503 while the queue is unhealthy.
	alsoOK int
}

// benchWeb times every page and GET API call of `jobctl serve` (and a
// dry-run bulk retry) on the shared large table, logged in as an admin,
// then measures what 100 connected live-stream (SSE) clients cost the
// server. Only dry runs: the table is unchanged for the parts after it.
func benchWeb(ctx context.Context, e *env) error {
	bt, err := e.bigTable(ctx)
	if err != nil {
		return err
	}
	const account = "bench-admin"
	pw := make([]byte, 16)
	rand.Read(pw)
	password := hex.EncodeToString(pw)
	add := e.command(ctx, bt.env, "user", "add", account, "--role", "admin", "--password-stdin")
	add.Stdin = strings.NewReader(password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		return fmt.Errorf("jobctl user add: %v: %s", err, firstLine(string(out)))
	}
	tok, err := e.run(ctx, bt.env, "token", "create", "bench-web", "--user", account)
	if err != nil {
		return err
	}
	token := strings.TrimSpace(tok.stdout)

	srv, err := e.startServer(ctx, bt.env, "serve", "--addr", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer func() {
		if serr := srv.stop(); serr != nil {
			fmt.Fprintf(os.Stderr, "bench: stopping serve: %v: %s\n", serr, firstLine(srv.stderr()))
		}
	}()
	c, err := newWebClient(ctx, srv.url, token)
	if err != nil {
		return err
	}
	if err := c.login(ctx, account, password); err != nil {
		return err
	}

	// Real IDs and a real cursor, read through the API itself.
	var failed struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := c.getJSON(ctx, "/api/admin/jobs?status=failed&type=CalendarSync&limit=1", &failed); err != nil {
		return err
	}
	if len(failed.Items) == 0 {
		return errors.New("no FAILED CalendarSync job in the table (too few -rows?)")
	}
	jobID := failed.Items[0].ID
	var page1 struct {
		Next string `json:"next"`
	}
	if err := c.getJSON(ctx, "/api/admin/jobs", &page1); err != nil {
		return err
	}
	if page1.Next == "" {
		return errors.New("GET /api/admin/jobs gave no next cursor")
	}
	var fpage1 struct {
		Next string `json:"next"`
	}
	if err := c.getJSON(ctx, "/api/admin/jobs?status=failed", &fpage1); err != nil {
		return err
	}

	routes := []webRoute{
		{label: "page /admin/jobs (dashboard + list)", method: "GET", path: "/admin/jobs"},
		{label: "page /admin/jobs?status=failed&type=CalendarSync", method: "GET", path: "/admin/jobs?status=failed&type=CalendarSync"},
		{label: "page /admin/jobs/{id} (a FAILED job)", method: "GET", path: "/admin/jobs/" + jobID},
		{label: "page /admin/audit-logs", method: "GET", path: "/admin/audit-logs"},
		{label: "page /admin/workers", method: "GET", path: "/admin/workers"},
		{label: "page /admin/schedules", method: "GET", path: "/admin/schedules"},
		{label: "GET /api/admin/jobs", method: "GET", path: "/api/admin/jobs", api: true},
		{label: "GET /api/admin/jobs?status=failed&type=CalendarSync", method: "GET", path: "/api/admin/jobs?status=failed&type=CalendarSync", api: true},
		{label: "GET /api/admin/jobs?status=dead&since=1h", method: "GET", path: "/api/admin/jobs?status=dead&since=1h", api: true},
		{label: "GET /api/admin/jobs?after=... (page 2)", method: "GET", path: "/api/admin/jobs?after=" + url.QueryEscape(page1.Next), api: true},
		{label: "GET /api/admin/jobs/{id}", method: "GET", path: "/api/admin/jobs/" + jobID, api: true},
		{label: "GET /api/admin/jobs/health", method: "GET", path: "/api/admin/jobs/health", api: true, alsoOK: http.StatusServiceUnavailable},
		{label: "GET /api/admin/stats (no since: all time)", method: "GET", path: "/api/admin/stats", api: true},
		{label: "GET /api/admin/stats?since=24h (the CLI's default)", method: "GET", path: "/api/admin/stats?since=24h", api: true},
		{label: "GET /api/admin/audit-logs", method: "GET", path: "/api/admin/audit-logs", api: true},
		{label: "GET /api/admin/workers", method: "GET", path: "/api/admin/workers", api: true},
		{label: "GET /api/admin/schedules", method: "GET", path: "/api/admin/schedules", api: true},
		{label: "POST /api/admin/jobs/retry (dry run, failed CalendarSync)", method: "POST", path: "/api/admin/jobs/retry",
			body: `{"filter":{"status":"failed","type":"CalendarSync"},"dryRun":true}`, api: true},
	}
	if fpage1.Next != "" {
		// After the plain page 2, so the table reads in the brief's order.
		routes = append(routes[:10], append([]webRoute{{label: "GET /api/admin/jobs?status=failed&after=... (page 2)", method: "GET",
			path: "/api/admin/jobs?status=failed&after=" + url.QueryEscape(fpage1.Next), api: true}}, routes[10:]...)...)
	}

	n := webSamples
	note("method: server time = time to the full response (headers and whole body read) measured by this")
	note("client over loopback, one request at a time on a kept-alive connection, %d per route after %d", n, webWarmups)
	note("warm-ups; logged in as an admin: pages with the session cookie from POST /login, the API with")
	note("a bearer token (`jobctl token create`). `jobctl serve` logs one line per request to a pipe.")
	note("job %s; target: p95 < %s (\"over\" when p50 misses it too, \"p95 over\" when only p95 does)", jobID, ms(webTarget))
	t := newTable("route", "first", "p50", "p95", "max", "bytes", "target", "meets")
	var slow []string
	for _, rt := range routes {
		d, size, err := c.time(ctx, rt, webWarmups, n)
		if err != nil {
			return err
		}
		first := d[0]
		d = d[1:]
		p50, p95 := percentile(d, 50), percentile(d, 95)
		t.add(rt.label, ms(first), ms(p50), ms(p95), ms(percentile(d, 100)), count(size), "< "+ms(webTarget), webVerdict(p50, p95))
		e.addFigure(figure{part: "web", name: rt.label + ", p95", value: ms(p95), yardstick: "p50 " + ms(p50),
			target: "< " + ms(webTarget), meets: meets(p95 < webTarget)})
		if p95 >= webTarget {
			slow = append(slow, rt.label)
		}
	}
	t.print()
	if len(slow) > 0 {
		note("over target: %s", strings.Join(slow, "; "))
	}
	var audit struct {
		Total int64 `json:"total"`
	}
	if err := c.getJSON(ctx, "/api/admin/audit-logs", &audit); err == nil {
		note("the audit log holds %s rows (dry runs write none); no workers or schedules are registered,", count(audit.Total))
		note("so those pages and calls show empty tables; the health endpoint may answer 503 (unhealthy:")
		note("no live worker on the seeded table), which is its answer, timed like the others")
	}

	return benchSSE(ctx, c, srv)
}

// benchSSE connects sseClients live streams, each subscribed to what the
// dashboard page asks for (the page's own sse-connect URL), and compares
// the server's CPU and RSS with none and with all of them connected.
func benchSSE(ctx context.Context, c *webClient, srv *server) error {
	body, err := c.get(ctx, "/admin/jobs", false)
	if err != nil {
		return err
	}
	m := sseConnectRe.FindStringSubmatch(body)
	if m == nil {
		return errors.New("/admin/jobs has no sse-connect attribute")
	}
	events := html.UnescapeString(m[1])
	pid := srv.cmd.Process.Pid

	fmt.Println()
	note("live stream: %d clients on GET %s...", sseClients, trunc(events, 60))
	note("(the dashboard's own stream: counts, its recent and list rows, and the list's new jobs); CPU = utime+stime of the")
	note("serve process from /proc/%d/stat over %s, as %% of one core; RSS = VmRSS at the end of the window.", pid, sseWindow)
	note("The store queries the hub sends per tick run in Postgres and are not in this CPU figure.")

	idle, err := sampleProc(ctx, pid, sseWindow)
	if err != nil {
		return err
	}

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: sseClients}
	defer tr.CloseIdleConnections()
	var evs, bytesRead atomic.Int64
	var wg sync.WaitGroup
	opened := make(chan error, sseClients)
	for range sseClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.stream(sctx, tr, events, func(err error) { opened <- err }, &evs, &bytesRead)
		}()
	}
	t0 := time.Now()
	for range sseClients {
		if err := <-opened; err != nil {
			cancel()
			wg.Wait()
			return fmt.Errorf("SSE client: %w", err)
		}
	}
	connectAll := time.Since(t0)
	// Let the first tick's full fragments go out, so the window sees the
	// steady state (only what changed) rather than the opening burst.
	time.Sleep(3 * time.Second)
	evs.Store(0)
	bytesRead.Store(0)
	busy, err := sampleProc(ctx, pid, sseWindow)
	if err != nil {
		cancel()
		wg.Wait()
		return err
	}
	gotEvents, gotBytes := evs.Load(), bytesRead.Load()

	d, size, err := c.time(ctx, webRoute{method: "GET", path: "/admin/jobs"}, webWarmups, webSamples)
	cancel()
	wg.Wait()
	if err != nil {
		return err
	}
	d = d[1:] // the first was a warm-up like the rest

	t := newTable("live-stream clients", "CPU", "RSS", "events in window", "bytes in window")
	t.add("0", pct(idle.cpu), mib(idle.rssKB), "-", "-")
	t.add(strconv.Itoa(sseClients), pct(busy.cpu), mib(busy.rssKB), count(gotEvents), count(gotBytes))
	t.print()
	ticks := sseWindow.Seconds() / 2
	note("events: %.1f per client per default 2 s tick; the hub sends a fragment only when its HTML", float64(gotEvents)/sseClients/ticks)
	note("changed, and rows whose \"Ns ago\" text moved count as changed, so young jobs are re-sent each tick")
	note("all %d streams open in %s; with them connected, page /admin/jobs: p50 %s, p95 %s, max %s (%s bytes), meets: %s",
		sseClients, ms(connectAll), ms(percentile(d, 50)), ms(percentile(d, 95)), ms(percentile(d, 100)), count(size),
		webVerdict(percentile(d, 50), percentile(d, 95)))
	return nil
}

var sseConnectRe = regexp.MustCompile(`sse-connect="([^"]+)"`)

func webVerdict(p50, p95 time.Duration) string {
	switch {
	case p95 < webTarget:
		return "ok"
	case p50 < webTarget:
		return "p95 over"
	}
	return "over"
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// procSample is a process's CPU use over a window and its RSS after it.
type procSample struct {
	cpu   float64 // cores busy, on average
	rssKB int64
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

func sampleProc(ctx context.Context, pid int, window time.Duration) (procSample, error) {
	t0, err := procCPU(pid)
	if err != nil {
		return procSample{}, err
	}
	start := time.Now()
	select {
	case <-ctx.Done():
		return procSample{}, ctx.Err()
	case <-time.After(window):
	}
	t1, err := procCPU(pid)
	if err != nil {
		return procSample{}, err
	}
	rss, err := procRSS(pid)
	if err != nil {
		return procSample{}, err
	}
	used := float64(t1-t0) / clockTicks
	return procSample{cpu: used / time.Since(start).Seconds(), rssKB: rss}, nil
}

// procCPU is utime+stime of pid, in clock ticks.
func procCPU(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return u + st, nil
}

func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// webClient talks to one `jobctl serve`: pages through a cookie jar that
// holds the login session, the API with a bearer token.
type webClient struct {
	base  *url.URL
	token string
	page  *http.Client // cookie jar; redirects not followed
	api   *http.Client
}

func newWebClient(ctx context.Context, base, token string) (*webClient, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &webClient{
		base:  u,
		token: token,
		page:  &http.Client{Jar: jar, CheckRedirect: noRedirect, Timeout: time.Minute},
		api:   &http.Client{CheckRedirect: noRedirect, Timeout: time.Minute},
	}, nil
}

// login fetches the form (for its double-submit CSRF cookie) and posts it,
// leaving the session cookie in the jar.
func (c *webClient) login(ctx context.Context, name, password string) error {
	if _, err := c.get(ctx, "/login", false); err != nil {
		return err
	}
	var csrf string
	for _, ck := range c.page.Jar.Cookies(c.base) {
		if ck.Name == "jobctl_csrf" {
			csrf = ck.Value
		}
	}
	if csrf == "" {
		return errors.New("GET /login set no jobctl_csrf cookie")
	}
	form := url.Values{"name": {name}, "password": {password}, "next": {"/admin/jobs"}, "csrf": {csrf}}
	req, err := http.NewRequestWithContext(ctx, "POST", c.base.JoinPath("/login").String(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.page.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/admin/jobs" {
		return fmt.Errorf("POST /login: %s to %q; want 303 to /admin/jobs", resp.Status, loc)
	}
	return nil
}

func (c *webClient) request(ctx context.Context, method, path, body string, api bool) (*http.Request, *http.Client, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, r)
	if err != nil {
		return nil, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if api {
		req.Header.Set("Authorization", "Bearer "+c.token)
		return req, c.api, nil
	}
	return req, c.page, nil
}

// get returns the body of a 200 answer.
func (c *webClient) get(ctx context.Context, path string, api bool) (string, error) {
	req, hc, err := c.request(ctx, "GET", path, "", api)
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", path, resp.Status, firstLine(string(b)))
	}
	return string(b), nil
}

func (c *webClient) getJSON(ctx context.Context, path string, v any) error {
	b, err := c.get(ctx, path, true)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(b), v)
}

// time sends rt warm+n times and returns the last n durations, each from
// sending the request to reading the last byte of a 200 answer, and the
// body's size.
// time sends warm requests, then n timed ones; it returns the first
// request's time followed by the n timed ones.
func (c *webClient) time(ctx context.Context, rt webRoute, warm, n int) ([]time.Duration, int64, error) {
	var out []time.Duration
	var size int64
	for i := range warm + n {
		req, hc, err := c.request(ctx, rt.method, rt.path, rt.body, rt.api)
		if err != nil {
			return nil, 0, err
		}
		t0 := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			return nil, 0, err
		}
		b, err := io.ReadAll(resp.Body)
		d := time.Since(t0)
		resp.Body.Close()
		if err != nil {
			return nil, 0, err
		}
		if resp.StatusCode != http.StatusOK && (rt.alsoOK == 0 || resp.StatusCode != rt.alsoOK) {
			return nil, 0, fmt.Errorf("%s %s: %s: %s", rt.method, rt.path, resp.Status, firstLine(string(b)))
		}
		if i == 0 || i >= warm {
			out = append(out, d)
		}
		size = int64(len(b))
	}
	return out, size, nil
}

// stream opens one live stream with the session cookie, calls opened
// once with whether it is subscribed, then reads events until ctx ends,
// counting them and their bytes.
func (c *webClient) stream(ctx context.Context, tr *http.Transport, path string, opened func(error), evs, bytesRead *atomic.Int64) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base.String()+path, nil)
	if err != nil {
		opened(err)
		return
	}
	for _, ck := range c.page.Jar.Cookies(c.base) {
		req.AddCookie(ck)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		opened(err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		opened(fmt.Errorf("GET %s: %s, %s", trunc(path, 40), resp.Status, resp.Header.Get("Content-Type")))
		return
	}
	br := bufio.NewReader(resp.Body)
	// The stream opens with a comment; reading it means it is subscribed.
	if _, err := br.ReadString('\n'); err != nil {
		opened(fmt.Errorf("reading the stream's first line: %w", err))
		return
	}
	opened(nil)
	for {
		// Cancelling ctx closes the body, which ends this read.
		line, err := br.ReadString('\n')
		bytesRead.Add(int64(len(line)))
		if strings.HasPrefix(line, "event:") {
			evs.Add(1)
		}
		if err != nil {
			return
		}
	}
}
