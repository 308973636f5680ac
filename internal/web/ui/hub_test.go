package ui

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/ops"
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

// A list page's new jobs: each scope reads the jobs enqueued since its
// oldest page once per tick, however many pages want them, and each page
// gets those its filters match and it does not show, newest first, in its
// scope only; their statuses keep updating.
func TestHubNewJobs(t *testing.T) {
	f := &fakeOps{}
	u, _ := newTestUI(t, f, &admin)
	ticks := manualTicks(u)
	sub := func(who ops.Principal, w watch) *subscriber {
		t.Helper()
		s, leave, err := u.hub.subscribe(who, "tok", w)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(leave)
		return s
	}
	every := sub(admin, watch{Rows: []string{"job_running", "job_shown"}, New: &newWatch{From: testNow}})
	calendar := sub(manager, watch{New: &newWatch{From: testNow.Add(-time.Hour), Filter: store.Filter{Types: []string{"CalendarSync"}}}})
	plain := sub(admin, watch{Rows: []string{"job_running"}})
	staffTick := ticks.next()
	bob := sub(userBob, watch{New: &newWatch{From: testNow}})
	userTick := ticks.next()

	ticks.fire(t, staffTick)
	if got := names(recv(t, every)); !slices.Equal(got, []string{"row-job_running"}) {
		t.Fatalf("before any new job: %v", got)
	}
	recv(t, plain)
	if l := f.n("List"); l != 2 {
		t.Fatalf("one tick of one scope: %d List calls; want 2 (watched jobs, new jobs)", l)
	}
	nl := f.lists[len(f.lists)-1]
	if !nl.Filter.Since.Equal(testNow.Add(-time.Hour)) || nl.Sort != store.SortCreatedDesc || nl.Limit != newMost || len(nl.Filter.IDs) > 0 {
		t.Errorf("new jobs read %+v; want the newest %d since the oldest page, %v", nl, newMost, testNow.Add(-time.Hour))
	}

	at := func(d time.Duration) time.Time { return testNow.Add(d) }
	f.add(&store.Job{ID: "job_new1", Type: "CalendarSync", Status: store.StatusPending, CreatedAt: at(time.Second), UserID: "user_999"})
	f.add(&store.Job{ID: "job_new2", Type: "Export", Status: store.StatusPending, CreatedAt: at(2 * time.Second), UserID: "user_123"})
	f.add(&store.Job{ID: "job_shown", Type: "Export", Status: store.StatusPending, CreatedAt: at(3 * time.Second)})    // on the page already
	f.add(&store.Job{ID: "job_before", Type: "CalendarSync", Status: store.StatusFailed, CreatedAt: at(-time.Second)}) // older than every's page
	ticks.fire(t, staffTick)
	if l := f.n("List"); l != 4 {
		t.Errorf("two ticks of one scope with three pages: %d List calls; want 4", l)
	}
	newRows := func(s *subscriber) string {
		t.Helper()
		for _, e := range recv(t, s) {
			if e.Name == "newrows" {
				return e.Data
			}
		}
		t.Fatal("no newrows event")
		return ""
	}
	order := func(html string, ids ...string) {
		t.Helper()
		last := -1
		for _, id := range ids {
			i := strings.Index(html, `id="row-`+id+`"`)
			if i < 0 || i < last {
				t.Errorf("new rows lack %s or misorder it (want %v, newest first):\n%s", id, ids, html)
			}
			last = i
		}
	}
	html := newRows(every)
	order(html, "job_new2", "job_new1")
	if strings.Contains(html, "job_shown") || strings.Contains(html, "job_before") {
		t.Errorf("new rows hold a job the page shows, or one older than it:\n%s", html)
	}
	html = newRows(calendar)
	order(html, "job_new1", "job_before")
	if strings.Contains(html, "job_new2") || strings.Contains(html, "job_12345abc") {
		t.Errorf("new rows ignore the page's type filter, or its time:\n%s", html)
	}
	select {
	case b := <-plain.out:
		t.Errorf("a page that did not ask for new jobs got %v", names(b))
	default:
	}

	ticks.fire(t, userTick)
	html = newRows(bob)
	if !strings.Contains(html, "job_new2") || strings.Contains(html, "job_new1") {
		t.Errorf("a user's new rows are not its own jobs only:\n%s", html)
	}

	f.setStatus("job_new1", store.StatusRunning)
	ticks.fire(t, staffTick)
	if html := newRows(every); !strings.Contains(html, `data-status="RUNNING"`) {
		t.Errorf("a new row's status did not update:\n%s", html)
	}
}

// The list's first page, newest first, asks its stream for new jobs with
// its filters; a later page or another order does not.
func TestListPageAsksForNewJobs(t *testing.T) {
	f := &fakeOps{}
	u, mux := newTestUI(t, f, &admin)
	body := get(t, mux, "/admin/jobs?status=FAILED&type=CalendarSync").Body.String()
	wantContains(t, body, `/admin/events?counts=1&amp;from=1761393600000&amp;new=1&amp;`, `status=FAILED&amp;type=CalendarSync"`)
	for _, q := range []string{"?after=job_x", "?sort=created", "?sort=priority"} {
		if body := get(t, mux, "/admin/jobs"+q).Body.String(); strings.Contains(body, "new=1") {
			t.Errorf("%s asks for new jobs", q)
		}
	}
	nw, err := u.newWatch(url.Values{"from": {"1761393600000"}, "status": {"failed"}, "type": {"CalendarSync"}, "range": {"hour"}})
	if err != nil {
		t.Fatal(err)
	}
	want := store.Filter{Statuses: []store.Status{store.StatusFailed}, Types: []string{"CalendarSync"}, Since: testNow.Add(-time.Hour)}
	if !nw.From.Equal(testNow) || !reflect.DeepEqual(nw.Filter, want) {
		t.Errorf("newWatch %+v; want from %v, filter %+v", nw, testNow, want)
	}
	for _, q := range []url.Values{{}, {"from": {"x"}}, {"from": {"1"}, "status": {"bogus"}}} {
		if _, err := u.newWatch(q); err == nil {
			t.Errorf("newWatch(%v) took it", q)
		}
	}
	if w := get(t, mux, "/admin/events?new=1&from=x"); w.Code != http.StatusBadRequest {
		t.Errorf("a bad from: %d; want 400", w.Code)
	}
}
