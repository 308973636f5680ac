package ui

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// manualTicker drives a hub's ticks from the test.
type manualTicker struct {
	made chan chan time.Time // one per scope, as its poller starts
	done chan struct{}       // one per poll that ended
}

// manualTicks replaces the hub's tickers with channels the test fires.
func manualTicks(u *UI) *manualTicker {
	m := &manualTicker{made: make(chan chan time.Time, 16), done: make(chan struct{}, 16)}
	u.hub.polled = func() { m.done <- struct{}{} }
	u.hub.ticker = func(time.Duration) (<-chan time.Time, func()) {
		c := make(chan time.Time)
		m.made <- c
		return c, func() {}
	}
	return m
}

// next is the tick channel of the next scope to start.
func (m *manualTicker) next() chan time.Time { return <-m.made }

// fire ticks c and waits for the poll to end.
func (m *manualTicker) fire(t *testing.T, c chan time.Time) {
	t.Helper()
	c <- testNow
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
		t.Fatal("poll did not end within 5s")
	}
}

func recv(t *testing.T, s *subscriber) []event {
	t.Helper()
	select {
	case b := <-s.out:
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("no events within 5s")
		return nil
	}
}

func names(b []event) []string {
	var out []string
	for _, e := range b {
		out = append(out, e.Name)
	}
	slices.Sort(out)
	return out
}

// However many browsers watch, each scope asks the store once per tick:
// one Summary and one List of every watched job.
func TestHubOneQueryPerTickPerScope(t *testing.T) {
	f := &fakeOps{}
	u, _ := newTestUI(t, f, &admin)
	ticks := manualTicks(u)

	const n = 7
	var staff []*subscriber
	for i := 0; i < n; i++ {
		who := admin
		if i%2 == 1 {
			who = manager
		}
		s, leave, err := u.hub.subscribe(who, "tok", watch{Counts: true, Rows: []string{"job_running", "job_12345abc"}, Job: []string{"job_xss"}})
		if err != nil {
			t.Fatal(err)
		}
		defer leave()
		staff = append(staff, s)
	}
	staffTick := ticks.next()
	var users []*subscriber
	for i := 0; i < 3; i++ {
		s, leave, err := u.hub.subscribe(userBob, "tok", watch{Counts: true, Rows: []string{"job_12345abc", "job_running"}})
		if err != nil {
			t.Fatal(err)
		}
		defer leave()
		users = append(users, s)
	}
	userTick := ticks.next()
	select {
	case <-ticks.made:
		t.Fatal("a third scope for two kinds of principal")
	default:
	}

	ticks.fire(t, staffTick)
	for _, s := range staff {
		got := names(recv(t, s))
		if want := []string{"counts", "row-job_12345abc", "row-job_running", "status-job_xss"}; !slices.Equal(got, want) {
			t.Fatalf("staff events %v, want %v", got, want)
		}
	}
	if s, l, ty := f.n("Summary"), f.n("List"), f.n("Types"); s != 1 || l != 1 || ty != 0 {
		t.Fatalf("after one tick for %d subscribers: %d Summary, %d List and %d Types calls, want 1, 1 and 0", n, s, l, ty)
	}
	if ids := f.lists[0].Filter.IDs; !slices.Equal(ids, []string{"job_12345abc", "job_running", "job_xss"}) {
		t.Errorf("one List of the union of watched jobs, got IDs %v", ids)
	}

	ticks.fire(t, userTick)
	for _, s := range users {
		b := recv(t, s)
		// The user's scope never sees the foreign job, even if watched.
		if got := names(b); !slices.Equal(got, []string{"counts", "row-job_12345abc"}) {
			t.Fatalf("user events %v", got)
		}
		for _, e := range b {
			if e.Name == "counts" && !strings.Contains(e.Data, `data-count="RUNNING">0<`) {
				t.Errorf("user counts include foreign jobs: %s", e.Data)
			}
		}
	}
	if s, l := f.n("Summary"), f.n("List"); s != 2 || l != 2 {
		t.Fatalf("after one tick per scope: %d Summary and %d List calls, want 2 and 2", s, l)
	}

	// Nothing changed: the next tick queries once more and sends nothing.
	ticks.fire(t, staffTick)
	ticks.fire(t, staffTick)
	for _, s := range staff {
		select {
		case b := <-s.out:
			t.Fatalf("unchanged data sent again: %v", names(b))
		default:
		}
	}

	// A status change: only its fragments and the counts go out.
	f.setStatus("job_running", store.StatusCompleted)
	ticks.fire(t, staffTick)
	b := recv(t, staff[0])
	if s, l := f.n("Summary"), f.n("List"); s != 5 || l != 5 {
		t.Errorf("after 5 ticks (4 of staff, 1 of users): %d Summary and %d List calls, want 5 and 5", s, l)
	}
	if got := names(b); !slices.Equal(got, []string{"counts", "row-job_running"}) {
		t.Fatalf("after a change: %v", got)
	}
	for _, e := range b {
		if e.Name == "row-job_running" && !strings.Contains(e.Data, `data-status="COMPLETED"`) {
			t.Errorf("row not updated: %s", e.Data)
		}
		// Admins get Delete on a COMPLETED job; managers (staff[1]) would not.
		if e.Name == "row-job_running" && !strings.Contains(e.Data, "confirm=delete") {
			t.Errorf("admin row lacks Delete: %s", e.Data)
		}
	}
	for _, e := range recv(t, staff[1]) {
		if e.Name == "row-job_running" && strings.Contains(e.Data, "confirm=delete") {
			t.Errorf("manager row offers Delete: %s", e.Data)
		}
	}
}

