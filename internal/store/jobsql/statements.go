package jobsql

import (
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Named statements. Every statement lives in sql/<area>.sql as a block
//
//	-- name: SessionTouch
//	-- What it does; $1 the session id, $2 …
//	UPDATE "Session" SET … WHERE "idHash" = $2;
//
// written in Postgres's spelling with numbered parameters, so it can be
// pasted into psql and EXPLAINed as it stands. Go code binds each name once,
// at package initialisation, through stmt, and the files are read when the
// first statement runs: a name missing from the files, a duplicate, a
// malformed block, or a statement in the files that no Go code binds panics
// then, and in the package's tests, so neither a typo nor a dead statement
// survives `go test`.
//
// SQLite runs the same text, but for two differences:
//
//  1. A statement SQLite spells otherwise has a block of the same name in
//     sql/sqlite/<area>.sql, which replaces the Postgres text. These
//     override files hold only such statements (a JSON cast, an array
//     column, a row lock SQLite has no use for). A block with nothing but
//     comments means SQLite does not run the statement at all (a lock
//     taken ahead of a change: SQLite has one writer at a time and no row
//     locks); Dialect.Runs says so to the Go code.
//  2. In either text, sqliteRewrites turn four spellings into SQLite's.
//     now() becomes the text form SQLite stores times in: a Go now()
//     registered on SQLite connections would read the clock once per call,
//     where SQLite's 'now' is one value for a whole statement, so two
//     columns set to now() by one UPDATE would no longer agree.
//
// A statement the Go code must complete at run time (a user's filter, an
// IN list of any length, a choice of sort order) marks each place with a
// slot, /*:name*/, and the one Go function that builds that slot's text is
// named in the statement's comment. A slot's parameters are numbered after
// the statement's own, which come first. A multi-row INSERT is spelled as
// its one-row statement, and manyRows repeats its VALUES tuple.
//
// `go test ./internal/store/jobsql -run PrintStatements -v -print-sql`
// prints every statement as each engine runs it.
//
// Lock order. An UPDATE or DELETE locks its rows in whatever order its plan
// visits them (index order, heap order, the order of an array), so two
// statements changing overlapping sets of rows can each hold a row the
// other waits for: a deadlock, and Postgres kills one of them. Every
// statement or transaction that changes several "Job" rows therefore first
// locks them with SELECT ... ORDER BY id FOR UPDATE, the one order all of
// them share (in a subquery of the statement itself, or as a statement of
// its own when a transaction changes different sets of rows: a
// completion, then the jobs waiting on it), and changes only rows it
// holds. Claims lock nothing they must wait for (SKIP LOCKED). SQLite has
// one writer at a time and takes no row locks: its texts lock nothing.

//go:embed sql
var sqlFiles embed.FS

// Engine is a backend's SQL spelling.
type Engine int

// The engines whose text a Stmt holds.
const (
	Postgres Engine = iota
	SQLite
	engines
)

// Stmt is one named statement.
type Stmt struct {
	Name  string
	File  string
	text  [engines]string
	slots []string // as they appear; a slot may appear twice
	named int      // how many different slots: a Fill's size
}

// slotsOf are the slots of text, in order of appearance.
func slotsOf(text string) []string {
	var slots []string
	for _, m := range slotMark.FindAllStringSubmatch(text, -1) {
		slots = append(slots, m[1])
	}
	return slots
}

// sqliteRewrites are the spellings SQLite has for the same thing.
var sqliteRewrites = strings.NewReplacer(
	// The time, in the text form SQLite stores it in (TimeLayout).
	"now()", `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
	// No arrays: idArray fills the slot with a parameter per id.
	"= ANY(/*:idArray*/)", "IN (/*:idArray*/)",
	"jsonb_build_object(", "json_object(",
	// Two objects' keys in one; their keys never overlap here.
	"jsonb_concat(", "json_patch(",
	// The larger of its arguments, as GREATEST for the NOT NULL columns
	// it is given.
	"GREATEST(", "max(",
)

// idArray fills an /*:idArray*/ slot with ids: one text-array parameter on
// Postgres, for = ANY(…); a parameter per id on SQLite, for IN (…).
func idArray(d *Dialect, a *Args, ids []string) string {
	if d.Engine == SQLite {
		in := In(a, ids)
		return in[1 : len(in)-1]
	}
	return a.Add(ids)
}

var (
	nameLine = regexp.MustCompile(`^-- name: ([A-Z][A-Za-z0-9]*)\s*$`)
	slotMark = regexp.MustCompile(`/\*:([a-z][A-Za-z0-9]*)\*/`)
)

// bound are the statements the package's variables name (stmt), by name.
// Their text is read from the files on first use, not at start-up: a
// command that never touches a store (--help, version) should not parse
// 108 statements, 0.4 ms of a 5 ms start.
var (
	bound    = map[string]*Stmt{}
	loadOnce sync.Once
)

// statements is every statement, its text loaded. It panics, on the
// first statement a process runs and in every test of the package, for a
// name no file has, a statement no variable binds, or a malformed file.
func statements() map[string]*Stmt {
	loadOnce.Do(func() {
		files := loadStatements(sqlFiles)
		for name, f := range files {
			s := bound[name]
			if s == nil {
				panic("jobsql: " + f.File + ": statement " + name + " is not used")
			}
			s.File, s.text, s.slots, s.named = f.File, f.text, f.slots, f.named
		}
		for name := range bound {
			if files[name] == nil {
				panic("jobsql: no statement called " + name + " in sql/*.sql")
			}
		}
	})
	return bound
}

func loadStatements(fsys fs.FS) map[string]*Stmt {
	all := map[string]*Stmt{}
	base, err := fs.Glob(fsys, "sql/*.sql")
	if err != nil {
		panic(err)
	}
	for _, file := range base {
		for name, text := range parseFile(fsys, file, false) {
			if s := all[name]; s != nil {
				panic(fmt.Sprintf("jobsql: statement %s in both %s and %s", name, s.File, file))
			}
			s := &Stmt{Name: name, File: file}
			s.text[Postgres] = text
			s.text[SQLite] = sqliteRewrites.Replace(text)
			s.slots = slotsOf(text)
			s.named = len(uniq(s.slots))
			all[name] = s
		}
	}
	over, err := fs.Glob(fsys, "sql/sqlite/*.sql")
	if err != nil {
		panic(err)
	}
	for _, file := range over {
		for name, text := range parseFile(fsys, file, true) {
			s := all[name]
			if s == nil {
				panic(fmt.Sprintf("jobsql: %s overrides %s, which no file in sql/ has", file, name))
			}
			if path.Base(file) != path.Base(s.File) {
				panic(fmt.Sprintf("jobsql: %s overrides %s, which is in %s", file, name, s.File))
			}
			slots := slotsOf(text)
			// The same slots, each filled once by name, though a text may
			// use one twice (a lock's subquery repeats its ids).
			if text != "" && !maps.Equal(uniq(slots), uniq(s.slots)) {
				panic(fmt.Sprintf("jobsql: %s: %s has slots %v, %s has %v", name, file, slots, s.File, s.slots))
			}
			s.text[SQLite] = sqliteRewrites.Replace(text)
		}
	}
	return all
}

// parseFile returns the statements of one file by name. Comment lines are
// for the reader: they are not sent, and a trailing ";" is dropped. Only an
// override file (none) may have a block without SQL.
func parseFile(fsys fs.FS, file string, none bool) map[string]string {
	b, err := fs.ReadFile(fsys, file)
	if err != nil {
		panic(err)
	}
	out := map[string]string{}
	var (
		name string
		body []string
	)
	flush := func() {
		if name == "" {
			return
		}
		text := strings.TrimSuffix(strings.TrimSpace(strings.Join(body, "\n")), ";")
		if (text == "" && !none) || strings.Contains(text, ";") {
			panic(fmt.Sprintf("jobsql: %s: %s must be one statement", file, name))
		}
		if _, dup := out[name]; dup {
			panic(fmt.Sprintf("jobsql: %s: %s twice", file, name))
		}
		out[name] = text
	}
	for i, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "-- name:"):
			m := nameLine.FindStringSubmatch(trimmed)
			if m == nil {
				panic(fmt.Sprintf("jobsql: %s:%d: malformed name line %q", file, i+1, line))
			}
			flush()
			name, body = m[1], nil
		case strings.HasPrefix(trimmed, "--"):
		case name == "" && trimmed != "":
			panic(fmt.Sprintf("jobsql: %s:%d: SQL before the first -- name: line", file, i+1))
		default:
			body = append(body, line)
		}
	}
	flush()
	return out
}

// stmt binds the statement called name, once, for a package-level
// variable; statements reads its text when the first is run.
func stmt(name string) *Stmt {
	if bound[name] != nil {
		panic("jobsql: statement " + name + " bound twice")
	}
	s := &Stmt{Name: name}
	bound[name] = s
	return s
}

// Fill gives each of a statement's slots its text.
type Fill map[string]string

// Runs reports whether d's engine runs s at all.
func (d *Dialect) Runs(s *Stmt) bool {
	statements()
	return s.text[d.Engine] != ""
}

// SQL is s's text for d's engine, its slots filled. A slot without text,
// or text for a slot s lacks, panics: the two are written together; so
// does a statement the engine does not run.
func (d *Dialect) SQL(s *Stmt, fill ...Fill) string {
	statements()
	text := s.text[d.Engine]
	if text == "" {
		panic("jobsql: " + s.Name + " is not run on this engine")
	}
	if len(s.slots) == 0 && len(fill) == 0 {
		return text
	}
	var f Fill
	if len(fill) == 1 {
		f = fill[0]
	}
	if len(f) != s.named {
		panic(fmt.Sprintf("jobsql: %s has slots %v, filled with %d", s.Name, s.slots, len(f)))
	}
	return slotMark.ReplaceAllStringFunc(text, func(m string) string {
		v, ok := f[m[3:len(m)-2]]
		if !ok {
			panic(fmt.Sprintf("jobsql: %s: slot %s not filled", s.Name, m))
		}
		return v
	})
}

func uniq(ss []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range ss {
		m[s] = true
	}
	return m
}

// Values converts args for d as Args.Add does, for a statement with only
// its own parameters.
func (d *Dialect) Values(args ...any) []any {
	for i, v := range args {
		args[i] = d.conv(v)
	}
	return args
}

// ArgsAfter returns an argument list that already holds a statement's own
// parameters, converted for d, so that a slot's parameters number after
// them.
func (d *Dialect) ArgsAfter(args ...any) *Args {
	a := d.Args()
	for _, v := range args {
		a.Add(v)
	}
	return a
}

// Listing is one statement as each engine runs it, for tests and readers.
type Listing struct {
	Name, File string
	// Slots are the slot names, in order of appearance, that the text
	// leaves for Go code to fill.
	Slots []string
	// SQL is the text per engine, "" where the engine does not run it.
	SQL [engines]string
}

// Statements lists every named statement, by file and name.
func Statements() []Listing {
	all := statements()
	out := make([]Listing, 0, len(all))
	for _, s := range all {
		out = append(out, Listing{Name: s.Name, File: s.File, Slots: s.slots, SQL: s.text})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Name < out[j].Name
	})
	return out
}

var paramMark = regexp.MustCompile(`\$[0-9]+`)

// manyRows repeats sql's last VALUES tuple n times, each copy's parameters
// numbered after the previous copy's: a multi-row INSERT whose file spells
// the one-row statement. The tuple holds every parameter of sql.
func manyRows(sql string, n int) string {
	start := strings.LastIndex(sql, "VALUES (")
	if start < 0 {
		panic("jobsql: manyRows: no VALUES tuple in " + sql)
	}
	start += len("VALUES ")
	end, depth := start, 0
	for ; end < len(sql); end++ {
		if sql[end] == '(' {
			depth++
		} else if sql[end] == ')' {
			if depth--; depth == 0 {
				end++
				break
			}
		}
	}
	tuple := sql[start:end]
	if paramMark.MatchString(sql[:start]) || paramMark.MatchString(sql[end:]) {
		panic("jobsql: manyRows: parameters outside the VALUES tuple in " + sql)
	}
	per := len(paramMark.FindAllString(tuple, -1))
	var b strings.Builder
	b.WriteString(sql[:start])
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteString(paramMark.ReplaceAllStringFunc(tuple, func(p string) string {
			k, _ := strconv.Atoi(p[1:])
			return "$" + strconv.Itoa(k+r*per)
		}))
	}
	b.WriteString(sql[end:])
	return b.String()
}
