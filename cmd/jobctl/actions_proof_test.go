//go:build unix

package main_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
	"github.com/jobctl/jobctl/internal/store/postgres"
	"github.com/jobctl/jobctl/internal/store/sqlite"
)

// Process-level proofs of the bulk operator actions (archive, purge,
// retry): the built binary against a real store, killed with -9 mid-run,
// racing a live worker, and at six-figure sizes. The test process keeps a
// store connection of its own to seed jobs and to check the tables with
// plain SQL.

// proofDB is the test's own connection to a workerEnv's store: the store
// API, and database/sql over the same connection pool for raw SQL.
type proofDB struct {
	t       *testing.T
	backend string
	s       store.Store
	db      *sql.DB
	path    string // the SQLite file
}

func (e *workerEnv) openProofDB() *proofDB {
	e.t.Helper()
	getenv := func(k string) string {
		for _, kv := range e.env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}
	ctx := context.Background()
	p := &proofDB{t: e.t, backend: e.backend}
	switch e.backend {
	case "postgres":
		s, err := postgres.Open(ctx, getenv("JOBCTL_DATABASE_URL"), getenv("JOBCTL_SCHEMA"))
		if err != nil {
			e.t.Fatal(err)
		}
		p.s, p.db = s, stdlib.OpenDBFromPool(s.Pool())
	case "sqlite":
		s, err := sqlite.Open(ctx, strings.TrimPrefix(getenv("JOBCTL_DATABASE_URL"), "sqlite:"))
		if err != nil {
			e.t.Fatal(err)
		}
		p.s, p.db, p.path = s, s.DB(), s.Path()
	}
	e.t.Cleanup(func() {
		if e.backend == "postgres" {
			_ = p.db.Close()
		}
		_ = p.s.Close()
	})
	return p
}

// count runs a query returning one integer. On SQLite the helper process
// runs it (see seed); poll uses the test's own connection.
func (p *proofDB) count(query string, args ...any) int64 {
	p.t.Helper()
	return p.ints(query, args...)[0]
}

// ints runs a query returning one row of integers.
func (p *proofDB) ints(query string, args ...any) []int64 {
	p.t.Helper()
	var rows []string
	if p.backend == "postgres" {
		rows = p.pgQuery(query, args...)
	} else {
		rows = p.sqliteQuery(query, args...)
	}
	if len(rows) != 1 {
		p.t.Fatalf("%s: %d rows, want 1", query, len(rows))
	}
	var out []int64
	for _, c := range strings.Split(rows[0], "\t") {
		var n int64
		if _, err := fmt.Sscan(c, &n); err != nil {
			p.t.Fatalf("%s: %q is not a number", query, c)
		}
		out = append(out, n)
	}
	return out
}

