package main_test

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/rogpeppe/go-internal/testscript"
	_ "modernc.org/sqlite"

	"github.com/jobctl/jobctl/internal/testutil/pgtest"
)

// binDir holds the jobctl binary TestMain builds; the scripts find it on
// PATH and run it as a user would.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "jobctl-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "jobctl")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	// go test puts its own GOROOT/bin first on PATH, so this is the go
	// command running the tests.
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building jobctl: %v\n", err)
		return 1
	}
	binDir = dir
	return m.Run()
}

// TestScripts runs every script in testdata/script twice: against a fresh
// SQLite file and against a fresh Postgres schema, each made by `jobctl
// migrate` (reads never create a store).
func TestScripts(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testscript.Run(t, params("sqlite", func(env *testscript.Env) error {
			env.Setenv("JOBCTL_DATABASE_URL", "sqlite:"+filepath.Join(env.WorkDir, "jobs.db"))
			return migrateStore(env)
		}))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		pgtest.URL(t) // skips here, or fails under CI, when there is no database
		testscript.Run(t, params("postgres", setupPostgres))
	})
}

func params(backend string, setup func(*testscript.Env) error) testscript.Params {
	return testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+env.Getenv("PATH"))
			// The default store ($XDG_DATA_HOME/jobctl/jobs.db) must never be
			// the real user's.
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("XDG_DATA_HOME", filepath.Join(env.WorkDir, ".local", "share"))
			env.Setenv("BACKEND", backend)
			return setup(env)
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "sqlite", "postgres":
				return cond == backend, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"exits":   cmdExits,
			"sql":     cmdSQL,
			"capture": cmdCapture,
			"jsonl":   cmdJSONL,
		},
	}
}

// setupPostgres gives the script two schemas of its own: JOBCTL_SCHEMA,
// migrated with `jobctl migrate`, and UNMIGRATED_SCHEMA, empty; and
// KEYWORD_DSN, the same database as libpq keyword/value pairs.
func setupPostgres(env *testscript.Env) error {
	// testscript.Run's T is a testing.TB, so the schemas are dropped when
	// the script's own subtest ends.
	tb, ok := env.T().(testing.TB)
	if !ok {
		return errors.New("testscript.T is not a testing.TB")
	}
	dsn, schema := pgtest.Schema(tb)
	_, empty := pgtest.Schema(tb)
	env.Setenv("JOBCTL_DATABASE_URL", dsn)
	env.Setenv("JOBCTL_SCHEMA", schema)
	env.Setenv("UNMIGRATED_SCHEMA", empty)
	kv, err := keywordDSN(dsn)
	if err != nil {
		return err
	}
	env.Setenv("KEYWORD_DSN", kv)
	return migrateStore(env)
}

// keywordDSN is a postgres:// URL as libpq keyword/value pairs.
func keywordDSN(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	quote := func(s string) string { return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'" }
	pairs := []string{"host=" + quote(u.Hostname())}
	if p := u.Port(); p != "" {
		pairs = append(pairs, "port="+p)
	}
	if u.User != nil {
		pairs = append(pairs, "user="+quote(u.User.Username()))
		if pw, ok := u.User.Password(); ok {
			pairs = append(pairs, "password="+quote(pw))
		}
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		pairs = append(pairs, "dbname="+quote(db))
	}
	for k, vs := range u.Query() {
		for _, v := range vs {
			pairs = append(pairs, k+"="+quote(v))
		}
	}
	return strings.Join(pairs, " "), nil
}

// migrateStore makes the script's store with `jobctl migrate`.
func migrateStore(env *testscript.Env) error {
	migrate := exec.Command(filepath.Join(binDir, "jobctl"), "migrate")
	migrate.Env = env.Vars
	if out, err := migrate.CombinedOutput(); err != nil {
		return fmt.Errorf("jobctl migrate: %v\n%s", err, out)
	}
	return nil
}

// cmdExits runs a command and checks its exit code:
//
//	exits CODE command [args...]
//
// A failing command must explain itself in exactly one line on stderr.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exits")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exits CODE command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad CODE %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
	if want == 0 {
		return
	}
	stderr := ts.ReadFile("stderr")
	if !strings.HasSuffix(stderr, "\n") || strings.TrimSpace(stderr) == "" {
		ts.Fatalf("stderr is not exactly one line: %q", stderr)
	}
	// A usage error may add cobra's suggestion or a pointer at --help, each
	// on lines of its own; nothing else.
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	for _, l := range lines[1:] {
		if want != 2 || !usageHint.MatchString(l) {
			ts.Fatalf("stderr is not exactly one line: %q", stderr)
		}
	}
}