func TestHubStopsWithTheLastSubscriber(t *testing.T) {
	f := &fakeOps{}
	u, _ := newTestUI(t, f, &admin)
	manualTicks(u)
	_, leave1, _ := u.hub.subscribe(admin, "", watch{Counts: true})
	_, leave2, _ := u.hub.subscribe(manager, "", watch{Counts: true})
	leave1()
	if len(u.hub.scopes) != 1 {
		t.Fatal("scope stopped while a subscriber remains")
	}
	leave2()
	if len(u.hub.scopes) != 0 {
		t.Fatal("scope still polling with no subscribers")
	}
	u.Close()
	if _, _, err := u.hub.subscribe(admin, "", watch{}); err == nil {
		t.Error("subscribed after Close")
	}
}

// The stream end to end: an EventSource-style reader gets the fragments
// as SSE messages, each line of HTML its own data: line.
func TestEventsStream(t *testing.T) {
	f := &fakeOps{}
	u, mux := newTestUI(t, f, &admin)
	ticks := manualTicks(u)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/admin/events?job=job_running&row=bad%0Aid", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	rd := bufio.NewReader(res.Body)
	line, _ := rd.ReadString('\n')
	if line != ": live\n" {
		t.Fatalf("first line %q", line)
	}
	ticks.fire(t, ticks.next())
	var msg []string
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\n" && len(msg) > 0 {
			break
		}
		if line != "\n" {
			msg = append(msg, strings.TrimSuffix(line, "\n"))
		}
	}
	if msg[0] != "event: status-job_running" {
		t.Fatalf("event line %q", msg[0])
	}
	for _, l := range msg[1:] {
		if !strings.HasPrefix(l, "data: ") {
			t.Fatalf("line %q is not data", l)
		}
	}
	data := strings.Join(msg[1:], "\n")
	if !strings.Contains(data, `data-status="RUNNING"`) || !strings.Contains(data, `action="/admin/jobs/job_running/cancel"`) ||
		!strings.Contains(data, `value="tok-123"`) {
		t.Errorf("status block: %s", data)
	}
	if ids := f.lists[len(f.lists)-1].Filter.IDs; !slices.Equal(ids, []string{"job_running"}) {
		t.Errorf("a watched ID that is not an ID was queried: %v", ids)
	}
}
