// Package demo makes a week of believable jobs for a fresh store, and a
// thinner history back to 60 days, so every screen of jobctl and every
// README example has something to show: the guide's six job types, all
// seven statuses, its example job, job chains, an import split into child
// jobs, a dead-letter queue with recurring error messages, and finished
// jobs old enough to archive and purge.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// GuideJobID is the ID of the guide's example job ("Job Details Page").
const GuideJobID = "job_12345abc"

// The guide's job types.
const (
	CalendarSync            = "CalendarSync"
	MetricCalculation       = "MetricCalculation"
	ReportGeneration        = "ReportGeneration"
	EmailSending            = "EmailSending"
	DataImport              = "DataImport"
	InventoryReconciliation = "InventoryReconciliation"
)

// Types lists the guide's job types in its order.
var Types = []string{CalendarSync, MetricCalculation, ReportGeneration, EmailSending, DataImport, InventoryReconciliation}

// seed fixes the population: Jobs differs between calls only in where now
// places it.
const seed = 20251025

// Jobs returns about two hundred jobs created over the seven days before
// now, oldest first, ready for store.Import. All times are relative to now
// truncated to the second, so the guide's example reads as in the guide.
// The result depends on now alone.
func Jobs(now time.Time) []*store.Job {
	g := &gen{
		now:     now.UTC().Truncate(time.Second),
		r:       rand.New(rand.NewPCG(seed, seed)),
		outputs: map[*store.Job]json.RawMessage{},
		parents: map[*store.Job]*store.Job{},
		deps:    map[*store.Job][]*store.Job{},
	}
	g.guideExample()
	g.recurring()
	g.history()
	g.campaign()
	g.deadLetters()
	g.failures()
	g.cancellations()
	g.imports()
	g.chains()
	g.queue()
	// The older history draws from a stream of its own, so the week's jobs
	// (and the guide's examples) stay as they were.
	week := g.r
	g.r = rand.New(rand.NewPCG(seed, seed+60))
	g.olderHistory()
	g.recentDead()
	g.r = week
	return g.finish()
}

// HistoryDays is how far back the demo's history goes.
const HistoryDays = 60

// ArchivedDays is the age past which Seed archives finished jobs, as a
// monthly cron would have: `list --archived` has jobs to show, and
// `archive --older 30d` still finds the ones between 30 and 50 days old.
const ArchivedDays = 50

// Seed imports Jobs(now) into an empty store, then does what operators
// would have done: cron archived jobs finished more than ArchivedDays
// ago, and alice retried the oldest dead job still live. The audit log so
// has rows to show. It returns the jobs imported.
func Seed(ctx context.Context, s store.Store, now time.Time) ([]*store.Job, error) {
	jobs := Jobs(now)
	if err := s.Import(ctx, jobs); err != nil {
		return nil, err
	}
	cutoff := now.Add(-ArchivedDays * 24 * time.Hour)
	if _, err := s.Act(ctx, &store.ActionParams{Action: store.ActArchive, Actor: "cron",
		Filter: store.Filter{FinishedBefore: cutoff}}); err != nil {
		return nil, err
	}
	for _, j := range jobs {
		if j.Status == store.StatusDead && j.CompletedAt != nil && !j.CompletedAt.Before(cutoff) {
			_, err := s.Act(ctx, &store.ActionParams{Action: store.ActRetry, Actor: "alice", IDs: []string{j.ID}})
			return jobs, err
		}
	}
	return jobs, nil
}

