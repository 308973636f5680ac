package ui

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/browser"
)

// csp is the policy internal/web sends; the pages must work under it.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// TestPagesInBrowser drives the pages' scripts in Chromium against the fake:
// htmx and its SSE extension load under the CSP, the bulk confirm dialog
// opens with ops' count and posts the selection, the details page's
// status changes without a reload, ticks survive a live row swap, and the
// list fits a 375 px screen.
func TestPagesInBrowser(t *testing.T) {
	f := &fakeOps{count: 2}
	u, err := New(f, Options{
		Principal: func(*http.Request) (ops.Principal, bool) { return admin, true },
		CSRF:      func(*http.Request) string { return "tok-123" },
		Tick:      100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.jobs = fixtureJobs()
	mux := http.NewServeMux()
	u.Register(mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer u.Close() // before srv.Close, which waits for the streams

	tab := browser.New(t)
	tab.Do(t, "open the list", chromedp.Navigate(srv.URL+"/admin/jobs"), chromedp.WaitVisible(chromedp.CSS("#bulk")))
	tab.WaitTrue(t, "htmx loads", `typeof htmx === "object" && htmx.version.startsWith("2.")`, 5*time.Second)
	tab.WaitTrue(t, "select this page is shown with JS", `!document.querySelector("#select-page").closest("label").hidden`, 5*time.Second)

	// Filter, then select all matching and ask to retry: the dialog shows
	// ops' count for the filter.
	tab.Do(t, "filter to failed CalendarSync",
		chromedp.SetValue(chromedp.CSS(`select[name="status"]`), "FAILED"),
		chromedp.SetValue(chromedp.CSS(`input[name="type"]`), "CalendarSync"),
		chromedp.Click(chromedp.CSS(`.filters button[type="submit"]`)),
		chromedp.WaitReady(chromedp.CSS(`input[type="hidden"][name="status"][value="FAILED"]`)),
	)
	if n := browser.Eval[int](t, tab, `document.querySelectorAll("table.jobs tbody tr[id^=row-]").length`); n != 1 {
		t.Errorf("filtered list has %d rows, want 1", n)
	}
	tab.Do(t, "select all and bulk retry",
		chromedp.Click(chromedp.CSS(`#select-all`)),
		chromedp.Click(chromedp.CSS(`[data-testid="bulk-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-dialog[open]`)),
	)
	if got := browser.Run(t, tab, "count", chromedp.Text(chromedp.CSS(`[data-testid="confirm-count"]`))); got != "2" {
		t.Errorf("dialog count %q, want 2", got)
	}
	if modal := browser.Eval[bool](t, tab, `document.querySelector("#confirm-dialog").matches(":modal")`); !modal {
		t.Error("the confirm dialog is not modal")
	}
	tab.Do(t, "confirm", chromedp.Click(chromedp.CSS(`[data-testid="confirm-ok"]`)), chromedp.WaitVisible(chromedp.CSS(`#flash`)))
	if got := browser.Run(t, tab, "flash", chromedp.Text(chromedp.CSS(`#flash`))); got != "Retried 0 jobs (operation op_test)" {
		t.Errorf("flash %q", got)
	}
	f.mu.Lock()
	act := f.acts[len(f.acts)-1]
	f.mu.Unlock()
	if act.Action != store.ActRetry || !act.All || !slices.Equal(act.Filter.Types, []string{"CalendarSync"}) ||
		!slices.Equal(act.Filter.Statuses, []store.Status{store.StatusFailed}) {
		t.Errorf("posted action %+v", act)
	}
	tab.NoErrors(t, "list")

	// Ticks survive a live swap of their row.
	tab.Do(t, "open the unfiltered list", chromedp.Navigate(srv.URL+"/admin/jobs"), chromedp.WaitVisible(chromedp.CSS("#bulk")))
	tab.WaitTrue(t, "htmx loads", `typeof htmx === "object"`, 5*time.Second)
	time.Sleep(500 * time.Millisecond) // the stream's first push re-renders every row
	tab.Do(t, "tick the running job", chromedp.Click(chromedp.CSS(`#row-job_running input[name="ids"]`)))
	f.setStatus("job_running", store.StatusCompleted)
	tab.WaitTrue(t, "the row turns COMPLETED live",
		`document.querySelector("#row-job_running [data-status]").dataset.status === "COMPLETED"`, 5*time.Second)
	if !browser.Eval[bool](t, tab, `document.querySelector("#row-job_running input[name=ids]").checked`) {
		t.Error("the tick was lost when the row was swapped")
	}
	if got := browser.Eval[string](t, tab, `document.querySelector("[data-count=COMPLETED]").textContent`); got != "2" {
		t.Errorf("dashboard COMPLETED count %q, want 2", got)
	}
	// htmx wired the swapped row's links too: Delete opens its dialog.
	f.count = 1
	tab.Do(t, "delete from the swapped row",
		chromedp.Click(chromedp.CSS(`#row-job_running a.btn-delete`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-dialog[open]`)),
	)
	if got := browser.Run(t, tab, "count", chromedp.Text(chromedp.CSS(`#confirm-title`))); got != "Delete 1 job?" {
		t.Errorf("row dialog %q", got)
	}
	tab.Do(t, "Escape closes the dialog", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.CSS(`#confirm-dialog`)))

	// The details page follows the job without a reload.
	f.setStatus("job_child1", store.StatusPending)
	tab.Do(t, "open a job", chromedp.Navigate(srv.URL+"/admin/jobs/job_child1"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="status"]`)))
	tab.WaitTrue(t, "htmx loads", `typeof htmx === "object"`, 5*time.Second)
	browser.Eval[chromedp.Void](t, tab, `window.notReloaded = true`)
	time.Sleep(300 * time.Millisecond)
	f.setStatus("job_child1", store.StatusRunning)
	tab.WaitTrue(t, "RUNNING arrives", `document.querySelector("[data-testid=status] [data-status]").dataset.status === "RUNNING"`, 5*time.Second)
	f.setStatus("job_child1", store.StatusCompleted)
	tab.WaitTrue(t, "COMPLETED arrives", `document.querySelector("[data-testid=status] [data-status]").dataset.status === "COMPLETED"`, 5*time.Second)
	if !browser.Eval[bool](t, tab, `window.notReloaded === true`) {
		t.Error("the page reloaded")
	}
	// The new status brings its own buttons: COMPLETED offers only Delete.
	if got := browser.Eval[string](t, tab, `[...document.querySelectorAll(".job-actions button")].map(b => b.textContent).join(",")`); got != "Delete" {
		t.Errorf("buttons after COMPLETED: %q, want Delete", got)
	}
	// A details-page button asks in the layout's dialog first.
	tab.Do(t, "click delete", chromedp.Click(chromedp.CSS(`.job-actions button`)), chromedp.WaitVisible(chromedp.CSS(`#confirm-generic[open]`)))
	if got := browser.Run(t, tab, "confirm text", chromedp.Text(chromedp.CSS(`#confirm-generic-text`))); got != "Delete job job_child1?" {
		t.Errorf("confirm text %q", got)
	}
	f.mu.Lock()
	before := len(f.acts)
	f.mu.Unlock()
	tab.Do(t, "cancel", chromedp.Click(chromedp.CSS(`#confirm-generic button[value="cancel"]`)), chromedp.WaitNotVisible(chromedp.CSS(`#confirm-generic`)))
	f.mu.Lock()
	after := len(f.acts)
	f.mu.Unlock()
	if after != before {
		t.Error("Cancel in the confirm dialog still acted")
	}
	tab.NoErrors(t, "details page")

	// 375 px: nothing wider than the screen but the table, which scrolls.
	tab.Width(t, 375)
	tab.Do(t, "open the list narrow", chromedp.Navigate(srv.URL+"/admin/jobs"), chromedp.WaitVisible(chromedp.CSS("#bulk")))
	if w := browser.Eval[int](t, tab, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("page is %d px wide at 375", w)
	}
	tab.NoErrors(t, "narrow list")
}