// poll runs a query returning one integer on the test's own connection.
func (p *proofDB) poll(query string, args ...any) int64 {
	p.t.Helper()
	var n int64
	if err := p.db.QueryRow(query, args...).Scan(&n); err != nil {
		p.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// strings runs a query returning one text column.
func (p *proofDB) strings(query string, args ...any) []string {
	p.t.Helper()
	if p.backend == "sqlite" {
		return p.sqliteQuery(query, args...)
	}
	return p.pgQuery(query, args...)
}

// pgQuery runs a query on the test's Postgres connection and returns its
// rows as sqliteQuery does: columns split by tabs.
func (p *proofDB) pgQuery(query string, args ...any) []string {
	p.t.Helper()
	rows, err := p.db.Query(query, args...)
	if err != nil {
		p.t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		p.t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			p.t.Fatal(err)
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = v.String
		}
		out = append(out, strings.Join(cells, "\t"))
	}
	if err := rows.Err(); err != nil {
		p.t.Fatal(err)
	}
	return out
}

// dataText is the SQL for data's top-level text field name.
func (p *proofDB) dataText(name string) string {
	if p.backend == "postgres" {
		return "data->>'" + name + "'"
	}
	return "json_extract(data, '$." + name + "')"
}

// historyLen is the SQL for the length of a job's "errorHistory".
func (p *proofDB) historyLen() string {
	if p.backend == "postgres" {
		return `jsonb_array_length("errorHistory")`
	}
	return `json_array_length("errorHistory")`
}

// seed inserts n jobs of type typ in status st, created, started and
// finished at `at`, with data {"n": i, "seed": seed}, in one INSERT ...
// SELECT run by the database itself (generate_series on Postgres, a
// recursive CTE on SQLite). IDs are real job IDs (job_ + 26 Crockford
// characters): the time part of `at`, then tag (4 Crockford characters,
// unique per seed call: no i, l, o or u), then i in hex.
//
// On Postgres the statement goes through the test's own connection. On
// SQLite the database engine runs inside the client, and under -race
// modernc.org/sqlite is about 30 times slower (60,000 rows: 21s instead of
// 0.7s), so a small helper process built without -race runs it instead.
func (p *proofDB) seed(n int, tag, typ string, st store.Status, at time.Time, seed string) {
	p.t.Helper()
	if len(tag) != 4 || strings.ContainsAny(tag, "ilou") {
		p.t.Fatalf("seed tag %q: want 4 Crockford characters", tag)
	}
	prefix := store.NewID(at)[:4+10] + tag
	if p.backend == "postgres" {
		res, err := p.db.Exec(`INSERT INTO "Job" (id, type, status, data, attempts, "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt")
		SELECT $1 || lpad(to_hex(g), 12, '0'), $2, $3, jsonb_build_object('n', g, 'seed', $4::text), 1, $5, $5, $5, $5, $5
		FROM generate_series(1, $6::int) g`, prefix, typ, string(st), seed, at, n)
		if err != nil {
			p.t.Fatalf("seed %d %s %s jobs: %v", n, st, typ, err)
		}
		if got, _ := res.RowsAffected(); got != int64(n) {
			p.t.Fatalf("seed inserted %d jobs, want %d", got, n)
		}
		return
	}
	got := p.sqliteExec(`WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $6)
		INSERT INTO "Job" (id, type, status, data, attempts, "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt")
		SELECT $1 || printf('%012x', n), $2, $3, json_object('n', n, 'seed', $4), 1, $5, $5, $5, $5, $5 FROM g`,
		prefix, typ, string(st), seed, jobsql.FormatTime(at), n)
	if got != int64(n) {
		p.t.Fatalf("seed inserted %d jobs, want %d", got, n)
	}
}

// sqliteExecSource is the helper that runs SQLite statements without
// -race: a request {"db": PATH, "query": SQL, "args": [...], "rows": BOOL}
// on stdin; on stdout the rows affected or, with rows, the rows the query
// returns, one a line, columns split by tabs.
const sqliteExecSource = `package main

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"

	_ "modernc.org/sqlite"
)

func main() {
	var req struct {
		DB    string
		Query string
		Args  []any
		Rows  bool
	}
	dec := json.NewDecoder(os.Stdin)
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i, a := range req.Args {
		if n, ok := a.(json.Number); ok {
			v, err := n.Int64()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			req.Args[i] = v
		}
	}
	db, err := sql.Open("sqlite", "file:"+req.DB+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if !req.Rows {
		res, err := db.Exec(req.Query, req.Args...)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		n, _ := res.RowsAffected()
		fmt.Println(n)
		return
	}
	rows, err := db.Query(req.Query, req.Args...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cols, _ := rows.Columns()
	w := bufio.NewWriter(os.Stdout)
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for i, v := range vals {
			if i > 0 {
				w.WriteByte('\t')
			}
			w.WriteString(v.String)
		}
		w.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w.Flush()
}
`

var (
	sqliteExecOnce sync.Once
	sqliteExecBin  string
	sqliteExecErr  error
)

// sqliteExec runs one statement on the store's file in the helper process
// and returns the rows it affected.
func (p *proofDB) sqliteExec(query string, args ...any) int64 {
	p.t.Helper()
	out := p.sqliteHelper(false, query, args)
	var n int64
	if _, err := fmt.Sscan(out, &n); err != nil {
		p.t.Fatalf("sqliteexec printed %q", out)
	}
	return n
}

// sqliteQuery runs a query on the store's file in the helper process and
// returns its rows, columns split by tabs.
func (p *proofDB) sqliteQuery(query string, args ...any) []string {
	p.t.Helper()
	out := strings.TrimSuffix(p.sqliteHelper(true, query, args), "\n")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func (p *proofDB) sqliteHelper(rows bool, query string, args []any) string {
	p.t.Helper()
	sqliteExecOnce.Do(func() {
		src := filepath.Join(binDir, "sqliteexec.go")
		sqliteExecBin = filepath.Join(binDir, "sqliteexec")
		if sqliteExecErr = os.WriteFile(src, []byte(sqliteExecSource), 0o644); sqliteExecErr != nil {
			return
		}
		// Built in the module (the test's directory), so it links the
		// modernc.org/sqlite that jobctl does; no -race.
		out, err := exec.Command("go", "build", "-o", sqliteExecBin, src).CombinedOutput()
		if err != nil {
			sqliteExecErr = fmt.Errorf("building the SQLite helper: %v\n%s", err, out)
		}
	})
	if sqliteExecErr != nil {
		p.t.Fatal(sqliteExecErr)
	}
	req, err := json.Marshal(map[string]any{"db": p.path, "query": query, "args": args, "rows": rows})
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(sqliteExecBin)
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		p.t.Fatalf("sqliteexec %.200s: %v\n%s", query, err, stderr.String())
	}
	return string(out)
}

// TestArchiveKilledMidRun: `jobctl archive --to FILE` killed with -9 part
// way through 60,000 jobs, then run again to the end. Every job ends in
// exactly one of "Job" and "JobArchive", with exactly one JOB_ARCHIVE audit
// row, and in the file at least once (twice only for the batch the kill
// cut).
func TestArchiveKilledMidRun(t *testing.T) {
	const (
		n     = 60000
		batch = 500
	)
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		p := e.openProofDB()
		t0 := time.Now()
		p.seed(n, "arch", "Report", store.StatusCompleted, time.Now().Add(-40*24*time.Hour), "old")
		t.Logf("%s: seeded %d COMPLETED jobs in %v", e.backend, n, time.Since(t0).Round(time.Millisecond))

		args := []string{"archive", "--older", "30d", "--batch-size", fmt.Sprint(batch), "--to", "archive.jsonl"}
		t0 = time.Now()
		first := e.start("archive-1", args...)
		// Kill it about a quarter of the way through, between two of the
		// file's batch writes: a kill while a batch is half on disk is
		// TestArchiveToKilledMidWrite's case.
		file := filepath.Join(e.dir, "archive.jsonl")
		var live, archived int64
		for deadline := time.Now().Add(30 * time.Second); ; {
			// Counting "Job" costs more than counting the archive: only
			// once the archive is far enough along.
			if archived = p.poll(`SELECT COUNT(*) FROM "JobArchive"`); archived >= n/4 {
				live = p.poll(`SELECT COUNT(*) FROM "Job"`)
				if live > 0 && live < n && endsWithNewline(t, file) {
					break
				}
			}
			if !first.running() {
				t.Fatalf("archive finished (%d archived) before it could be killed: make n bigger", archived)
			}
			if time.Now().After(deadline) {
				t.Fatalf("archive made no progress: %d archived", archived)
			}
			time.Sleep(5 * time.Millisecond)
		}
		first.signal(syscall.SIGKILL)
		if code := first.wait(10 * time.Second); code != -1 {
			t.Fatalf("archive exited %d after kill -9 (it had finished before the kill landed)", code)
		}

		// What the kill left: whole batches, each with its audit rows.
		partial := p.count(`SELECT COUNT(*) FROM "JobArchive"`)
		live = p.count(`SELECT COUNT(*) FROM "Job"`)
		audit := p.count(`SELECT COUNT(*) FROM "AuditLog" WHERE action = 'JOB_ARCHIVE'`)
		fileLines := int64(len(e.lines("archive.jsonl")))
		t.Logf("%s: killed after %v with %d of %d archived (%d live), file %d lines", e.backend,
			time.Since(t0).Round(time.Millisecond), partial, n, live, fileLines)
		if partial <= 0 || partial >= n {
			t.Fatalf("the kill did not land mid-run: %d of %d archived", partial, n)
		}
		if live+partial != n {
			t.Errorf("after the kill: %d live + %d archived = %d, want %d", live, partial, live+partial, n)
		}
		if partial%batch != 0 {
			t.Errorf("after the kill: %d archived is not a whole number of %d-job batches", partial, batch)
		}
		if audit != partial {
			t.Errorf("after the kill: %d JOB_ARCHIVE audit rows for %d archived jobs", audit, partial)
		}
		// Each batch reaches the file before it commits: the file holds
		// the committed batches, and perhaps the one the kill cut.
		if fileLines != partial && fileLines != partial+batch {
			t.Errorf("after the kill: archive.jsonl has %d lines for %d archived jobs, want %d or %d", fileLines, partial, partial, partial+batch)
		}

		t0 = time.Now()
		r := e.run("", args...)
		t.Logf("%s: rerun archived the other %d in %v", e.backend, n-partial, time.Since(t0).Round(time.Millisecond))
		// The summary is on stderr; stdout carries only data.
		if want := fmt.Sprintf("Archived %s jobs to archive.jsonl\n", commas(n-partial)); r.code != 0 || r.stderr != want || r.stdout != "" {
			t.Errorf("rerun: exit %d, stdout %q, stderr %q, want stderr %q", r.code, r.stdout, r.stderr, want)
		}

		live = p.count(`SELECT COUNT(*) FROM "Job"`)
		archived = p.count(`SELECT COUNT(*) FROM "JobArchive"`)
		if live+archived != n || archived != n {
			t.Errorf("after the rerun: %d live + %d archived, want 0 + %d", live, archived, n)
		}
		if both := p.count(`SELECT COUNT(*) FROM "Job" j JOIN "JobArchive" a ON a.id = j.id`); both != 0 {
			t.Errorf("%d jobs are in both \"Job\" and \"JobArchive\"", both)
		}
		c := p.ints(`SELECT COUNT(*), COUNT(DISTINCT "resourceId") FROM "AuditLog" WHERE action = 'JOB_ARCHIVE'`)
		if rows, distinct := c[0], c[1]; rows != n || distinct != n {
			t.Errorf("JOB_ARCHIVE audit: %d rows for %d distinct jobs, want %d and %d", rows, distinct, n, n)
		}
		if stray := p.count(`SELECT COUNT(*) FROM "AuditLog" l WHERE action = 'JOB_ARCHIVE'
			AND NOT EXISTS (SELECT 1 FROM "JobArchive" a WHERE a.id = l."resourceId")`); stray != 0 {
			t.Errorf("%d JOB_ARCHIVE audit rows name a job not in the archive", stray)
		}

		// The file: every archived job at least once; only the cut batch
		// may repeat.
		ids, lines, bad := readArchiveFile(t, file)
		for _, b := range bad {
			t.Errorf("archive.jsonl: unparsable line (a batch cut mid-write, then appended to?): %.200s", b)
		}
		inArchive := p.strings(`SELECT id FROM "JobArchive"`)
		missing := 0
		for _, id := range inArchive {
			if ids[id] == 0 {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%d archived jobs are not in archive.jsonl", missing)
		}
		if len(ids) != n {
			t.Errorf("archive.jsonl names %d distinct jobs, want %d", len(ids), n)
		}
		if lines < n || lines > n+batch {
			t.Errorf("archive.jsonl has %d lines, want %d to %d (one cut batch may repeat)", lines, n, n+batch)
		}
		t.Logf("%s: rerun done; archive.jsonl has %d lines for %d jobs (%d repeated from the cut batch)", e.backend, lines, len(ids), lines-len(ids))
	})
}