// olderHistory adds a thinner history before the week: most days a few
// finished jobs, among them dead and cancelled ones, so `archive --older
// 30d`, `purge --status dead --older 30d` and `archive --older 7d --status
// dead,cancelled` have work on the demo store.
func (g *gen) olderHistory() {
	for d := HistoryDays; d >= 8; d-- {
		day := g.now.Add(-time.Duration(d) * 24 * time.Hour)
		for i := range 1 + g.r.IntN(2) {
			typ := []string{CalendarSync, EmailSending, ReportGeneration, DataImport}[g.r.IntN(4)]
			j := g.job(typ, day.Add(time.Duration(i)*5*time.Hour+g.duration(0, 4*time.Hour)), g.user(typ))
			j.Priority = g.priority(typ)
			start := j.CreatedAt.Add(g.duration(100*time.Millisecond, 3*time.Second))
			switch {
			case d == HistoryDays || d%9 == 0 && i == 0:
				cause := g.transient(typ)
				fails := make([]failure, j.MaxAttempts)
				for k := range fails {
					fails[k] = cause
				}
				g.run(j, start, store.StatusDead, fails...)
			case d%13 == 0 && i == 0:
				g.run(j, start, store.StatusCancelled)
			default:
				g.run(j, start, store.StatusCompleted)
			}
		}
	}
}

// recentDead adds a calendar sync that ran out of attempts in the last
// hour: the guide's `list --status dead --since 1h`.
func (g *gen) recentDead() {
	j := g.job(CalendarSync, g.now.Add(-14*time.Minute), g.user(CalendarSync))
	g.run(j, j.CreatedAt.Add(900*time.Millisecond), store.StatusDead, rateLimited, rateLimited, rateLimited, rateLimited, rateLimited)
}

// gen builds the population. Jobs refer to each other by pointer until
// finish gives them IDs in creation order.
type gen struct {
	now     time.Time
	r       *rand.Rand
	jobs    []*store.Job
	outputs map[*store.Job]json.RawMessage // what each job returns if it completes
	parents map[*store.Job]*store.Job
	deps    map[*store.Job][]*store.Job
	reports int
	files   int
}

// workers are the hosts and PIDs the demo's jobs ran on.
var workers = []string{"worker-a:4127", "worker-b:4133", "worker-c:3971"}

// guideExample adds the guide's example job, with its offsets kept: started
// 5s after creation, failed 25s later, attempts 65s and 205s after the
// first. (The guide's history runs past its failure time; it is kept as
// written.)
func (g *gen) guideExample() {
	created := g.now.Add(-35 * time.Minute)
	started := created.Add(5 * time.Second)
	failed := created.Add(30 * time.Second)
	g.jobs = append(g.jobs, &store.Job{
		ID:           GuideJobID,
		Type:         CalendarSync,
		Status:       store.StatusFailed,
		Priority:     store.PriorityNormal,
		Data:         obj("userId", "user_123", "provider", "google", "syncType", "full"),
		ErrorMessage: "Token refresh failed: Invalid refresh token",
		ErrorCode:    "AUTH_ERROR",
		ErrorStack: "Error: Token refresh failed\n" +
			"  at GoogleCalendarClient.refreshToken (/src/lib/calendar-sync.ts:45)\n" +
			"  at CalendarSyncService.sync (/src/lib/calendar-sync.ts:120)",
		Attempts:     3,
		MaxAttempts:  5,
		ScheduledFor: created,
		CreatedAt:    created,
		StartedAt:    &started,
		CompletedAt:  &failed,
		UpdatedAt:    failed,
		UserID:       "user_123",
		History: []store.Attempt{
			{Attempt: 1, At: started, Code: "NETWORK_ERROR", Message: "Network timeout"},
			{Attempt: 2, At: started.Add(65 * time.Second), Code: "NETWORK_ERROR", Message: "Network timeout"},
			{Attempt: 3, At: started.Add(205 * time.Second), Code: "AUTH_ERROR", Message: "Invalid token"},
		},
	})
}

