package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jobctl/jobctl/internal/testutil/browser"
)

// TestAdminInBrowser is the browser proof, run against the built
// binary as an operator would: `jobctl demo` seeds a store, `jobctl user
// add` makes an admin and a user, `jobctl serve` serves the pages, and
// Chromium (driven by chromedp) logs in, filters to the failed
// CalendarSync jobs, selects all of them, checks the confirm dialog's
// count, bulk retries, and sees the change in the store and the audit log
// through the CLI. It then watches a job's page turn COMPLETED, with no
// reload, while `jobctl worker run` runs it, and logs in as the user to
// see only its jobs. With JOBCTL_SCREENSHOTS=1 it saves the README's
// screenshots to docs/screenshots.
func TestAdminInBrowser(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "jobctl.yaml")
	if err := os.WriteFile(cfg, []byte("jobs:\n  CalendarSync:\n    handler: {builtin: noop}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"JOBCTL_DATABASE_URL=sqlite:" + filepath.Join(dir, "jobs.db"), "JOBCTL_CONFIG=" + cfg,
		"HOME=" + dir, "XDG_DATA_HOME=" + dir, "NO_COLOR=1"}
	runJobctl(t, env, "demo")
	const userID = "user_131" // the demo's owner of a failed CalendarSync job
	runJobctlStdin(t, env, "correct horse battery\n", "user", "add", "ada", "--role", "admin", "--password-stdin")
	runJobctlStdin(t, env, "uma's own password\n", "user", "add", "uma", "--role", "user", "--user-id", userID, "--password-stdin")

	failed := listIDs(t, env, "--status", "failed", "--type", "CalendarSync")
	if len(failed) < 2 {
		t.Fatalf("the demo seeds %d failed CalendarSync jobs, want several", len(failed))
	}

	d := startDaemon(t, env, "serve", "--addr", "127.0.0.1:0")
	base := d.waitLine(t, regexp.MustCompile(`(http://127\.0\.0\.1:\d+)`))
	tab := browser.New(t)

	// Log in: a page asks for the login form and comes back after it.
	login(t, tab, base, "/admin/jobs?status=FAILED", "ada", "correct horse battery")
	if loc := browser.Run(t, tab, "location", chromedp.Location()); loc != base+"/admin/jobs?status=FAILED" {
		t.Errorf("after login at %s, want the page asked for", loc)
	}
	if who := browser.Run(t, tab, "who", chromedp.Text(chromedp.CSS(`[data-testid="who"]`))); !strings.Contains(who, "ada") {
		t.Errorf("header names %q, want ada", who)
	}
	tab.NoErrors(t, "login")

	if os.Getenv("JOBCTL_SCREENSHOTS") == "1" {
		screenshots(t, tab, base)
	}

	// The list fits: at 1280 px every column, Actions last, shows without
	// scrolling sideways; at 375 px only the table scrolls, not the page.
	for _, width := range []int64{1280, 375} {
		tab.Width(t, width)
		tab.Do(t, fmt.Sprintf("the list at %d px", width), chromedp.Navigate(base+"/admin/jobs"), chromedp.WaitVisible(chromedp.CSS(`#bulk`)))
		if width == 1280 {
			if over := browser.Eval[int](t, tab, `(s => s.scrollWidth - s.clientWidth)(document.querySelector(".list .scroll"))`); over > 0 {
				t.Errorf("at 1280 px the job list is %d px wider than its box: its last columns are cut off", over)
			}
		}
		if w := browser.Eval[int](t, tab, `document.documentElement.scrollWidth`); w > int(width) {
			t.Errorf("at %d px the page is %d px wide", width, w)
		}
	}
	tab.Width(t, 1280)

	// A job enqueued while the list is open appears on it, live, when it
	// matches the list's filters; one that does not match stays off.
	tab.Do(t, "open the CalendarSync list", chromedp.Navigate(base+"/admin/jobs?type=CalendarSync"), chromedp.WaitVisible(chromedp.CSS(`#bulk`)))
	tab.WaitTrue(t, "htmx loads", `typeof htmx === "object"`, 10*time.Second)
	browser.Eval[chromedp.Void](t, tab, `window.notReloaded = true`)
	jobID := regexp.MustCompile(`job_[0-9a-z]{26}`)
	other := jobID.FindString(runJobctl(t, env, "-q", "enqueue", "EmailSending"))
	added := jobID.FindString(runJobctl(t, env, "-q", "enqueue", "CalendarSync"))
	if added == "" || other == "" {
		t.Fatal("enqueue -q printed no job ID")
	}
	tab.WaitTrue(t, "the new CalendarSync job appears on the list",
		fmt.Sprintf(`document.querySelector('.new-rows tr[id="row-%s"]') !== null`, added), 20*time.Second)
	if browser.Eval[bool](t, tab, fmt.Sprintf(`document.getElementById("row-%s") !== null`, other)) {
		t.Errorf("the EmailSending job %s appeared on a CalendarSync list", other)
	}
	if !browser.Eval[bool](t, tab, `window.notReloaded === true`) {
		t.Error("the page reloaded to show the new job; it should arrive over the stream")
	}
	tab.NoErrors(t, "new job")

	// Filter to failed CalendarSync.
	tab.Do(t, "filter to failed CalendarSync",
		chromedp.Navigate(base+"/admin/jobs"),
		chromedp.WaitVisible(chromedp.CSS(`#bulk`)),
		chromedp.SetValue(chromedp.CSS(`select[name="status"]`), "FAILED"),
		chromedp.SetValue(chromedp.CSS(`input[name="type"]`), "CalendarSync"),
		chromedp.Click(chromedp.CSS(`.filters button[type="submit"]`)),
		chromedp.WaitReady(chromedp.CSS(`#bulk input[type="hidden"][name="type"][value="CalendarSync"]`)),
	)
	rows := browser.Eval[[]string](t, tab, `[...document.querySelectorAll("table.jobs tbody tr[id^=row-]")].map(r => r.id.slice(4))`)
	slices.Sort(rows)
	if !slices.Equal(rows, failed) {
		t.Fatalf("the filtered list shows %v, want the failed CalendarSync jobs %v", rows, failed)
	}

	// Select all and check the dialog's count, then retry.
	tab.Do(t, "select all and ask to retry",
		chromedp.Click(chromedp.CSS(`[data-testid="select-all"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="bulk-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-dialog[open]`)),
	)
	if got := browser.Run(t, tab, "count", chromedp.Text(chromedp.CSS(`[data-testid="confirm-count"]`))); got != fmt.Sprint(len(failed)) {
		t.Errorf("the confirm dialog counts %s jobs, want %d", got, len(failed))
	}
	tab.Do(t, "confirm the retry", chromedp.Click(chromedp.CSS(`[data-testid="confirm-ok"]`)), chromedp.WaitVisible(chromedp.CSS(`#flash`)))
	flash := browser.Run(t, tab, "flash", chromedp.Text(chromedp.CSS(`#flash`)))
	if !strings.HasPrefix(flash, fmt.Sprintf("Retried %d jobs", len(failed))) {
		t.Errorf("flash %q", flash)
	}
	tab.NoErrors(t, "bulk retry")

	// The store agrees: every one is PENDING, and the audit log names the
	// account and the channel.
	if pending := listIDs(t, env, "--status", "pending", "--type", "CalendarSync"); !isSubset(failed, pending) {
		t.Errorf("after the retry, PENDING CalendarSync jobs are %v; want all of %v", pending, failed)
	}
	var audit []struct {
		Action, UserID, ResourceID string
		Metadata                   map[string]any
	}
	if err := json.Unmarshal([]byte(runJobctl(t, env, "audit", "--action", "retry", "--actor", "ada", "-o", "json")), &audit); err != nil {
		t.Fatal(err)
	}
	var audited []string
	for _, a := range audit {
		if a.UserID != "ada" || a.Metadata["via"] != "web" {
			t.Errorf("audit row %+v: want userId ada, via web", a)
		}
		audited = append(audited, a.ResourceID)
	}
	slices.Sort(audited)
	if !slices.Equal(audited, failed) {
		t.Errorf("audit rows for %v, want one per retried job %v", audited, failed)
	}
	// The audit page shows the same rows.
	tab.Do(t, "audit page", chromedp.Navigate(base+"/admin/audit-logs?actor=ada"), chromedp.WaitVisible(chromedp.CSS(`table.audit`)))
	if n := browser.Eval[int](t, tab, `document.querySelectorAll("[data-testid=audit-row]").length`); n != len(failed) {
		t.Errorf("the audit page shows %d rows for ada, want %d", n, len(failed))
	}

	// Open a job's page and watch the worker complete it, live.
	job := failed[0]
	tab.Do(t, "open a job", chromedp.Navigate(base+"/admin/jobs/"+job), chromedp.WaitVisible(chromedp.CSS(`[data-testid="status"]`)))
	if st := statusOnPage(t, tab); st != "PENDING" {
		t.Fatalf("%s shows %s before the worker runs, want PENDING", job, st)
	}
	tab.WaitTrue(t, "htmx loads", `typeof htmx === "object"`, 10*time.Second)
	browser.Eval[chromedp.Void](t, tab, `window.notReloaded = true`)
	w := startDaemon(t, env, "worker", "run", "--poll-interval", "50ms")
	tab.WaitTrue(t, "the job turns COMPLETED on its page",
		`document.querySelector("[data-testid=status] [data-status]").dataset.status === "COMPLETED"`, 30*time.Second)
	if !browser.Eval[bool](t, tab, `window.notReloaded === true`) {
		t.Error("the page reloaded to show the change; it should arrive over the stream")
	}
	if code, rest := w.stop(t); code != 0 {
		t.Errorf("worker exit %d\n%s", code, rest)
	}
	tab.NoErrors(t, "details page")

	// Log out, then in as the user: only its jobs, and a foreign one is 403.
	tab.Do(t, "log out", chromedp.Click(chromedp.CSS(`.logout button`)), chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)))
	login(t, tab, base, "/admin/jobs", "uma", "uma's own password")
	own := listIDs(t, env, "--user", userID)
	shown := browser.Eval[[]string](t, tab, `[...document.querySelectorAll("table.jobs tbody tr[id^=row-]")].map(r => r.id.slice(4))`)
	slices.Sort(shown)
	if len(own) == 0 || !slices.Equal(shown, own) {
		t.Errorf("user %s sees %v, want exactly its jobs %v", userID, shown, own)
	}
	if total := browser.Run(t, tab, "total", chromedp.Text(chromedp.CSS(`[data-testid="total"]`))); !strings.HasPrefix(total, fmt.Sprintf("%d matching", len(own))) {
		t.Errorf("user's total %q, want %d", total, len(own))
	}
	counts := browser.Eval[int](t, tab, `[...document.querySelectorAll("[data-count]")].reduce((n, e) => n + Number(e.textContent), 0)`)
	if counts != len(own) {
		t.Errorf("user's dashboard counts add up to %d, want %d", counts, len(own))
	}
	foreign := ""
	for _, id := range failed {
		if !slices.Contains(own, id) {
			foreign = id
		}
	}
	tab.NoErrors(t, "user")
	resp := browser.Run(t, tab, "open a foreign job", chromedp.NavigateResponse(base+"/admin/jobs/"+foreign))
	if resp.Status != 403 {
		t.Errorf("user opening %s: %d, want 403", foreign, resp.Status)
	}
	if got := browser.Run(t, tab, "403 page", chromedp.Text(chromedp.CSS(`[data-testid="error"]`))); got != "Forbidden" {
		t.Errorf("403 page says %q, want Forbidden", got)
	}
	for _, e := range tab.Errors() { // the browser logs the 403 itself
		if !strings.Contains(e, "403") {
			t.Errorf("console error on the 403 page: %s", e)
		}
	}
}

