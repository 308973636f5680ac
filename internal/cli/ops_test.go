package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

// TestActionsAuditViaCLI: a CLI action goes through ops as the actor,
// and each audit row says it came through the CLI.
func TestActionsAuditViaCLI(t *testing.T) {
	e := newCLIEnv(t, false)
	id := e.seed("CalendarSync", store.StatusFailed)
	if code := e.run("", "--as", "ops-test", "retry", id); code != 0 {
		t.Fatalf("retry exit %d: %s", code, e.errOut)
	}
	es, err := e.store().Audit(context.Background(), &store.AuditFilter{ResourceID: id, Limit: 5})
	if err != nil || len(es) != 1 {
		t.Fatalf("audit: %d rows, %v", len(es), err)
	}
	var meta map[string]any
	if err := json.Unmarshal(es[0].Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	if es[0].UserID != "ops-test" || meta["via"] != "cli" {
		t.Errorf("audit userId %q, metadata %s; want ops-test, via cli", es[0].UserID, es[0].Metadata)
	}
}

// TestFlagErrorsNameFlags: ops names inputs by field; the CLI says them
// as flags, as a usage error (exit 2).
func TestFlagErrorsNameFlags(t *testing.T) {
	e := newCLIEnv(t, false)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"retry", "--since", "soon"}, "--since: "},
		{[]string{"retry", "--status", "completed"}, "--status completed: retry needs FAILED, DEAD or CANCELLED"},
		{[]string{"list", "--until", ""}, "--until was given an empty value: give one, or leave --until out"},
		{[]string{"purge", "--since", "today", "--until", "1d"}, "--since ("},
	} {
		if code := e.run("", tc.args...); code != 2 || !strings.Contains(e.errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, e.errOut, tc.want)
		}
	}
	if got := flagName("batchSize"); got != "--batch-size" {
		t.Errorf("flagName(batchSize) = %q", got)
	}
}

// TestLimitsPastOnePage: --limit above ops.MaxLimit reads page after page
// through ops, for list and for audit alike.
func TestLimitsPastOnePage(t *testing.T) {
	e := newCLIEnv(t, false)
	s := e.store()
	teststore.Seed(t, s, "X", store.StatusFailed, ops.MaxLimit+5, time.Now().Add(-time.Hour))
	if _, err := s.Act(context.Background(), &store.ActionParams{Action: store.ActRetry, Filter: store.Filter{Types: []string{"X"}},
		Actor: "t", OperationID: "op_t", BatchSize: 5000}); err != nil {
		t.Fatal(err)
	}
	if code := e.run("", "list", "--limit", "1003", "-o", "json"); code != 0 {
		t.Fatalf("list exit %d: %s", code, e.errOut)
	}
	var listed []map[string]any
	if err := json.Unmarshal(e.out.Bytes(), &listed); err != nil || len(listed) != 1003 {
		t.Errorf("list --limit 1003: %d jobs, %v", len(listed), err)
	}
	if w := "showing 1,003 of 1,005 matching jobs"; !strings.Contains(e.errOut.String(), w) {
		t.Errorf("list stderr %q; want %q", e.errOut, w)
	}
	if code := e.run("", "audit", "--limit", "1002", "-o", "json"); code != 0 {
		t.Fatalf("audit exit %d: %s", code, e.errOut)
	}
	var rows []map[string]any
	if err := json.Unmarshal(e.out.Bytes(), &rows); err != nil || len(rows) != 1002 {
		t.Errorf("audit --limit 1002: %d rows, %v", len(rows), err)
	}
	if w := "showing 1,002 of 1,005 matching entries"; !strings.Contains(e.errOut.String(), w) {
		t.Errorf("audit stderr %q; want %q", e.errOut, w)
	}
}