// recurring adds the scheduler's daily runs: metrics at midnight, stock
// reconciliation at 02:00. Two nights the pipeline metric timed out on
// every attempt (the guide's "Metric Calculation Timeouts").
func (g *gen) recurring() {
	midnight := g.now.Truncate(24 * time.Hour)
	for d := 6; d >= 0; d-- {
		day := midnight.Add(-time.Duration(d) * 24 * time.Hour)
		yesterday := day.Add(-24 * time.Hour).Format(time.DateOnly)
		if day.After(g.now.Add(-15 * time.Minute)) {
			continue
		}
		for i, metric := range []string{"daily_revenue", "pipeline_velocity", "active_users"} {
			j := g.job(MetricCalculation, day.Add(time.Duration(i+1)*time.Millisecond), "")
			j.Data = obj("metricType", metric, "date", yesterday)
			g.outputs[j] = obj("metricType", metric, "date", yesterday, "value", g.metricValue(metric), "rowsScanned", g.between(40_000, 900_000))
			start := j.CreatedAt.Add(g.duration(200*time.Millisecond, 2*time.Second))
			if metric == "pipeline_velocity" && (d == 1 || d == 3) {
				g.run(j, start, store.StatusDead, timedOut, timedOut, timedOut)
				continue
			}
			g.run(j, start, store.StatusCompleted)
		}
		at := day.Add(2 * time.Hour)
		if at.After(g.now.Add(-15 * time.Minute)) {
			continue
		}
		for i, wh := range []string{"wh_east", "wh_west"} {
			j := g.job(InventoryReconciliation, at.Add(time.Duration(i+1)*time.Millisecond), "")
			j.Data = obj("warehouseId", wh, "date", yesterday)
			g.outputs[j] = obj("warehouseId", wh, "itemsChecked", g.between(8_000, 14_000), "discrepancies", g.between(0, 12))
			g.run(j, j.CreatedAt.Add(g.duration(time.Second, 5*time.Second)), store.StatusCompleted)
		}
	}
}

// history adds the bulk of the week: jobs the application enqueued that
// completed, some after a transient failure.
func (g *gen) history() {
	weights := []struct {
		typ string
		n   int
	}{{CalendarSync, 45}, {EmailSending, 25}, {ReportGeneration, 17}, {DataImport, 7}, {MetricCalculation, 6}}
	total := 0
	for _, w := range weights {
		total += w.n
	}
	from, to := g.now.Add(-7*24*time.Hour+time.Hour), g.now.Add(-40*time.Minute)
	for range 110 {
		pick, typ := g.r.IntN(total), ""
		for _, w := range weights {
			if pick < w.n {
				typ = w.typ
				break
			}
			pick -= w.n
		}
		j := g.job(typ, from.Add(g.duration(0, to.Sub(from))), g.user(typ))
		j.Priority = g.priority(typ)
		start := j.CreatedAt.Add(g.duration(100*time.Millisecond, 3*time.Second))
		if g.r.IntN(10) == 0 {
			g.run(j, start, store.StatusCompleted, g.transient(typ))
			continue
		}
		g.run(j, start, store.StatusCompleted)
	}
}

// campaign adds a weekly digest sent in one burst of low-priority jobs.
func (g *gen) campaign() {
	at := g.now.Add(-75 * time.Hour).Truncate(time.Hour)
	for segment := 1; segment <= 8; segment++ {
		j := g.job(EmailSending, at.Add(time.Duration(segment)*3*time.Millisecond), "")
		j.Priority = store.PriorityLow
		n := g.between(1_500, 5_000)
		j.Data = obj("template", "weekly_digest", "segment", segment, "recipients", n)
		bounced := g.between(0, 40)
		g.outputs[j] = obj("sent", n-bounced, "bounced", bounced)
		g.run(j, j.CreatedAt.Add(g.duration(time.Second, 90*time.Second)), store.StatusCompleted)
	}
}