// endsWithNewline reports whether the file is empty or ends with a whole
// line.
func endsWithNewline(t *testing.T, path string) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return os.IsNotExist(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() == 0 {
		return true
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, fi.Size()-1); err != nil {
		t.Fatal(err)
	}
	return b[0] == '\n'
}

// TestArchiveToKilledMidWrite: archive --to killed with -9 while a batch
// is half written to the file (a batch bigger than archive's 256 KiB buffer
// reaches the file in several writes), then run again. The file should
// still be JSONL, one whole job a line: the rerun cuts off the torn batch
// before appending.
func TestArchiveToKilledMidWrite(t *testing.T) {
	const n = 20000
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		p := e.openProofDB()
		p.seed(n, "c7t0", "Report", store.StatusCompleted, time.Now().Add(-40*24*time.Hour), "old")
		file := filepath.Join(e.dir, "archive.jsonl")
		args := []string{"archive", "--older", "30d", "--batch-size", "5000", "--to", "archive.jsonl"}
		first := e.start("archive-1", args...)
		for endsWithNewline(t, file) {
			if !first.running() {
				t.Fatal("archive finished before its file was ever cut mid-line")
			}
		}
		first.signal(syscall.SIGKILL)
		first.wait(10 * time.Second)
		if endsWithNewline(t, file) {
			t.Skip("the kill landed after the batch's last write; run again")
		}
		e.mustRun("", args...)

		ids, _, bad := readArchiveFile(t, file)
		for _, b := range bad {
			t.Errorf("archive.jsonl: a line holding more than one job, or part of one: %.120s … %.120s", b, b[max(0, len(b)-120):])
		}
		if archived := p.count(`SELECT COUNT(*) FROM "JobArchive"`); archived != n || int64(len(ids)) != n {
			t.Errorf("%d jobs archived, %d in whole lines of archive.jsonl; want %d and %d", archived, len(ids), n, n)
		}
	})
}

