package ui

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
)

// The live stream. Browsers subscribe to GET /admin/events with what their
// page shows: the dashboard's counts, rows of the list and of the recent
// jobs, or one job's status block. Subscribers that see the same jobs (all
// of them, for admins and managers; one "userId" for a user) share a
// scope, and each scope polls the store once per tick for all of them: one
// Summary call when someone wants counts, one List of the union of the
// watched job IDs, and one List of the newest jobs when a list page wants
// jobs enqueued since it was shown, however many browsers are connected.
// Each page's filter picks its new jobs from that one read, in Go. Each
// subscriber gets only the fragments that changed since it last heard.

// watch is what one page shows.
type watch struct {
	Counts bool
	Rows   []string // list rows
	Recent []string // dashboard rows
	Job    []string // details page status blocks
	// New, when set, is a list page that shows the jobs enqueued since
	// it was rendered above its rows: the first page, newest first.
	New *newWatch
}

// newWatch is what makes a job new to a list page.
type newWatch struct {
	From   time.Time    // the page's render: jobs created since are new
	Filter store.Filter // the page's filters; the scope is the hub's
}

// newMost bounds a scope's read of new jobs per tick: a page shows at most
// pageSize of them, picked by its filter from these.
const newMost = 200

func (w watch) ids() []string {
	ids := slices.Concat(w.Rows, w.Recent, w.Job)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// tickData is what a scope's poll read.
type tickData struct {
	Summary *ops.Summary
	Jobs    map[string]*store.Job
	New     []*store.Job // created since the oldest newWatch.From, newest first
}

// event is one SSE message: htmx's sse extension swaps Data into the
// element whose sse-swap names Name.
type event struct{ Name, Data string }

// fragmentFunc renders the events a subscriber's page wants from a tick.
type fragmentFunc func(who ops.Principal, csrf string, w watch, d *tickData) []event

type subscriber struct {
	who  ops.Principal
	csrf string
	w    watch
	last map[string]string // what it was last sent, by event name
	out  chan []event      // holds one batch; a slow browser skips ticks
}

type scope struct {
	who  ops.Principal // whose visibility the poll uses
	subs map[*subscriber]struct{}
	stop chan struct{}
}

type hub struct {
	svc    ops.Service
	tick   time.Duration
	frag   fragmentFunc
	log    *slog.Logger
	ticker func(time.Duration) (<-chan time.Time, func()) // tests drive the ticks
	polled func()                                         // tests hear each poll end

	mu     sync.Mutex
	scopes map[string]*scope
	closed bool
	done   chan struct{} // closed by close: every stream ends
}

func newHub(svc ops.Service, tick time.Duration, frag fragmentFunc, log *slog.Logger) *hub {
	return &hub{svc: svc, tick: tick, frag: frag, log: log, scopes: map[string]*scope{}, done: make(chan struct{}),
		ticker: func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}}
}

// scopeKey groups principals who see the same jobs.
func scopeKey(who ops.Principal) string {
	if who.Role == store.RoleUser {
		return "user:" + who.UserID
	}
	return "all"
}

// subscribe adds a subscriber, starting its scope's poller if it is the
// first; the returned func removes it and stops the poller with the last.
func (h *hub) subscribe(who ops.Principal, csrf string, w watch) (*subscriber, func(), error) {
	s := &subscriber{who: who, csrf: csrf, w: w, last: map[string]string{}, out: make(chan []event, 1)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, fmt.Errorf("ui: the live stream is shut down")
	}
	key := scopeKey(who)
	sc := h.scopes[key]
	if sc == nil {
		sc = &scope{who: who, subs: map[*subscriber]struct{}{}, stop: make(chan struct{})}
		h.scopes[key] = sc
		c, stop := h.ticker(h.tick)
		go h.run(sc, c, stop)
	}
	sc.subs[s] = struct{}{}
	return s, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(sc.subs, s)
		if len(sc.subs) == 0 && h.scopes[key] == sc {
			delete(h.scopes, key)
			close(sc.stop)
		}
	}, nil
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		close(h.done)
	}
	h.closed = true
	for key, sc := range h.scopes {
		close(sc.stop)
		delete(h.scopes, key)
	}
}

func (h *hub) run(sc *scope, c <-chan time.Time, stop func()) {
	defer stop()
	for {
		select {
		case <-sc.stop:
			return
		case <-c:
			h.poll(sc)
			if h.polled != nil {
				h.polled()
			}
		}
	}
}