// deadLetters adds the guide's "Dead Letter Queue Buildup": calendar syncs
// that used up their attempts on the same few errors over the last days,
// so its "common error patterns" query has patterns to find.
func (g *gen) deadLetters() {
	causes := []failure{
		rateLimited, networkTimeout, rateLimited, timedOut, rateLimited,
		networkTimeout, rateLimited, timedOut, networkTimeout, rateLimited,
	}
	for _, cause := range causes {
		j := g.job(CalendarSync, g.now.Add(-g.duration(3*time.Hour, 60*time.Hour)), g.user(CalendarSync))
		fails := make([]failure, j.MaxAttempts)
		for i := range fails {
			fails[i] = cause
		}
		if cause != networkTimeout && g.r.IntN(2) == 0 {
			fails[0] = networkTimeout // a blip before the real cause
		}
		g.run(j, j.CreatedAt.Add(g.duration(time.Second, 4*time.Second)), store.StatusDead, fails...)
	}
	j := g.job(EmailSending, g.now.Add(-29*time.Hour-17*time.Minute), "user_117")
	j.Data = obj("template", "invite", "userId", "user_117", "recipients", 1)
	g.run(j, j.CreatedAt.Add(800*time.Millisecond), store.StatusDead, connRefused, connRefused, networkTimeout, connRefused, connRefused)
}

// failures adds jobs that hit a non-retryable error and wait for an
// operator, besides the guide's example.
func (g *gen) failures() {
	for _, f := range []struct {
		typ   string
		ago   time.Duration
		user  string
		data  json.RawMessage
		fails []failure
	}{
		{CalendarSync, 3*time.Hour + 12*time.Minute, "user_131",
			obj("userId", "user_131", "provider", "google", "syncType", "incremental"), []failure{authFailed}},
		{CalendarSync, 26*time.Hour + 4*time.Minute, "user_142",
			obj("userId", "user_142", "provider", "google", "syncType", "full"), []failure{networkTimeout, authFailed}},
		{ReportGeneration, 5*time.Hour + 41*time.Minute, "user_108",
			obj("reportId", "rpt_4710", "userId", "user_108", "template", "quarterly_summary_v2", "format", "pdf"), []failure{templateMissing}},
		{EmailSending, 50*time.Hour + 9*time.Minute, "user_126",
			obj("template", "report_ready", "userId", "user_126", "email", "jane.doe@@acme.io"), []failure{badRecipient}},
		{DataImport, 4*24*time.Hour + 2*time.Hour, "user_119",
			obj("fileId", "file_0388", "userId", "user_119", "source", "csv", "rows", 2400), []failure{badRow}},
		{InventoryReconciliation, 47*time.Hour + 30*time.Minute, "",
			obj("warehouseId", "wh_north", "date", g.now.Add(-72*time.Hour).Format(time.DateOnly)), []failure{warehouseMissing}},
	} {
		j := g.job(f.typ, g.now.Add(-f.ago), f.user)
		j.Data = f.data
		g.run(j, j.CreatedAt.Add(g.duration(500*time.Millisecond, 3*time.Second)), store.StatusFailed, f.fails...)
	}
}

// cancellations adds jobs an operator stopped: two before they ran, one
// while running, one waiting to retry.
func (g *gen) cancellations() {
	cancelled := func(j *store.Job, at time.Time) {
		j.Status = store.StatusCancelled
		j.CompletedAt = ptr(at)
		j.UpdatedAt = at
	}
	j := g.job(EmailSending, g.now.Add(-30*time.Hour), "user_123")
	j.Data = obj("template", "product_update", "userId", "user_123", "recipients", 2200)
	j.Priority = store.PriorityLow
	j.ScheduledFor = j.CreatedAt.Add(2 * time.Hour)
	cancelled(j, j.CreatedAt.Add(20*time.Minute))

	j = g.job(ReportGeneration, g.now.Add(-6*24*time.Hour+3*time.Hour), g.user(ReportGeneration))
	cancelled(j, j.CreatedAt.Add(45*time.Second))

	j = g.job(DataImport, g.now.Add(-2*24*time.Hour+5*time.Hour), "user_104")
	g.run(j, j.CreatedAt.Add(time.Second), store.StatusCancelled)

	j = g.job(CalendarSync, g.now.Add(-9*time.Hour), "user_137")
	g.run(j, j.CreatedAt.Add(time.Second), store.StatusRetrying, rateLimited)
	cancelled(j, j.History[0].At.Add(40*time.Second))
	j.ErrorCode, j.ErrorMessage, j.ErrorStack = "", "", ""
	j.ScheduledFor = j.CreatedAt
}