// usageHint is a line a usage error may print after its message.
var usageHint = regexp.MustCompile(`^(Did you mean this\?|\t[a-z-]+|See 'jobctl( [a-z-]+)* --help'\.)$`)

// cmdSQL runs one statement against the script's store, the one
// JOBCTL_DATABASE_URL (and JOBCTL_SCHEMA) name:
//
//	sql 'STATEMENT' [bind args...]
//	sql @FILE [bind args...]
//
// Args bind to $1, $2…. A SELECT prints its rows, columns split by tabs and
// NULL as NULL; any other statement prints "affected N".
func cmdSQL(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: sql 'STATEMENT'|@FILE [args...]")
	}
	query := args[0]
	if name, ok := strings.CutPrefix(query, "@"); ok {
		query = ts.ReadFile(name)
	}
	binds := make([]any, len(args)-1)
	for i, a := range args[1:] {
		binds[i] = a
	}
	db := openStoreDB(ts)
	defer db.Close()
	err := runSQL(ts, db, query, binds)
	switch {
	case neg && err == nil:
		ts.Fatalf("sql succeeded unexpectedly")
	case !neg && err != nil:
		ts.Fatalf("sql: %v", err)
	}
}

func runSQL(ts *testscript.TestScript, db *sql.DB, query string, binds []any) error {
	verb, _, _ := strings.Cut(strings.TrimSpace(query), " ")
	switch strings.ToUpper(verb) {
	case "SELECT", "WITH":
	default:
		res, err := db.Exec(query, binds...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		fmt.Fprintf(ts.Stdout(), "affected %d\n", n)
		return nil
	}
	rows, err := db.Query(query, binds...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				cells[i] = "NULL"
			case []byte:
				cells[i] = string(x)
			case time.Time:
				cells[i] = x.UTC().Format(time.RFC3339Nano)
			default:
				cells[i] = fmt.Sprint(x)
			}
		}
		fmt.Fprintln(ts.Stdout(), strings.Join(cells, "\t"))
	}
	return rows.Err()
}

// openStoreDB opens the script's store with database/sql: pgx on Postgres
// (search_path set to JOBCTL_SCHEMA), modernc.org/sqlite otherwise.
func openStoreDB(ts *testscript.TestScript) *sql.DB {
	dsn := ts.Getenv("JOBCTL_DATABASE_URL")
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		cfg, err := pgx.ParseConfig(dsn)
		ts.Check(err)
		if schema := ts.Getenv("JOBCTL_SCHEMA"); schema != "" {
			cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
		}
		return stdlib.OpenDB(*cfg)
	}
	path, ok := strings.CutPrefix(dsn, "sqlite:")
	if !ok {
		ts.Fatalf("sql: JOBCTL_DATABASE_URL %q is neither postgres:// nor sqlite:", dsn)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	ts.Check(err)
	return db
}

// cmdCapture sets an environment variable from the last command's stdout:
//
//	capture NAME        # all of stdout, which must be one line
//	capture NAME LINE   # line LINE (1 is the first, -1 the last)
func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: capture NAME [LINE]")
	}
	lines := strings.Split(strings.TrimSuffix(ts.ReadFile("stdout"), "\n"), "\n")
	n := 1
	if len(args) == 2 {
		var err error
		if n, err = strconv.Atoi(args[1]); err != nil || n == 0 {
			ts.Fatalf("capture: bad LINE %q", args[1])
		}
		if n < 0 {
			n += len(lines) + 1
		}
	} else if len(lines) != 1 {
		ts.Fatalf("capture: stdout has %d lines, want 1", len(lines))
	}
	if n < 1 || n > len(lines) || lines[n-1] == "" {
		ts.Fatalf("capture: stdout has no line %s", args[len(args)-1])
	}
	ts.Setenv(args[0], lines[n-1])
}

// cmdJSONL writes N lines of `enqueue --from` input:
//
//	jsonl N FILE [TYPE]
//
// Each line is {"type":TYPE,"data":{"n":I}}; without TYPE, the line has no
// type and takes enqueue's.
func cmdJSONL(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: jsonl N FILE [TYPE]")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("jsonl: bad N %q", args[0])
	}
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if len(args) == 3 {
			fmt.Fprintf(&b, `{"type":%q,"data":{"n":%d}}`+"\n", args[2], i)
		} else {
			fmt.Fprintf(&b, `{"data":{"n":%d}}`+"\n", i)
		}
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(b.String()), 0o644))
}
