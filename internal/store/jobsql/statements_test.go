package jobsql

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatementsUsed: every statement the files hold is bound by stmt (init
// panics otherwise), and every variable so bound is used by the store's
// code (this package's, or a backend's for an exported one), so the files
// hold no dead statement.
func TestStatementsUsed(t *testing.T) {
	var files []string
	for _, glob := range []string{"*.go", "../postgres/*.go", "../sqlite/*.go"} {
		fs, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	fset := token.NewFileSet()
	bound := map[string]string{} // variable → statement
	uses := map[string]int{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.ValueSpec:
				for i, v := range x.Values {
					if c, ok := v.(*ast.CallExpr); ok {
						if fn, ok := c.Fun.(*ast.Ident); ok && fn.Name == "stmt" && len(c.Args) == 1 {
							bound[x.Names[i].Name] = strings.Trim(c.Args[0].(*ast.BasicLit).Value, `"`)
						}
					}
				}
			case *ast.Ident:
				uses[x.Name]++
			}
			return true
		})
	}
	if len(bound) != len(statements()) {
		t.Errorf("%d variables bind statements, the files hold %d", len(bound), len(statements()))
	}
	for v, name := range bound {
		if uses[v] < 2 { // its declaration is one use
			t.Errorf("statement %s (variable %s) is never used", name, v)
		}
	}
}

func TestParseRefusesMalformed(t *testing.T) {
	for _, src := range []string{
		"-- name: lowercase\nSELECT 1;",
		"-- name: A\nSELECT 1;\n-- name: A\nSELECT 2;",
		"SELECT 1;",
		"-- name: A\n",
		"-- name: A\nSELECT 1; SELECT 2;",
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("parsed without a panic: %q", src)
				}
			}()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "x.sql"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			parseFile(os.DirFS(dir), "x.sql", false)
		}()
	}
}

func TestManyRows(t *testing.T) {
	got := manyRows(`INSERT INTO t (a, b) VALUES ($1, CAST($2 AS jsonb)) ON CONFLICT DO NOTHING`, 3)
	want := `INSERT INTO t (a, b) VALUES ($1, CAST($2 AS jsonb)), ($3, CAST($4 AS jsonb)), ($5, CAST($6 AS jsonb)) ON CONFLICT DO NOTHING`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestSharedSpellings: what Go code or an index relies on is spelled alike
// in every statement that spells it: the column lists ScanJob, importValues
// and the bulk inserts read or write in order, and the predicates of the
// partial indexes a statement must repeat verbatim for the planner to use
// them.
func TestSharedSpellings(t *testing.T) {
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	jobColumns, insertColumns := norm(JobColumns), norm(InsertColumns)
	uniqueKeyIndex := `status IN ('PENDING', 'RUNNING', 'RETRYING')`
	for _, s := range statements() {
		text := norm(s.text[Postgres])
		if strings.Contains(text, "id, type, status, priority, data,") && !strings.Contains(text, jobColumns) {
			t.Errorf("%s: a job column list other than JobColumns", s.Name)
		}
		if strings.HasPrefix(text, `INSERT INTO "Job" ("id"`) && !strings.Contains(text, "("+insertColumns+")") {
			t.Errorf("%s: insert columns other than InsertColumnNames", s.Name)
		}
		if strings.Contains(text, `"uniqueKey"`) && strings.Contains(text, "'PENDING', 'RUNNING'") && !strings.Contains(text, uniqueKeyIndex) {
			t.Errorf("%s: the unique-key index's predicate is not %s", s.Name, uniqueKeyIndex)
		}
	}
	// StatusCounts's columns are scanned in countedStatuses's order.
	for _, name := range []string{"StatusCounts", "StatusCountsUser"} {
		text := statements()[name].text[Postgres]
		at := -1
		for _, st := range countedStatuses {
			i := strings.Index(text, "status = '"+string(st)+"'")
			if i <= at {
				t.Errorf("%s does not count %v in countedStatuses's order", name, countedStatuses)
				break
			}
			at = i
		}
	}
	for _, name := range []string{"Snapshot", "SnapshotUser"} {
		if !strings.Contains(norm(statements()[name].text[Postgres]), claimable) {
			t.Errorf("%s does not repeat the claim index's predicate %s", name, claimable)
		}
	}
}