// imports adds two CSV imports split into chunk jobs: yesterday's, done,
// and one in progress now.
func (g *gen) imports() {
	spawn := func(typ string, ago time.Duration, user string, chunks int) (*store.Job, []*store.Job) {
		g.files++
		file := fileID(g.files)
		p := g.job(typ, g.now.Add(-ago), user)
		p.Priority = store.PriorityHigh
		p.Data = obj("fileId", file, "userId", user, "source", "s3://imports/"+file+".csv", "rows", chunks*5000, "chunkSize", 5000)
		g.outputs[p] = obj("chunks", chunks, "rowsQueued", chunks*5000)
		start := p.CreatedAt.Add(1200 * time.Millisecond)
		children := make([]*store.Job, chunks)
		for i := range children {
			c := g.job(typ, start.Add(time.Duration(500+i)*time.Millisecond), user)
			c.Priority = store.PriorityHigh
			c.Data = obj("fileId", file, "userId", user, "chunk", i+1, "offset", i*5000, "rows", 5000)
			skipped := g.between(0, 30)
			g.outputs[c] = obj("rowsImported", 5000-skipped, "rowsSkipped", skipped)
			g.parents[c] = p
			children[i] = c
		}
		return p, children
	}

	p, children := spawn(DataImport, 27*time.Hour, "user_108", 4)
	g.run(p, p.CreatedAt.Add(1200*time.Millisecond), store.StatusCompleted)
	at := *p.CompletedAt
	for _, c := range children {
		g.run(c, at, store.StatusCompleted)
		at = c.CompletedAt.Add(g.duration(100*time.Millisecond, time.Second))
	}

	// The parent runs until its chunks are done; they run one after another.
	p, children = spawn(DataImport, 6*time.Minute, "user_123", 5)
	g.run(p, p.CreatedAt.Add(1200*time.Millisecond), store.StatusRunning)
	at = children[0].CreatedAt.Add(300 * time.Millisecond)
	for i, c := range children[:3] {
		if i == 1 {
			g.run(c, at, store.StatusCompleted, networkTimeout)
		} else {
			g.run(c, at, store.StatusCompleted)
		}
		at = c.CompletedAt.Add(g.duration(100*time.Millisecond, time.Second))
	}
	g.run(children[3], g.now.Add(-52*time.Second), store.StatusRunning)
}

// chains adds the guide's "Job Chains": a report, then an email that waits
// for it. One report is done, so its email is ready; the other is still
// running, so its email waits.
func (g *gen) chains() {
	chain := func(ago time.Duration, user, email string) (*store.Job, *store.Job) {
		report := g.job(ReportGeneration, g.now.Add(-ago), user)
		report.Priority = store.PriorityHigh
		id := g.reportID()
		report.Data = obj("reportId", id, "userId", user, "format", "pdf", "period", g.now.Format("2006-01"))
		g.outputs[report] = obj("reportId", id, "url", "https://files.example.com/reports/"+id+".pdf", "pages", g.between(4, 40), "bytes", g.between(80_000, 2_400_000))
		mail := g.job(EmailSending, report.CreatedAt.Add(4*time.Millisecond), user)
		mail.Data = obj("template", "report_ready", "reportId", id, "email", email)
		g.deps[mail] = []*store.Job{report}
		return report, mail
	}
	report, _ := chain(9*time.Minute, "user_123", "ops@northwind.example")
	g.run(report, report.CreatedAt.Add(1500*time.Millisecond), store.StatusCompleted)
	report, _ = chain(95*time.Second, "user_112", "finance@contoso.example")
	g.run(report, report.CreatedAt.Add(1100*time.Millisecond), store.StatusRunning)
}