// poll is one tick of one scope, for all its subscribers: at most one
// Summary, one List of the watched rows and one List of new jobs, then
// each subscriber's changed fragments.
func (h *hub) poll(sc *scope) {
	h.mu.Lock()
	subs := make([]*subscriber, 0, len(sc.subs))
	counts := false
	var ids []string
	var newSince *time.Time
	for s := range sc.subs {
		subs = append(subs, s)
		counts = counts || s.w.Counts
		ids = append(ids, s.w.ids()...)
		if n := s.w.New; n != nil && (newSince == nil || n.From.Before(*newSince)) {
			newSince = &n.From
		}
	}
	who := sc.who
	h.mu.Unlock()
	if len(subs) == 0 {
		return
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)

	ctx, cancel := context.WithTimeout(context.Background(), h.tick+5*time.Second)
	defer cancel()
	d := &tickData{Jobs: map[string]*store.Job{}}
	if counts {
		sum, err := h.svc.Summary(ctx, who)
		if err != nil {
			h.log.Warn("ui: live stream: summary", "err", err)
			return
		}
		d.Summary = sum
	}
	if len(ids) > 0 {
		res, err := h.svc.List(ctx, who, &ops.ListRequest{Filter: store.Filter{IDs: ids}, Limit: len(ids)})
		if err != nil {
			h.log.Warn("ui: live stream: list", "err", err)
			return
		}
		for _, j := range res.Items {
			d.Jobs[j.ID] = j
		}
	}
	if newSince != nil {
		res, err := h.svc.List(ctx, who, &ops.ListRequest{Filter: store.Filter{Since: *newSince}, Sort: store.SortCreatedDesc, Limit: newMost})
		if err != nil {
			h.log.Warn("ui: live stream: new jobs", "err", err)
			return
		}
		d.New = res.Items
	}
	for _, s := range subs {
		var batch []event
		for _, e := range h.frag(s.who, s.csrf, s.w, d) {
			if s.last[e.Name] != e.Data {
				s.last[e.Name] = e.Data
				batch = append(batch, e)
			}
		}
		if len(batch) == 0 {
			continue
		}
		select {
		case s.out <- batch:
		default:
			// The browser has not taken the last batch: merge, newest wins.
			select {
			case old := <-s.out:
				batch = mergeEvents(old, batch)
			default:
			}
			s.out <- batch
		}
	}
}

func mergeEvents(old, new []event) []event {
	seen := map[string]bool{}
	for _, e := range new {
		seen[e.Name] = true
	}
	var out []event
	for _, e := range old {
		if !seen[e.Name] {
			out = append(out, e)
		}
	}
	return append(out, new...)
}

// events is GET /admin/events: the SSE stream for one page. Its query
// names what the page shows: counts=1, row=ID, recent=ID, job=ID.
func (u *UI) events(w http.ResponseWriter, r *http.Request) {
	who, ok := u.o.Principal(r)
	if !ok {
		http.Error(w, "log in first", http.StatusUnauthorized)
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	q := r.URL.Query()
	wt := watch{Counts: q.Get("counts") != "", Rows: limitIDs(q["row"]), Recent: limitIDs(q["recent"]), Job: limitIDs(q["job"])}
	if q.Get("new") != "" {
		nw, err := u.newWatch(q)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		wt.New = nw
	}
	sub, leave, err := u.hub.subscribe(who, u.o.CSRF(r), wt)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer leave()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// A comment opens the stream at once, so EventSource reports it open.
	fmt.Fprint(w, ": live\n\n")
	fl.Flush()
	keepalive := time.NewTicker(30 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-u.hub.done:
			return
		case <-keepalive.C:
			fmt.Fprint(w, ": keepalive\n\n")
			fl.Flush()
		case batch := <-sub.out:
			for _, e := range batch {
				writeEvent(w, e)
			}
			fl.Flush()
		}
	}
}

// newWatch reads a list page's new=1 stream: from, the page's render in
// Unix milliseconds, and the page's filters as its own query names them.
func (u *UI) newWatch(q url.Values) (*newWatch, error) {
	ms, err := strconv.ParseInt(q.Get("from"), 10, 64)
	if err != nil || ms <= 0 {
		return nil, fmt.Errorf("from: want the page's time in Unix milliseconds, got %q", q.Get("from"))
	}
	f, err := readListForm(q).filter(u.o.Now())
	if err != nil {
		return nil, err
	}
	return &newWatch{From: time.UnixMilli(ms), Filter: f}, nil
}

// writeEvent writes one SSE message; each line of Data is its own "data:"
// line, as the format requires.
func writeEvent(w http.ResponseWriter, e event) {
	fmt.Fprintf(w, "event: %s\n", e.Name)
	for _, line := range strings.Split(e.Data, "\n") {
		fmt.Fprintf(w, "data: %s\n", strings.TrimRight(line, "\r"))
	}
	fmt.Fprint(w, "\n")
}

// limitIDs keeps a stream's watch list to what a page can show.
func limitIDs(ids []string) []string {
	const most = 200
	var out []string
	for _, id := range ids {
		if id = strings.TrimSpace(id); safeID(id) && len(out) < most {
			out = append(out, id)
		}
	}
	return out
}

// safeID keeps event names to the characters job IDs use, so a watched ID
// cannot break the stream's framing.
func safeID(id string) bool {
	if id == "" || len(id) > 100 {
		return false
	}
	for _, c := range id {
		if !(c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
