package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// pagingStore records the Limit of every List call, and can run a hook
// after one (to change the store between pages).
type pagingStore struct {
	store.Store
	limits []int
	after  func(call int, jobs []*store.Job)
}

func (p *pagingStore) List(ctx context.Context, lp *store.ListParams) ([]*store.Job, error) {
	jobs, err := p.Store.List(ctx, lp)
	p.limits = append(p.limits, lp.Limit)
	if p.after != nil {
		p.after(len(p.limits), jobs)
	}
	return jobs, err
}

// listWith runs listRun over e's store, wrapped, with a page of pageSize.
func listWith(t *testing.T, e *cliEnv, ps *pagingStore, pageSize int, format render.Format, quiet bool, limit int) (string, string, error) {
	t.Helper()
	ps.Store = e.store()
	ios, _, out, errOut := render.Test(false, false)
	opts := &ListOptions{
		IO: ios, Store: func(context.Context) (store.Store, error) { return ps, nil },
		Format: format, Quiet: quiet, PageSize: pageSize,
		Params: store.ListParams{Limit: 50, Sort: store.SortCreatedDesc},
	}
	if limit > 0 {
		opts.Params.Limit, opts.LimitSet = limit, true
	}
	err := listRun(context.Background(), opts)
	return out.String(), errOut.String(), err
}

func seedN(e *cliEnv, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[n-1-i] = e.seed("X", store.StatusFailed) // newest first, as list prints
	}
	return ids
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

// TestListQuietPages: -q lists every match, past the default 50 too, one
// page of PageSize at a time, and asks the store for no more than a page.
func TestListQuietPages(t *testing.T) {
	e := newCLIEnv(t, false)
	ids := seedN(e, 10)
	ps := &pagingStore{}
	out, errOut, err := listWith(t, e, ps, 3, render.FormatTable, true, 0)
	if err != nil || errOut != "" {
		t.Fatalf("err %v, stderr %q", err, errOut)
	}
	if got := lines(out); !slices.Equal(got, ids) {
		t.Errorf("stdout:\n%s\nwant every ID, newest first:\n%s", out, strings.Join(ids, "\n"))
	}
	if want := []int{3, 3, 3, 3}; !slices.Equal(ps.limits, want) {
		t.Errorf("List limits = %v, want %v (pages of 3; the short last page ends it)", ps.limits, want)
	}

	// A whole number of pages: the empty page after the last full one
	// ends the listing quietly.
	ps = &pagingStore{}
	if out, _, err = listWith(t, e, ps, 5, render.FormatTable, true, 0); err != nil || !slices.Equal(lines(out), ids) {
		t.Errorf("pages of 5: err %v, stdout:\n%s", err, out)
	}
	if want := []int{5, 5, 5}; !slices.Equal(ps.limits, want) {
		t.Errorf("List limits = %v, want %v", ps.limits, want)
	}

	// Past the default limit of 50, with the real page size.
	ids = append(seedN(e, 45), ids...)
	if out, _, err = listWith(t, e, &pagingStore{}, listPageSize, render.FormatTable, true, 0); err != nil || !slices.Equal(lines(out), ids) {
		t.Errorf("55 jobs: err %v, %d lines", err, len(lines(out)))
	}
}

