package demo

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/sqlite"
)

// now is deliberately not on a whole second: Jobs truncates it.
var now = time.Date(2025, 10, 25, 10, 35, 0, 420_000_000, time.UTC)

var base = now.Truncate(time.Second)

func byID(jobs []*store.Job) map[string]*store.Job {
	m := make(map[string]*store.Job, len(jobs))
	for _, j := range jobs {
		m[j.ID] = j
	}
	return m
}

func TestPopulation(t *testing.T) {
	jobs := Jobs(now)
	// Small enough that `make demo` takes a moment.
	if n := len(jobs); n < 150 || n > 320 {
		t.Errorf("%d jobs; want 150-320", n)
	}
	statuses := map[store.Status]int{}
	types := map[string]int{}
	priorities := map[store.Priority]int{}
	users := 0
	for _, j := range jobs {
		statuses[j.Status]++
		types[j.Type]++
		priorities[j.Priority]++
		if j.UserID == "user_123" {
			users++
		}
	}
	for _, s := range store.Statuses {
		if statuses[s] == 0 {
			t.Errorf("no %s job", s)
		}
	}
	for _, typ := range Types {
		if types[typ] == 0 {
			t.Errorf("no %s job", typ)
		}
	}
	if len(types) != len(Types) {
		t.Errorf("types = %v; want only the guide's six", types)
	}
	for _, p := range store.Priorities {
		if priorities[p] == 0 {
			t.Errorf("no %s job", p)
		}
	}
	if users < 5 {
		t.Errorf("%d jobs of user_123; want several", users)
	}
	// The health check warns above 10 failed jobs; the demo stays under.
	if statuses[store.StatusFailed] > 10 {
		t.Errorf("%d FAILED jobs; want at most 10", statuses[store.StatusFailed])
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := json.Marshal(Jobs(now))
	b, _ := json.Marshal(Jobs(now))
	if string(a) != string(b) {
		t.Error("Jobs(now) differs between calls")
	}
	// Another now moves the jobs in time but keeps their IDs' randomness.
	later := Jobs(now.Add(time.Hour))
	for i, j := range Jobs(now) {
		if j.ID != GuideJobID && later[i].ID[14:] != j.ID[14:] {
			t.Fatalf("job %d: random part %s, an hour later %s", i, j.ID[14:], later[i].ID[14:])
		}
	}
}

func TestGuideExample(t *testing.T) {
	j := byID(Jobs(now))[GuideJobID]
	if j == nil {
		t.Fatalf("no %s", GuideJobID)
	}
	created := base.Add(-35 * time.Minute)
	started, failed := created.Add(5*time.Second), created.Add(30*time.Second)
	want := &store.Job{
		ID: GuideJobID, Type: "CalendarSync", Status: store.StatusFailed, Priority: store.PriorityNormal,
		Data:         json.RawMessage(`{"userId":"user_123","provider":"google","syncType":"full"}`),
		ErrorMessage: "Token refresh failed: Invalid refresh token",
		ErrorCode:    "AUTH_ERROR",
		ErrorStack:   "Error: Token refresh failed\n  at GoogleCalendarClient.refreshToken (/src/lib/calendar-sync.ts:45)\n  at CalendarSyncService.sync (/src/lib/calendar-sync.ts:120)",
		Attempts:     3, MaxAttempts: 5,
		ScheduledFor: created, CreatedAt: created, StartedAt: &started, CompletedAt: &failed, UpdatedAt: failed,
		UserID: "user_123",
		History: []store.Attempt{
			{Attempt: 1, At: started, Code: "NETWORK_ERROR", Message: "Network timeout"},
			{Attempt: 2, At: started.Add(65 * time.Second), Code: "NETWORK_ERROR", Message: "Network timeout"},
			{Attempt: 3, At: started.Add(205 * time.Second), Code: "AUTH_ERROR", Message: "Invalid token"},
		},
	}
	if !reflect.DeepEqual(j, want) {
		got, _ := json.MarshalIndent(j, "", "  ")
		t.Errorf("guide example:\n%s", got)
	}
	if j.Duration() != 25*time.Second {
		t.Errorf("duration = %v; want 25s", j.Duration())
	}
}

var idPattern = regexp.MustCompile(`^job_[0-9a-hjkmnp-tv-z]{26}$`)

func TestIDs(t *testing.T) {
	jobs := Jobs(now)
	seen := map[string]bool{}
	var ordered []*store.Job
	for _, j := range jobs {
		if seen[j.ID] {
			t.Errorf("duplicate ID %s", j.ID)
		}
		seen[j.ID] = true
		if j.ID == GuideJobID {
			continue
		}
		if !idPattern.MatchString(j.ID) {
			t.Errorf("ID %q is not job_ and 26 lower-case Crockford base32 characters", j.ID)
		}
		// The time part is store.NewID's for the job's creation time.
		if want := store.NewID(j.CreatedAt)[:14]; j.ID[:14] != want {
			t.Errorf("ID %s created %s: time part %s; want %s", j.ID, j.CreatedAt, j.ID[:14], want)
		}
		ordered = append(ordered, j)
	}
	// Sorted by ID, the jobs are in creation order, and Jobs returns them so.
	if !slices.IsSortedFunc(ordered, func(a, b *store.Job) int { return a.CreatedAt.Compare(b.CreatedAt) }) {
		t.Error("jobs are not returned oldest first")
	}
	for i := 1; i < len(ordered); i++ {
		if ordered[i-1].ID >= ordered[i].ID {
			t.Errorf("%s (created %s) does not sort before %s (created %s)",
				ordered[i-1].ID, ordered[i-1].CreatedAt, ordered[i].ID, ordered[i].CreatedAt)
		}
	}
}

func TestIDGenMonotonic(t *testing.T) {
	g := idGen{r: rand.New(rand.NewPCG(1, 2))}
	at := time.Date(2025, 10, 25, 10, 0, 0, 0, time.UTC)
	prev := ""
	for i := range 1000 {
		id := g.next(at.Add(time.Duration(i/100) * time.Millisecond))
		if !idPattern.MatchString(id) || id <= prev {
			t.Fatalf("id %d = %s after %s", i, id, prev)
		}
		prev = id
	}
}

func TestRelations(t *testing.T) {
	jobs := Jobs(now)
	ids := byID(jobs)
	children := map[string][]*store.Job{}
	var readyChain, waitingChain bool
	for _, j := range jobs {
		if j.ParentID != "" {
			p := ids[j.ParentID]
			if p == nil {
				t.Errorf("%s: parent %s does not exist", j.ID, j.ParentID)
				continue
			}
			if p.CreatedAt.After(j.CreatedAt) {
				t.Errorf("%s was created before its parent %s", j.ID, p.ID)
			}
			children[p.ID] = append(children[p.ID], j)
		}
		waiting := 0
		for _, d := range j.DependsOn {
			dep := ids[d]
			if dep == nil {
				t.Errorf("%s: dependency %s does not exist", j.ID, d)
				continue
			}
			if dep.Status != store.StatusCompleted {
				waiting++
			}
			if j.Type == EmailSending && dep.Type == ReportGeneration && j.Status == store.StatusPending {
				readyChain = readyChain || dep.Status == store.StatusCompleted && j.WaitingOn == 0
				waitingChain = waitingChain || dep.Status == store.StatusRunning && j.WaitingOn == 1
			}
		}
		if j.WaitingOn != waiting {
			t.Errorf("%s: waitingOn %d; %d of its dependencies are not COMPLETED", j.ID, j.WaitingOn, waiting)
		}
	}
	if !readyChain || !waitingChain {
		t.Errorf("chains: report COMPLETED → email ready %v; report RUNNING → email waiting %v; want both", readyChain, waitingChain)
	}
	var parents []store.Status
	for id, cs := range children {
		if p := ids[id]; p.Type == DataImport && len(cs) >= 4 && len(cs) <= 5 {
			parents = append(parents, p.Status)
		}
	}
	if !slices.Contains(parents, store.StatusRunning) || !slices.Contains(parents, store.StatusCompleted) {
		t.Errorf("DataImport parents with 4-5 children: %v; want a RUNNING and a COMPLETED one", parents)
	}
}

func TestDeadLetterPatterns(t *testing.T) {
	messages := map[string]int{}
	dead := 0
	for _, j := range Jobs(now) {
		if j.Status == store.StatusDead && j.Type == CalendarSync {
			dead++
			messages[j.ErrorMessage]++
		}
	}
	if dead < 10 || len(messages) > 3 {
		t.Errorf("%d dead CalendarSync jobs with messages %v; want 10 or more sharing at most 3", dead, messages)
	}
	for msg, n := range messages {
		if n < 2 {
			t.Errorf("message %q occurs once; want repeated patterns", msg)
		}
	}
}

var (
	retryable    = []string{"NETWORK_ERROR", "TIMEOUT", "RATE_LIMIT", "WORKER_LOST"}
	nonRetryable = []string{"INVALID_PARAMS", "AUTH_ERROR", "NOT_FOUND", "VALIDATION_ERROR"}
)

// TestConsistency checks each job is one a worker could have left behind.
func TestConsistency(t *testing.T) {
	first := base.Add(-HistoryDays * 24 * time.Hour)
	for _, j := range Jobs(now) {
		errf := func(format string, a ...any) {
			t.Helper()
			t.Errorf("%s (%s %s): "+format, append([]any{j.ID, j.Type, j.Status}, a...)...)
		}
		if j.CreatedAt.Before(first) || j.CreatedAt.After(base) {
			errf("created %s, not in the last %d days", j.CreatedAt, HistoryDays)
		}
		if j.ScheduledFor.Before(j.CreatedAt) {
			errf("scheduled before it was created")
		}
		past := []time.Time{j.UpdatedAt}
		for _, p := range []*time.Time{j.StartedAt, j.CompletedAt} {
			if p != nil {
				past = append(past, *p)
			}
		}
		for _, a := range j.History {
			past = append(past, a.At)
		}
		for _, p := range past {
			if p.After(base) || p.Before(j.CreatedAt) {
				errf("time %s is not between its creation and now", p)
			}
		}
		if j.CompletedAt != nil && j.StartedAt != nil && j.CompletedAt.Before(*j.StartedAt) {
			errf("completed before it started")
		}
		if _, err := store.ParsePriority(string(j.Priority)); err != nil {
			errf("%v", err)
		}
		if j.MaxAttempts < 1 || j.Attempts > j.MaxAttempts {
			errf("attempts %d / %d", j.Attempts, j.MaxAttempts)
		}
		if !json.Valid(j.Data) {
			errf("data %q is not JSON", j.Data)
		}
		for i, a := range j.History {
			if a.Attempt != i+1 || a.Code == "" || a.Message == "" {
				errf("history entry %d = %+v", i, a)
			}
		}
		if (j.Output != nil) != (j.Status == store.StatusCompleted) {
			errf("output %s", j.Output)
		}
		if (j.WorkerID != "") != (j.Status == store.StatusRunning) {
			errf("workerId %q", j.WorkerID)
		}
		hasError := j.ErrorMessage != "" && j.ErrorCode != "" && j.ErrorStack != ""
		errorExpected := j.Status == store.StatusFailed || j.Status == store.StatusDead || j.Status == store.StatusRetrying
		if hasError != errorExpected || !hasError && (j.ErrorMessage != "" || j.ErrorCode != "" || j.ErrorStack != "") {
			errf("error %q %q", j.ErrorCode, j.ErrorMessage)
		}
		var lastCode string
		if n := len(j.History); n > 0 {
			lastCode = j.History[n-1].Code
		}

		switch j.Status {
		case store.StatusPending:
			if j.Attempts != 0 || j.StartedAt != nil || j.CompletedAt != nil || len(j.History) != 0 {
				errf("PENDING with attempts %d, started %v, completed %v", j.Attempts, j.StartedAt, j.CompletedAt)
			}
		case store.StatusRunning:
			if j.StartedAt == nil || j.CompletedAt != nil || j.Attempts != len(j.History)+1 {
				errf("RUNNING with started %v, completed %v, attempts %d", j.StartedAt, j.CompletedAt, j.Attempts)
			}
		case store.StatusCompleted:
			if j.StartedAt == nil || j.CompletedAt == nil || j.Attempts != len(j.History)+1 || !json.Valid(j.Output) {
				errf("COMPLETED with started %v, completed %v, attempts %d, output %s", j.StartedAt, j.CompletedAt, j.Attempts, j.Output)
			}
		case store.StatusFailed, store.StatusDead:
			if j.StartedAt == nil || j.CompletedAt == nil || j.Attempts < 1 || j.Attempts != len(j.History) || j.ErrorCode != lastCode {
				errf("with started %v, completed %v, attempts %d, history %d, code %s (last %s)",
					j.StartedAt, j.CompletedAt, j.Attempts, len(j.History), j.ErrorCode, lastCode)
			}
			if j.Status == store.StatusFailed && !slices.Contains(nonRetryable, j.ErrorCode) {
				errf("FAILED on retryable %s", j.ErrorCode)
			}
			if j.Status == store.StatusDead {
				if j.Attempts != j.MaxAttempts {
					errf("DEAD after %d of %d attempts", j.Attempts, j.MaxAttempts)
				}
				for _, a := range j.History {
					if !slices.Contains(retryable, a.Code) {
						errf("DEAD after non-retryable %s", a.Code)
					}
				}
			}
		case store.StatusRetrying:
			if !j.ScheduledFor.After(base) || j.CompletedAt != nil || j.Attempts < 1 || j.Attempts >= j.MaxAttempts ||
				j.Attempts != len(j.History) || j.ErrorCode != lastCode || !slices.Contains(retryable, lastCode) {
				errf("RETRYING scheduled %s, completed %v, attempts %d/%d, history %d, code %s",
					j.ScheduledFor, j.CompletedAt, j.Attempts, j.MaxAttempts, len(j.History), j.ErrorCode)
			}
		case store.StatusCancelled:
			if j.CompletedAt == nil {
				errf("CANCELLED without completedAt")
			}
		}
	}
	delayed := 0
	for _, j := range Jobs(now) {
		if j.Status == store.StatusPending && j.ScheduledFor.After(base) {
			delayed++
		}
	}
	if delayed < 2 {
		t.Errorf("%d delayed PENDING jobs; want a few", delayed)
	}
}

// TestImport seeds a real embedded store, as `jobctl demo` does.
func TestImport(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	jobs := Jobs(now)
	if err := s.Import(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Count(ctx, &store.Filter{}, false); err != nil || n != int64(len(jobs)) {
		t.Fatalf("count = %d, %v; want %d", n, err, len(jobs))
	}
	got, err := s.Get(ctx, GuideJobID)
	if err != nil {
		t.Fatal(err)
	}
	want := byID(jobs)[GuideJobID]
	if got.Status != want.Status || !got.CreatedAt.Equal(want.CreatedAt) || got.Duration() != 25*time.Second ||
		len(got.History) != 3 || string(got.Data) != string(want.Data) && !jsonEqual(got.Data, want.Data) {
		t.Errorf("stored guide example differs: %+v", got)
	}
	for _, j := range jobs {
		if len(j.DependsOn) == 0 {
			continue
		}
		got, err := s.Get(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.DependsOn, j.DependsOn) || got.WaitingOn != j.WaitingOn {
			t.Errorf("%s: stored dependsOn %v waitingOn %d; want %v %d", j.ID, got.DependsOn, got.WaitingOn, j.DependsOn, j.WaitingOn)
		}
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}