// queue adds what is happening now: jobs running and waiting, some due
// later, some waiting to be retried.
func (g *gen) queue() {
	// Running: a calendar sync started 2s ago (the guide's dashboard).
	j := g.job(CalendarSync, g.now.Add(-2500*time.Millisecond), "user_123")
	j.Data = obj("userId", "user_123", "provider", "google", "syncType", "incremental")
	g.run(j, g.now.Add(-2*time.Second), store.StatusRunning)

	// Due and waiting for a worker.
	for _, p := range []struct {
		typ      string
		ago      time.Duration
		priority store.Priority
	}{
		{MetricCalculation, 5 * time.Minute, store.PriorityNormal},
		{CalendarSync, 4*time.Minute + 10*time.Second, store.PriorityNormal},
		{ReportGeneration, 3*time.Minute + 2*time.Second, store.PriorityLow},
		{EmailSending, 2*time.Minute + 40*time.Second, store.PriorityHigh},
		{CalendarSync, 100 * time.Second, store.PriorityNormal},
		{EmailSending, 70 * time.Second, store.PriorityNormal},
		{InventoryReconciliation, 55 * time.Second, store.PriorityCritical},
		{CalendarSync, 20 * time.Second, store.PriorityHigh},
	} {
		j := g.job(p.typ, g.now.Add(-p.ago), g.user(p.typ))
		j.Priority = p.priority
	}

	// Delayed: PENDING with a future "scheduledFor".
	for _, d := range []struct {
		typ      string
		ago      time.Duration
		delay    time.Duration
		user     string
		priority store.Priority
	}{
		{EmailSending, 4 * time.Minute, 10 * time.Minute, "user_123", store.PriorityNormal},
		{DataImport, 12 * time.Minute, 30 * time.Minute, "user_121", store.PriorityNormal},
		{CalendarSync, 25 * time.Minute, time.Hour, "user_140", store.PriorityLow},
		{ReportGeneration, 2 * time.Hour, 18 * time.Hour, "user_108", store.PriorityLow},
	} {
		j := g.job(d.typ, g.now.Add(-d.ago), d.user)
		j.Priority = d.priority
		j.ScheduledFor = j.CreatedAt.Add(d.ago + d.delay)
	}

	// Retrying: failed on a transient error, next attempt due soon.
	for _, r := range []struct {
		typ   string
		ago   time.Duration
		next  time.Duration
		fails []failure
	}{
		{CalendarSync, 3 * time.Minute, 40 * time.Second, []failure{networkTimeout, rateLimited}},
		{EmailSending, 2 * time.Minute, 90 * time.Second, []failure{connRefused}},
		{DataImport, 8 * time.Minute, 4 * time.Minute, []failure{timedOut, timedOut, timedOut}},
	} {
		j := g.job(r.typ, g.now.Add(-r.ago), g.user(r.typ))
		g.run(j, j.CreatedAt.Add(time.Second), store.StatusRetrying, r.fails...)
		j.ScheduledFor = g.now.Add(r.next)
	}
}

// finish sorts the jobs by creation, gives them time-ordered IDs and
// resolves the references between them.
func (g *gen) finish() []*store.Job {
	sort.SliceStable(g.jobs, func(a, b int) bool { return g.jobs[a].CreatedAt.Before(g.jobs[b].CreatedAt) })
	ids := idGen{r: g.r}
	for _, j := range g.jobs {
		if j.ID == "" {
			j.ID = ids.next(j.CreatedAt)
		}
	}
	for _, j := range g.jobs {
		if p := g.parents[j]; p != nil {
			j.ParentID = p.ID
		}
		for _, d := range g.deps[j] {
			j.DependsOn = append(j.DependsOn, d.ID)
			if j.Status.Live() && d.Status != store.StatusCompleted {
				j.WaitingOn++
			}
		}
	}
	return g.jobs
}