// TestListLimitNote: with --limit a listing stops there, reads one job
// more to know, and says so on stderr only when it cut something off.
func TestListLimitNote(t *testing.T) {
	e := newCLIEnv(t, false)
	ids := seedN(e, 10)
	for _, tc := range []struct {
		limit  int
		limits []int
		note   string
	}{
		{5, []int{3, 3}, "jobctl: showing 5 of 10 matching jobs; drop --limit to list them all\n"},
		{3, []int{3, 1}, "jobctl: showing 3 of 10 matching jobs; drop --limit to list them all\n"},
		{2, []int{3}, "jobctl: showing 2 of 10 matching jobs; drop --limit to list them all\n"},
		{9, []int{3, 3, 3, 1}, "jobctl: showing 9 of 10 matching jobs; drop --limit to list them all\n"},
		{10, []int{3, 3, 3, 2}, ""},
		{11, []int{3, 3, 3, 3}, ""},
		{1000, []int{3, 3, 3, 3}, ""},
	} {
		ps := &pagingStore{}
		out, errOut, err := listWith(t, e, ps, 3, render.FormatTable, true, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if want := ids[:min(tc.limit, len(ids))]; !slices.Equal(lines(out), want) {
			t.Errorf("--limit %d: stdout:\n%s", tc.limit, out)
		}
		if errOut != tc.note {
			t.Errorf("--limit %d: stderr %q, want %q", tc.limit, errOut, tc.note)
		}
		if !slices.Equal(ps.limits, tc.limits) {
			t.Errorf("--limit %d: List limits %v, want %v", tc.limit, ps.limits, tc.limits)
		}
	}
}

// TestListStreamFormats: jsonl and csv stream every match too; csv has
// its header once. json keeps the default limit and says it cut.
func TestListStreamFormats(t *testing.T) {
	e := newCLIEnv(t, false)
	ids := seedN(e, 7)
	out, _, err := listWith(t, e, &pagingStore{}, 2, render.FormatJSONL, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines(out) {
		var j struct{ ID string }
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatalf("jsonl line %q: %v", l, err)
		}
		got = append(got, j.ID)
	}
	if !slices.Equal(got, ids) {
		t.Errorf("jsonl IDs = %v, want %v", got, ids)
	}

	out, _, err = listWith(t, e, &pagingStore{}, 2, render.FormatCSV, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 8 || rows[0][0] != "id" || rows[1][0] != ids[0] || rows[7][0] != ids[6] {
		t.Errorf("csv: %v\n%s", err, out)
	}
	out, _, err = listWith(t, e, &pagingStore{}, 2, render.FormatCSV, false, 3)
	if rows, _ := csv.NewReader(strings.NewReader(out)).ReadAll(); err != nil || len(rows) != 4 {
		t.Errorf("csv --limit 3: %v\n%s", err, out)
	}

	// -o json is one document: it keeps --limit's default and says so.
	ps := &pagingStore{}
	e.out.Reset()
	ios, _, outBuf, errOut := render.Test(false, false)
	opts := &ListOptions{IO: ios, Store: func(context.Context) (store.Store, error) { ps.Store = e.store(); return ps, nil },
		Format: render.FormatJSON, PageSize: 2, Params: store.ListParams{Limit: 5}}
	if err := listRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	var js []map[string]any
	if err := json.Unmarshal(outBuf.Bytes(), &js); err != nil || len(js) != 5 {
		t.Errorf("json: %v, %d jobs", err, len(js))
	}
	if w := "jobctl: showing 5 of 7 matching jobs; raise --limit, or use -q or -o jsonl to list them all\n"; errOut.String() != w {
		t.Errorf("json stderr = %q, want %q", errOut, w)
	}
	opts.Params.Limit = 7
	outBuf.Reset()
	errOut.Reset()
	if err := listRun(context.Background(), opts); err != nil || errOut.Len() != 0 || bytes.Count(outBuf.Bytes(), []byte(`"id"`)) != 7 {
		t.Errorf("json, all shown: err %v, stderr %q", err, errOut)
	}
}

// TestListAnchorGone: if the job a page starts after is deleted between
// pages, the keyset matches nothing; the listing must fail, not stop
// quietly with jobs missing.
func TestListAnchorGone(t *testing.T) {
	e := newCLIEnv(t, false)
	seedN(e, 6)
	ps := &pagingStore{}
	ps.after = func(call int, jobs []*store.Job) {
		if call != 1 {
			return
		}
		last := jobs[len(jobs)-1].ID
		if _, err := ps.Store.Act(context.Background(), &store.ActionParams{Action: store.ActDelete, IDs: []string{last},
			Actor: "test", OperationID: "op_test", BatchSize: 10}); err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := listWith(t, e, ps, 3, render.FormatTable, true, 0)
	if err == nil || !strings.HasPrefix(err.Error(), "listing stopped after 3 jobs: ") || !strings.Contains(err.Error(), "was deleted or archived meanwhile") {
		t.Errorf("err = %v", err)
	}
	if len(lines(out)) != 3 {
		t.Errorf("stdout:\n%s", out)
	}
}
