//go:build unix

package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// TestCancelStormNoDeadlock is the deadlock stress test: two workers with 32
// slots each finish a stream of short jobs while 30 rounds of bulk cancel
// run against them, three at a time, each round `cancel` of 300 random live
// IDs and `cancel --status running` at once. Every statement that locks several "Job" rows
// locks them in id order, and a deadlock or serialization failure is
// retried in the store, so no command and no worker ever sees 40P01; every
// job ends COMPLETED or CANCELLED after at most one attempt, with the audit
// rows its cancels wrote.
//
// Postgres only: SQLite has one writer at a time and cannot deadlock.
func TestCancelStormNoDeadlock(t *testing.T) {
	e := newWorkerEnv(t, "postgres")
	p := e.openProofDB()
	cfg := e.writeConfig("worker.yaml", "jobs:\n  Tick:\n    handler: {builtin: sleep}\n")

	// A stream of short jobs (20-200 ms), topped up every 20 ms to keep
	// 2,000 waiting whatever the machine's speed: the workers are busy
	// through the storm, and the rest drains in seconds after it.
	const backlog = 2000
	var (
		enqueued atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		enqErr   atomic.Value
	)
	topUp := func() error {
		var pending int
		if err := p.db.QueryRow(`SELECT COUNT(*) FROM "Job" WHERE status = 'PENDING'`).Scan(&pending); err != nil {
			return err
		}
		if pending >= backlog {
			return nil
		}
		ps := make([]*store.EnqueueParams, backlog-pending)
		for k := range ps {
			ps[k] = &store.EnqueueParams{Type: "Tick", Data: json.RawMessage(fmt.Sprintf(`{"ms":%d}`, 20+rand.IntN(180)))}
		}
		if _, err := p.s.EnqueueMany(context.Background(), ps, nil); err != nil {
			return err
		}
		enqueued.Add(int64(len(ps)))
		return nil
	}
	if err := topUp(); err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if err := topUp(); err != nil {
				enqErr.Store(err)
				return
			}
		}
	}()
	stopStream := func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}
	t.Cleanup(stopStream)

	var ws []*workerProc
	for i := range 2 {
		ws = append(ws, e.start(fmt.Sprintf("w%d", i+1), "worker", "run", "--config", cfg, "--concurrency", "32",
			"--heartbeat", "200ms", "--poll-interval", "100ms", "--log-level", "warn"))
	}
	for deadline := time.Now().Add(15 * time.Second); p.poll(`SELECT COUNT(*) FROM "Job" WHERE status = 'COMPLETED'`) < 200; {
		if time.Now().After(deadline) {
			t.Fatalf("the workers completed no jobs\nstderr:\n%s", lastChars(ws[0].stderr.String(), 2000))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A named job that finished between the pick and the cancel is refused
	// (exit 1, one line each); besides, stderr may hold only the summary.
	refusal := regexp.MustCompile(`^jobctl: job_[0-9a-z]+ is (COMPLETED|CANCELLED): cancel needs `)
	summary := regexp.MustCompile(`^(Cancelled [0-9,]+ jobs?|Cancel requested for [0-9,]+ running jobs?|No [A-Z, or]+ jobs match the filter; nothing to cancel$)`)
	checkCancel := func(round int, what string, r cliResult, named bool) {
		t.Helper()
		var other []string
		refused := 0
		for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
			switch {
			case l == "":
			case named && refusal.MatchString(l):
				refused++
			case summary.MatchString(l):
			default:
				other = append(other, l)
			}
		}
		switch {
		case len(other) > 0:
			t.Errorf("round %d: %s exited %d; stderr:\n%s", round, what, r.code, strings.Join(other, "\n"))
		case r.code == 1 && refused > 0:
		case r.code != 0:
			t.Errorf("round %d: %s exited %d\nstdout: %s\nstderr: %s", round, what, r.code, r.stdout, r.stderr)
		}
	}
	// 300 of the 1,000 live jobs the workers are at or are about to claim
	// (claims go by id here: one priority, all due at once), so the
	// cancel's batch meets the workers' claims and completions.
	pick := func() ([]string, error) {
		rows, err := p.db.Query(`SELECT id FROM (SELECT id FROM "Job" WHERE status IN ('PENDING', 'RUNNING') ORDER BY id LIMIT 1000) f
			ORDER BY random() LIMIT 300`)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, rows.Err()
	}
	// The rounds run in three lanes, so three rounds overlap at a time.
	const rounds, lanes = 30, 3
	var (
		next, done                 atomic.Int64
		namedCancels, refusedTotal atomic.Int64
		lw                         sync.WaitGroup
	)
	t0 := time.Now()
	for range lanes {
		lw.Add(1)
		go func() {
			defer lw.Done()
			for {
				round := int(next.Add(1))
				if round > rounds || t.Failed() {
					return
				}
				ids, err := pick()
				if err != nil {
					t.Errorf("round %d: picking IDs: %v", round, err)
					return
				}
				namedCancels.Add(int64(len(ids)))
				var named, running cliResult
				var rw sync.WaitGroup
				rw.Add(2)
				go func() {
					defer rw.Done()
					named = e.run("", append([]string{"cancel"}, ids...)...)
				}()
				go func() {
					defer rw.Done()
					running = e.run("", "cancel", "--status", "running")
				}()
				rw.Wait()
				if round%10 == 0 {
					t.Logf("round %d at %v: %d jobs enqueued", round, time.Since(t0).Round(time.Millisecond), enqueued.Load())
				}
				checkCancel(round, fmt.Sprintf("cancel of %d IDs", len(ids)), named, true)
				checkCancel(round, "cancel --status running", running, false)
				refusedTotal.Add(int64(strings.Count(named.stderr, "\n")))
				done.Add(1)
			}
		}()
	}
	lw.Wait()
	storm := time.Since(t0)

	// Stop the stream; the workers finish the rest and carry out the
	// pending cancel requests.
	stopStream()
	if err, _ := enqErr.Load().(error); err != nil {
		t.Fatalf("enqueueing the stream: %v", err)
	}
	for deadline := time.Now().Add(30 * time.Second); p.poll(`SELECT COUNT(*) FROM "Job" WHERE status IN ('PENDING', 'RUNNING', 'RETRYING')`) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("jobs still not finished after 30s: %v", p.strings(`SELECT status || '=' || COUNT(*) FROM "Job" GROUP BY status`))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, w := range ws {
		w.signal(syscall.SIGTERM)
	}
	for _, w := range ws {
		if code := w.wait(30 * time.Second); code != 0 {
			t.Errorf("worker %s exited %d after SIGTERM, want 0", w.name, code)
		}
		for _, l := range strings.Split(w.stderr.String(), "\n") {
			if strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") ||
				strings.Contains(l, "deadlock") || strings.Contains(l, "40P01") || strings.Contains(l, "40001") {
				t.Errorf("worker %s: %s", w.name, l)
			}
		}
	}

	// Every job: COMPLETED or CANCELLED, after at most one attempt.
	n := enqueued.Load()
	counts := p.strings(`SELECT status || '=' || COUNT(*) FROM "Job" GROUP BY status ORDER BY status`)
	if got := p.count(`SELECT COUNT(*) FROM "Job"`); got != n {
		t.Errorf("%d jobs in \"Job\", want all %d enqueued", got, n)
	}
	if got := p.count(`SELECT COUNT(*) FROM "Job" WHERE status NOT IN ('COMPLETED', 'CANCELLED') OR attempts > 1`); got != 0 {
		t.Errorf("%d jobs neither COMPLETED nor CANCELLED after at most one attempt: %v", got, counts)
		for _, l := range p.strings(`SELECT id || ' ' || status || ' attempts=' || attempts || ' ' || "errorHistory" FROM "Job"
			WHERE status NOT IN ('COMPLETED', 'CANCELLED') OR attempts > 1 LIMIT 10`) {
			t.Log("  ", l)
		}
	}
	if got := p.count(`SELECT COUNT(*) FROM "Job" WHERE "errorHistory" <> '[]'`); got != 0 {
		t.Errorf("%d jobs have a failed attempt in errorHistory", got)
	}

	// The audit trail: a job cancelled before it ran has exactly one
	// JOB_CANCEL row, saying CANCELLED; a job cancelled while running has
	// one or more saying a cancel was requested (each round's --status
	// running asks again) and none saying CANCELLED; every cancel row names
	// a job that was cancelled or asked to stop while running.
	newStatus := `l.metadata->>'newStatus'`
	audit := `SELECT COUNT(*) FROM "Job" j WHERE `
	if got := p.count(audit + `j.status = 'CANCELLED' AND j.attempts = 0 AND (SELECT COUNT(*) FROM "AuditLog" l
		WHERE l.action = 'JOB_CANCEL' AND l."resourceId" = j.id AND ` + newStatus + ` = 'CANCELLED') <> 1`); got != 0 {
		t.Errorf("%d jobs cancelled before they ran do not have exactly one JOB_CANCEL audit row saying CANCELLED", got)
	}
	if got := p.count(audit + `j.status = 'CANCELLED' AND j.attempts = 0 AND EXISTS (SELECT 1 FROM "AuditLog" l
		WHERE l.action = 'JOB_CANCEL' AND l."resourceId" = j.id AND ` + newStatus + ` <> 'CANCELLED')`); got != 0 {
		t.Errorf("%d jobs cancelled before they ran also have a cancel-requested audit row", got)
	}
	if got := p.count(audit + `j.status = 'CANCELLED' AND j.attempts = 1 AND NOT EXISTS (SELECT 1 FROM "AuditLog" l
		WHERE l.action = 'JOB_CANCEL' AND l."resourceId" = j.id AND ` + newStatus + ` = 'RUNNING (cancel requested)')`); got != 0 {
		t.Errorf("%d jobs cancelled while running have no cancel-requested audit row", got)
	}
	if got := p.count(`SELECT COUNT(*) FROM "AuditLog" l JOIN "Job" j ON j.id = l."resourceId" WHERE l.action = 'JOB_CANCEL'
		AND ((` + newStatus + ` = 'CANCELLED' AND NOT (j.status = 'CANCELLED' AND j.attempts = 0))
		  OR (` + newStatus + ` = 'RUNNING (cancel requested)' AND j.attempts <> 1))`); got != 0 {
		t.Errorf("%d JOB_CANCEL audit rows disagree with their job's end state", got)
	}
	if got := p.count(`SELECT COUNT(*) FROM "AuditLog" l WHERE l.action = 'JOB_CANCEL' AND NOT EXISTS (SELECT 1 FROM "Job" j WHERE j.id = l."resourceId")`); got != 0 {
		t.Errorf("%d JOB_CANCEL audit rows name no job", got)
	}
	t.Logf("%d jobs (%v); %d rounds of cancel (%d IDs named, %d refused as finished meanwhile) and cancel --status running in %v",
		n, counts, done.Load(), namedCancels.Load(), refusedTotal.Load(), storm.Round(time.Millisecond))
}