// job adds a PENDING job of typ created at c, due then, with a payload
// that fits its type; user, when set, owns it.
func (g *gen) job(typ string, c time.Time, user string) *store.Job {
	c = c.Truncate(time.Millisecond)
	maxAttempts := store.DefaultMaxAttempts
	if typ == MetricCalculation {
		maxAttempts = 3 // the guide's jobConfig.metricCalculation
	}
	j := &store.Job{
		Type: typ, Status: store.StatusPending, Priority: store.PriorityNormal,
		MaxAttempts: maxAttempts, ScheduledFor: c, CreatedAt: c, UpdatedAt: c, UserID: user,
	}
	j.Data, g.outputs[j] = g.payload(typ, user, c)
	g.jobs = append(g.jobs, j)
	return j
}

// run plays j's attempts from start: one failed attempt per entry of fails,
// backing off 1s, 2s, 4s… between them (the guide's default), then leaves
// j in status end. FAILED, DEAD and RETRYING end on the last failure;
// RUNNING, COMPLETED and CANCELLED take one more attempt, which is still
// running, succeeds, or is stopped by an operator.
func (g *gen) run(j *store.Job, start time.Time, end store.Status, fails ...failure) {
	at := start
	for i, f := range fails {
		took := g.failTime(j.Type, f)
		j.History = append(j.History, store.Attempt{Attempt: i + 1, At: at, Code: f.Code, Message: f.Message, WorkerID: g.worker()})
		j.StartedAt, j.CompletedAt, j.UpdatedAt = ptr(at), ptr(at.Add(took)), at.Add(took)
		j.ErrorCode, j.ErrorMessage, j.ErrorStack = f.Code, f.Message, f.stack(j.Type)
		at = at.Add(took + time.Duration(1<<i)*time.Second)
	}
	j.Status, j.Attempts = end, len(fails)
	switch end {
	case store.StatusRetrying:
		j.CompletedAt, j.ScheduledFor = nil, at
	case store.StatusRunning:
		j.Attempts++
		j.StartedAt, j.CompletedAt, j.UpdatedAt = ptr(at), nil, at
		j.WorkerID = g.worker()
		j.ErrorCode, j.ErrorMessage, j.ErrorStack = "", "", ""
	case store.StatusCompleted, store.StatusCancelled:
		j.Attempts++
		done := at.Add(g.runTime(j.Type))
		j.StartedAt, j.CompletedAt, j.UpdatedAt = ptr(at), ptr(done), done
		j.ErrorCode, j.ErrorMessage, j.ErrorStack = "", "", ""
		if end == store.StatusCompleted {
			j.Output = g.outputs[j]
		} else {
			j.CancelRequested = true
		}
	}
}

// runTime is how long a successful attempt of typ takes.
func (g *gen) runTime(typ string) time.Duration {
	switch typ {
	case MetricCalculation:
		return g.duration(4*time.Second, 28*time.Second)
	case ReportGeneration:
		return g.duration(8*time.Second, 75*time.Second)
	case EmailSending:
		return g.duration(600*time.Millisecond, 12*time.Second)
	case DataImport:
		return g.duration(35*time.Second, 80*time.Second)
	case InventoryReconciliation:
		return g.duration(20*time.Second, 3*time.Minute)
	}
	return g.duration(1500*time.Millisecond, 18*time.Second)
}

// failTime is how long an attempt of typ ran before failing with f.
func (g *gen) failTime(typ string, f failure) time.Duration {
	switch f.Code {
	case "TIMEOUT":
		return 30 * time.Second // the default per-type timeout
	case "NETWORK_ERROR":
		return g.duration(5*time.Second, 10*time.Second)
	}
	return g.duration(200*time.Millisecond, 2500*time.Millisecond)
}

// transient is a retryable error typical of typ.
func (g *gen) transient(typ string) failure {
	switch typ {
	case CalendarSync:
		return []failure{networkTimeout, rateLimited}[g.r.IntN(2)]
	case EmailSending:
		return connRefused
	case MetricCalculation, DataImport:
		return timedOut
	}
	return networkTimeout
}