func login(t *testing.T, tab *browser.Tab, base, page, name, password string) {
	t.Helper()
	tab.Do(t, "open "+page, chromedp.Navigate(base+page), chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)))
	if loc := browser.Run(t, tab, "location", chromedp.Location()); !strings.HasPrefix(loc, base+"/login?next=") {
		t.Errorf("an anonymous %s went to %s, want /login?next=…", page, loc)
	}
	tab.Do(t, "log in as "+name,
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), name),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Click(chromedp.CSS(`.login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="who"]`)),
	)
}

func statusOnPage(t *testing.T, tab *browser.Tab) string {
	t.Helper()
	return browser.Eval[string](t, tab, `document.querySelector("[data-testid=status] [data-status]").dataset.status`)
}

// screenshots saves the dashboard and the guide's example job at desktop
// and phone widths, light and dark, for the README.
func screenshots(t *testing.T, tab *browser.Tab, base string) {
	t.Helper()
	out := filepath.Join("..", "..", "docs", "screenshots")
	for _, width := range []int64{1280, 375} {
		for _, scheme := range []string{"light", "dark"} {
			tab.Width(t, width)
			tab.Scheme(t, scheme)
			for name, page := range map[string]string{"dashboard": "/admin/jobs", "details": "/admin/jobs/job_12345abc"} {
				tab.Do(t, "open "+page, chromedp.Navigate(base+page), chromedp.WaitVisible(chromedp.CSS(`main`)))
				tab.Screenshot(t, filepath.Join(out, fmt.Sprintf("%s-%d-%s.png", name, width, scheme)))
			}
		}
	}
	tab.Width(t, 1280)
	tab.Scheme(t, "light")
}

// listIDs is `jobctl list ARGS -q`, sorted.
func listIDs(t *testing.T, env []string, args ...string) []string {
	t.Helper()
	out := runJobctl(t, env, append([]string{"list", "-q"}, args...)...)
	ids := strings.Fields(out)
	slices.Sort(ids)
	return ids
}

func isSubset(sub, of []string) bool {
	for _, s := range sub {
		if !slices.Contains(of, s) {
			return false
		}
	}
	return true
}

func runJobctlStdin(t *testing.T, env []string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "jobctl"), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("jobctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