// readArchiveFile reads archive --to's JSONL: how often each ID appears,
// the number of lines, and any line that is not one whole job (a line cut
// mid-write and then appended to holds the start of two).
func readArchiveFile(t *testing.T, path string) (ids map[string]int, lines int, bad []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids = map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	const start = `{"id":"job_`
	for sc.Scan() {
		lines++
		l := sc.Text()
		// Decoding 60,000 jobs under -race takes seconds; the shape of
		// 'list -o jsonl' is enough to find the ID and a cut line.
		if !strings.HasPrefix(l, start) || !strings.HasSuffix(l, "}") || strings.Count(l, start) != 1 || len(l) < len(start)+26 {
			bad = append(bad, l)
			continue
		}
		ids[l[len(`{"id":"`):len(start)+26]]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ids, lines, bad
}

// commas formats n as the CLI's summaries do: 59,500.
func commas(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// TestBulkActionsBesideWorker: archive and purge work through 200,000 old
// jobs (20,000 on SQLite, whose single writer serialises everything) while
// a worker claims and finishes a steady stream of fresh jobs. No fresh job
// is archived, deleted or disturbed: each ends COMPLETED after exactly one
// attempt. Logs the worker's claim latency before and during the bulk
// actions.
//
// Not parallel: it measures latency, and on SQLite and Postgres in turn.
func TestBulkActionsBesideWorker(t *testing.T) {
	for _, c := range []struct {
		backend string
		old     int
	}{{"sqlite", 20000}, {"postgres", 200000}} {
		t.Run(c.backend, func(t *testing.T) {
			bulkBesideWorker(t, newWorkerEnv(t, c.backend), c.old)
		})
	}
}

func bulkBesideWorker(t *testing.T, e *workerEnv, old int) {
	p := e.openProofDB()
	long := time.Now().Add(-40 * 24 * time.Hour)
	t0 := time.Now()
	p.seed(old/2, "cmpd", "Report", store.StatusCompleted, long, "old")
	p.seed(old/2, "dead", "Report", store.StatusDead, long, "old")
	t.Logf("%s: seeded %d old jobs in %v", e.backend, old, time.Since(t0).Round(time.Millisecond))

	cfg := e.writeConfig("worker.yaml", "jobs:\n  Sleep:\n    handler: {builtin: sleep}\n")
	w := e.start("worker", "worker", "run", "--config", cfg, "--concurrency", "8",
		"--poll-interval", "100ms", "--log-level", "debug")

	// Fresh jobs, about 200 a second, through the store API.
	var (
		enqueued atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		enqErr   error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			ps := make([]*store.EnqueueParams, 10)
			for k := range ps {
				i++
				ps[k] = &store.EnqueueParams{Type: "Sleep", Data: json.RawMessage(fmt.Sprintf(`{"ms":50,"fresh":"yes","n":%d}`, i))}
			}
			if _, err := p.s.EnqueueMany(context.Background(), ps, nil); err != nil {
				enqErr = err
				return
			}
			enqueued.Add(int64(len(ps)))
		}
	}()
	stopEnqueue := func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}
	t.Cleanup(stopEnqueue)

	// A second of the worker alone, for a baseline.
	freshDone := func() int64 {
		return p.count(`SELECT COUNT(*) FROM "Job" WHERE status = 'COMPLETED' AND ` + p.dataText("fresh") + ` = 'yes'`)
	}
	for deadline := time.Now().Add(15 * time.Second); freshDone() < 50; {
		if time.Now().After(deadline) || !w.running() {
			t.Fatalf("the worker completed no fresh jobs\nstderr:\n%s", lastChars(w.stderr.String(), 2000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second)

	// The bulk actions, side by side.
	t0 = time.Now()
	arch := e.start("archive", "archive", "--older", "30d")
	purge := e.start("purge", "purge", "--older", "30d", "--status", "dead", "--yes")
	var took [2]time.Duration
	for i, c := range []*workerProc{arch, purge} {
		if code := c.wait(120 * time.Second); code != 0 {
			t.Fatalf("%s exited %d\nstdout: %s\nstderr: %s", c.name, code, c.stdout.String(), c.stderr.String())
		}
		took[i] = c.exited.Sub(t0)
	}
	t1 := time.Now()
	t.Logf("%s: archive: %s in %v; purge: %s in %v", e.backend,
		strings.TrimSpace(arch.stderr.String()), took[0].Round(time.Millisecond),
		strings.TrimSpace(purge.stderr.String()), took[1].Round(time.Millisecond))

	// Stop the stream, stop the worker, finish the backlog.
	stopEnqueue()
	if enqErr != nil {
		t.Fatalf("enqueueing fresh jobs: %v", enqErr)
	}
	w.signal(syscall.SIGTERM)
	if code := w.wait(30 * time.Second); code != 0 {
		t.Fatalf("worker exited %d after SIGTERM, want 0", code)
	}
	drain := e.start("drain", "worker", "run", "--config", cfg, "--drain", "--concurrency", "32",
		"--poll-interval", "100ms", "--log-level", "warn")
	if code := drain.wait(60 * time.Second); code != 0 {
		t.Fatalf("drain worker exited %d\nstderr:\n%s", code, lastChars(drain.stderr.String(), 2000))
	}
	for _, l := range strings.Split(w.stderr.String(), "\n") {
		if strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") {
			t.Errorf("worker: %s", l)
		}
	}

	// Every fresh job: COMPLETED, once, never lost, never archived or
	// deleted.
	n := enqueued.Load()
	fresh := p.dataText("fresh") + ` = 'yes'`
	if got := p.count(`SELECT COUNT(*) FROM "Job" WHERE ` + fresh); got != n {
		t.Errorf("%d fresh jobs in \"Job\", want all %d enqueued", got, n)
	}
	if got := p.count(`SELECT COUNT(*) FROM "Job" WHERE ` + fresh + ` AND status = 'COMPLETED' AND attempts = 1`); got != n {
		t.Errorf("%d of %d fresh jobs COMPLETED after exactly one attempt", got, n)
		for _, l := range p.strings(`SELECT id || ' ' || status || ' attempts=' || attempts || ' ' || "errorHistory" FROM "Job" WHERE ` +
			fresh + ` AND NOT (status = 'COMPLETED' AND attempts = 1) LIMIT 10`) {
			t.Log("  ", l)
		}
	}
	if got := p.count(`SELECT COUNT(*) FROM "Job" WHERE ` + fresh + ` AND ` + p.historyLen() + ` > 0`); got != 0 {
		t.Errorf("%d fresh jobs have a failed attempt (WORKER_LOST?) in errorHistory", got)
	}
	if got := p.count(`SELECT COUNT(*) FROM "JobArchive" WHERE ` + fresh); got != 0 {
		t.Errorf("%d fresh jobs were archived", got)
	}
	if got := p.count(`SELECT COUNT(*) FROM "AuditLog" l WHERE action IN ('JOB_ARCHIVE', 'JOB_PURGE')
		AND EXISTS (SELECT 1 FROM "Job" j WHERE j.id = l."resourceId")`); got != 0 {
		t.Errorf("%d archive or purge audit rows name a job still in \"Job\"", got)
	}

	// Every old job: archived or purged, once, with its audit row.
	if got := p.count(`SELECT COUNT(*) FROM "Job" WHERE ` + p.dataText("seed") + ` = 'old'`); got != 0 {
		t.Errorf("%d old jobs are still in \"Job\"", got)
	}
	archived := p.count(`SELECT COUNT(*) FROM "JobArchive" WHERE ` + p.dataText("seed") + ` = 'old'`)
	archivedAll := p.count(`SELECT COUNT(*) FROM "JobArchive"`)
	archivedCompleted := p.count(`SELECT COUNT(*) FROM "JobArchive" WHERE status = 'COMPLETED'`)
	auditArchive := p.count(`SELECT COUNT(DISTINCT "resourceId") FROM "AuditLog" WHERE action = 'JOB_ARCHIVE'`)
	auditArchiveRows := p.count(`SELECT COUNT(*) FROM "AuditLog" WHERE action = 'JOB_ARCHIVE'`)
	auditPurge := p.count(`SELECT COUNT(DISTINCT "resourceId") FROM "AuditLog" WHERE action = 'JOB_PURGE'`)
	auditPurgeRows := p.count(`SELECT COUNT(*) FROM "AuditLog" WHERE action = 'JOB_PURGE'`)
	if archivedAll != archived || archivedCompleted != int64(old/2) {
		t.Errorf("archive holds %d jobs (%d old, %d COMPLETED), want only old ones and all %d COMPLETED", archivedAll, archived, archivedCompleted, old/2)
	}
	if archived+auditPurge != int64(old) {
		t.Errorf("%d archived + %d purged = %d, want all %d old jobs", archived, auditPurge, archived+auditPurge, old)
	}
	if auditArchive != archived || auditArchiveRows != archived || auditPurgeRows != auditPurge {
		t.Errorf("audit: %d JOB_ARCHIVE rows (%d jobs) for %d archived; %d JOB_PURGE rows (%d jobs)",
			auditArchiveRows, auditArchive, archived, auditPurgeRows, auditPurge)
	}
	t.Logf("%s: %d fresh jobs all COMPLETED once; %d old jobs: %d archived (%d of them DEAD, taken before purge reached them), %d purged",
		e.backend, n, old, archived, archived-archivedCompleted, auditPurge)

	// The worker's claim latency, before and during the bulk actions.
	log := w.stderr.String()
	t.Logf("%s: claim latency, worker alone:     %s", e.backend, claimLatency(log, time.Time{}, t0))
	t.Logf("%s: claim latency, during bulk ops:  %s", e.backend, claimLatency(log, t0, t1))
}

var claimedRE = regexp.MustCompile(`(?m)^time=(\S+) .*msg=claimed .*\btook=(\S+)`)

// claimLatency summarises the worker's "claimed" debug lines logged in
// [from, to): how long each claim took (took=), and the longest time
// between two claims around that window (a stall outside the claim query,
// such as waiting for the store's lock to record completions, shows
// there).
func claimLatency(log string, from, to time.Time) string {
	var (
		ds       []time.Duration
		prev     time.Time
		worstGap time.Duration
	)
	for _, m := range claimedRE.FindAllStringSubmatch(log, -1) {
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			continue
		}
		// A gap counts if it overlaps the window; for the baseline (from
		// zero), only if it ended before the window's end.
		overlaps := at.After(from) && prev.Before(to) && (!from.IsZero() || at.Before(to))
		if !prev.IsZero() && overlaps && at.Sub(prev) > worstGap {
			worstGap = at.Sub(prev)
		}
		prev = at
		if d, err := time.ParseDuration(m[2]); err == nil && !at.Before(from) && at.Before(to) {
			ds = append(ds, d)
		}
	}
	gap := fmt.Sprintf("longest gap between claims %v", worstGap.Round(time.Millisecond))
	if len(ds) == 0 {
		return "no claims; " + gap
	}
	slices.Sort(ds)
	pct := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	return fmt.Sprintf("%d claims, took p50 %v, p99 %v, max %v; %s",
		len(ds), r(pct(0.50)), r(pct(0.99)), r(ds[len(ds)-1]), gap)
}

// TestRetry100k: `jobctl retry --type CalendarSync --status failed` over
// 100,000 FAILED CalendarSync jobs among 20,000 others, without a terminal
// (so without a question). Every one is PENDING after, with its JOB_RETRY
// audit row; the others are untouched. Logs the wall time. Postgres only.
func TestRetry100k(t *testing.T) {
	const n = 100000
	e := newWorkerEnv(t, "postgres")
	p := e.openProofDB()
	at := time.Now().Add(-2 * time.Hour).Truncate(time.Millisecond)
	t0 := time.Now()
	p.seed(n, "ca5f", "CalendarSync", store.StatusFailed, at, "target")
	// The others: the same type in other statuses, another type FAILED.
	p.seed(5000, "ca5d", "CalendarSync", store.StatusDead, at, "other-DEAD")
	p.seed(5000, "ca5c", "CalendarSync", store.StatusCompleted, at, "other-COMPLETED")
	p.seed(10000, "em5f", "EmailSending", store.StatusFailed, at, "other-FAILED")
	t.Logf("seeded %d + 20,000 jobs in %v", n, time.Since(t0).Round(time.Millisecond))

	t0 = time.Now()
	r := e.run("", "retry", "--type", "CalendarSync", "--status", "failed")
	wall := time.Since(t0)
	t.Logf("retry of %d FAILED CalendarSync jobs: %v wall, %.0f jobs/s (%q)", n, wall.Round(time.Millisecond),
		float64(n)/wall.Seconds(), strings.TrimSpace(r.stderr))
	if want := "Retried 100,000 jobs\n"; r.code != 0 || r.stderr != want || r.stdout != "" {
		t.Errorf("retry: exit %d, stdout %q, stderr %q, want stderr %q", r.code, r.stdout, r.stderr, want)
	}

	if got := p.count(`SELECT COUNT(*) FROM "Job" WHERE type = 'CalendarSync' AND status = 'FAILED'`); got != 0 {
		t.Errorf("%d CalendarSync jobs still FAILED", got)
	}
	if got := p.count(`SELECT COUNT(*) FROM "Job" WHERE data->>'seed' = 'target' AND status = 'PENDING'
		AND "completedAt" IS NULL AND "scheduledFor" > $1`, at); got != n {
		t.Errorf("%d of %d retried jobs PENDING, due again, without completedAt", got, n)
	}
	if got := p.count(`SELECT COUNT(*) FROM "Job" WHERE data->>'seed' = 'other-' || status
		AND "updatedAt" = $1 AND attempts = 1 AND "completedAt" = $1`, at); got != 20000 {
		t.Errorf("%d of the 20,000 other jobs untouched", got)
	}
	c := p.ints(`SELECT COUNT(*), COUNT(DISTINCT "resourceId") FROM "AuditLog" WHERE action = 'JOB_RETRY'`)
	if rows, distinct := c[0], c[1]; rows != n || distinct != n {
		t.Errorf("JOB_RETRY audit: %d rows for %d distinct jobs, want %d", rows, distinct, n)
	}
	if got := p.count(`SELECT COUNT(*) FROM "AuditLog" l JOIN "Job" j ON j.id = l."resourceId"
		WHERE l.action = 'JOB_RETRY' AND j.data->>'seed' = 'target'`); got != n {
		t.Errorf("%d JOB_RETRY audit rows name a retried job, want %d", got, n)
	}
}

// TestRetryInterrupted: Ctrl-C (SIGINT) in the middle of a bulk retry.
// The process starts no batch after it, lets the ones under way commit (on
// Postgres two run at once), exits 1 saying it was interrupted, and its
// summary counts exactly the jobs that are PENDING now, each with one
// audit row: whole batches, the rest FAILED and untouched.
func TestRetryInterrupted(t *testing.T) {
	const (
		n     = 30000
		batch = 200
	)
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		p := e.openProofDB()
		p.seed(n, "ctrc", "Report", store.StatusFailed, time.Now().Add(-time.Hour), "cut")
		r := e.start("retry", "retry", "--type", "Report", "--status", "failed", "--batch-size", fmt.Sprint(batch))
		for deadline := time.Now().Add(30 * time.Second); p.poll(`SELECT COUNT(*) FROM "AuditLog" WHERE action = 'JOB_RETRY'`) < 5*batch; {
			if !r.running() {
				t.Fatalf("retry finished before it could be interrupted: make n bigger\nstderr: %s", r.stderr.String())
			}
			if time.Now().After(deadline) {
				t.Fatal("retry made no progress")
			}
			time.Sleep(5 * time.Millisecond)
		}
		r.signal(syscall.SIGINT)
		if code := r.wait(15 * time.Second); code != 1 {
			t.Fatalf("retry exited %d after SIGINT, want 1\nstderr: %s", code, r.stderr.String())
		}
		stderr := r.stderr.String()
		m := regexp.MustCompile(`Retried ([0-9,]+) jobs`).FindStringSubmatch(stderr)
		if m == nil || !strings.Contains(stderr, "interrupted") {
			t.Fatalf("stderr %q; want the summary and that it was interrupted", stderr)
		}
		var said int64
		fmt.Sscan(strings.ReplaceAll(m[1], ",", ""), &said)
		pending := p.count(`SELECT COUNT(*) FROM "Job" WHERE type = 'Report' AND status = 'PENDING'`)
		failed := p.count(`SELECT COUNT(*) FROM "Job" WHERE type = 'Report' AND status = 'FAILED'`)
		audit := p.count(`SELECT COUNT(*) FROM "AuditLog" WHERE action = 'JOB_RETRY'`)
		t.Logf("%s: interrupted with %d of %d retried", e.backend, pending, n)
		if said != pending || audit != pending {
			t.Errorf("the summary says %d retried; %d are PENDING with %d audit rows", said, pending, audit)
		}
		if pending <= 0 || pending >= n || pending%batch != 0 || pending+failed != n {
			t.Errorf("%d PENDING and %d FAILED of %d: want whole batches of %d retried, the rest untouched", pending, failed, n, batch)
		}
	})
}