// payload is a job's input and, should it complete, its output.
func (g *gen) payload(typ, user string, c time.Time) (data, output json.RawMessage) {
	switch typ {
	case CalendarSync:
		provider, syncType := "google", "incremental"
		if g.r.IntN(10) < 3 {
			provider = "outlook"
		}
		n := g.between(0, 40)
		if g.r.IntN(8) == 0 {
			syncType, n = "full", g.between(200, 1500)
		}
		return obj("userId", user, "provider", provider, "syncType", syncType),
			obj("eventsSynced", n, "eventsDeleted", g.between(0, 5), "calendars", g.between(1, 4))
	case MetricCalculation:
		metric := []string{"daily_revenue", "pipeline_velocity", "active_users", "churn_rate"}[g.r.IntN(4)]
		date := c.Add(-24 * time.Hour).Format(time.DateOnly)
		return obj("metricType", metric, "date", date),
			obj("metricType", metric, "date", date, "value", g.metricValue(metric), "rowsScanned", g.between(40_000, 900_000))
	case ReportGeneration:
		id := g.reportID()
		return obj("reportId", id, "userId", user, "format", "pdf", "period", c.Format("2006-01")),
			obj("reportId", id, "url", "https://files.example.com/reports/"+id+".pdf", "pages", g.between(4, 40), "bytes", g.between(80_000, 2_400_000))
	case EmailSending:
		template := []string{"report_ready", "invite", "password_reset", "meeting_reminder"}[g.r.IntN(4)]
		return obj("template", template, "userId", user, "recipients", 1), obj("sent", 1, "bounced", 0)
	case DataImport:
		g.files++
		rows := g.between(200, 4800)
		skipped := g.between(0, 25)
		return obj("fileId", fileID(g.files), "userId", user, "source", "csv", "rows", rows),
			obj("rowsImported", rows-skipped, "rowsSkipped", skipped)
	case InventoryReconciliation:
		wh := []string{"wh_east", "wh_west"}[g.r.IntN(2)]
		return obj("warehouseId", wh, "date", c.Format(time.DateOnly)),
			obj("warehouseId", wh, "itemsChecked", g.between(8_000, 14_000), "discrepancies", g.between(0, 12))
	}
	return obj(), obj()
}

func (g *gen) metricValue(metric string) any {
	switch metric {
	case "daily_revenue":
		return float64(g.between(1_200_000, 4_800_000)) / 100
	case "churn_rate":
		return float64(g.between(80, 420)) / 10_000
	case "pipeline_velocity":
		return float64(g.between(150, 900)) / 10
	}
	return g.between(300, 2_500)
}

// user is the application user who enqueued a job of typ: none for the
// scheduler's types, often user_123 (the guide's user) for the others.
func (g *gen) user(typ string) string {
	switch {
	case typ == MetricCalculation || typ == InventoryReconciliation:
		return ""
	case g.r.IntN(6) == 0:
		return "user_123"
	}
	return fmt.Sprintf("user_%d", g.between(101, 148))
}

// priority is the priority an application would give typ.
func (g *gen) priority(typ string) store.Priority {
	switch n := g.r.IntN(100); {
	case n < 3:
		return store.PriorityCritical
	case n < 12:
		return store.PriorityHigh
	case n < 22 || typ == EmailSending && n < 40:
		return store.PriorityLow
	}
	return store.PriorityNormal
}

func (g *gen) worker() string { return workers[g.r.IntN(len(workers))] }

func (g *gen) reportID() string {
	g.reports++
	return fmt.Sprintf("rpt_%d", 4800+g.reports)
}

func fileID(n int) string { return fmt.Sprintf("file_%04d", 400+n) }

// between is a whole number in [lo, hi].
func (g *gen) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

// duration is a whole number of milliseconds in [lo, hi).
func (g *gen) duration(lo, hi time.Duration) time.Duration {
	return (lo + time.Duration(g.r.Int64N(int64(hi-lo)))).Truncate(time.Millisecond)
}

func ptr(t time.Time) *time.Time { return &t }

// obj is a JSON object with its keys in the order given, as an application
// would write it (encoding/json would sort a map's keys).
func obj(kv ...any) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv[i])
		v, _ := json.Marshal(kv[i+1])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}
