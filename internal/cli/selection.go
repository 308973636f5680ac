package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
)

// selectBy says how a bulk command may choose its jobs.
type selectBy int

const (
	byIDsOrFilter selectBy = iota // retry, cancel, start
	byIDs                         // delete, archive restore
	byFilter                      // purge, archive
)

// selection is how every bulk command chooses its jobs: by IDs (arguments,
// or "-" to read them from stdin) or by the filters `list` takes, never
// both. Filters may only name statuses the action can apply to. A command
// that may select by filter acts on every job only when told so with
// --all: no filter, or an empty one, is never read as "everything".
type selection struct {
	action  store.Action
	by      selectBy
	filters filterFlags
	// all is --all: act on every job in a status the action applies to.
	// Filters given with it still narrow the selection.
	all bool
}

// chosen is a resolved selection: IDs, or a filter whose Statuses are the
// statuses the action may touch.
type chosen struct {
	// Explicit means the jobs were named by ID. A named job that is
	// refused or missing fails the command; an empty list acts on nothing.
	Explicit  bool
	IDs       []string
	FromStdin bool
	Filter    store.Filter
	// Statuses are the statuses the action applies to (nil for restore).
	Statuses []store.Status
	// All is --all: the filter may be empty and still select.
	All bool
}

func (s *selection) register(cmd *cobra.Command) {
	if s.by != byIDs {
		s.filters.register(cmd)
		without := "IDs or a filter"
		switch s.action {
		case store.ActPurge:
			without = "a filter"
		case store.ActArchive:
			without = "--older"
		}
		cmd.Flags().BoolVar(&s.all, "all", false, fmt.Sprintf("%s every %s job; filters given too still narrow it (without %s, %s needs --all)",
			s.action, store.OrList(store.Allowed[s.action]), without, s.action))
	}
}

// resolve checks the flags and arguments and, for "-", reads the IDs from
// stdin. Every mistake is a usage error, found before the store is opened.
// The rules every adapter shares (IDs or filters, never both; --all only
// when given; never an empty selection) are ops.CheckShape's; the ones
// here are about this command's shape (purge takes no IDs, delete no
// filter) and reading IDs.
func (s *selection) resolve(args []string, stdin io.Reader, now time.Time) (*chosen, error) {
	if err := s.filters.checkEmpty(); err != nil {
		return nil, err
	}
	hasFilter := s.filters.set()
	if len(args) > 0 && (s.all || hasFilter) {
		// The filter's values do not matter here: either way it is one
		// selection too many.
		return nil, flagError(ops.CheckShape(s.action, ops.Selection{IDs: true, Filter: hasFilter, All: s.all}))
	}
	switch {
	case len(args) > 0 && s.by == byFilter:
		return nil, cmdutil.FlagErrorf("%s selects jobs by filter, not by ID%s", s.action, byIDHint(s.action))
	case len(args) == 0 && s.by == byIDs:
		return nil, cmdutil.FlagErrorf("%s needs job IDs, or - to read them from stdin%s", s.action, byFilterHint(s.action))
	}
	if len(args) > 0 {
		ids, fromStdin, err := readIDArgs(args, stdin)
		if err != nil {
			return nil, err
		}
		c := &chosen{Explicit: true, IDs: ids, FromStdin: fromStdin}
		if s.action != store.ActRestore {
			c.Statuses = store.Allowed[s.action]
		}
		return c, nil
	}
	f, err := s.filters.filter(now)
	if err != nil {
		return nil, err
	}
	if err := ops.CheckSelection(&ops.ActionRequest{Action: s.action, Filter: f, All: s.all}); err != nil {
		var e *ops.Error
		if errors.As(err, &e) && e.Code == ops.CodeUnprocessable && s.by == byIDsOrFilter {
			return nil, cmdutil.FlagErrorf("%s (see 'jobctl %s --help')", e.In(flagName), s.action)
		}
		return nil, flagError(err)
	}
	statuses, err := ops.Statuses(s.action, f.Statuses)
	if err != nil {
		return nil, flagError(err)
	}
	f.Statuses = statuses
	return &chosen{Filter: f, Statuses: statuses, All: s.all}, nil
}

func byIDHint(a store.Action) string {
	switch a {
	case store.ActPurge:
		return " (to delete jobs by ID, use `jobctl delete`)"
	case store.ActArchive:
		return " (archive takes --older 30d; to bring jobs back, use `jobctl archive restore ID`)"
	}
	return ""
}

func byFilterHint(a store.Action) string {
	if a == store.ActDelete {
		return " (to delete by filter, use `jobctl purge`)"
	}
	return ""
}

// readIDArgs returns the IDs named as arguments or, when the only argument
// is "-", read from stdin. IDs may come with or without their job_ prefix.
func readIDArgs(args []string, stdin io.Reader) ([]string, bool, error) {
	if len(args) == 1 && args[0] == "-" {
		ids, err := readIDs(stdin)
		return ids, true, err
	}
	ids := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a == "-":
			return nil, false, cmdutil.FlagErrorf("- (read IDs from stdin) must be the only argument")
		case strings.TrimSpace(a) == "":
			return nil, false, cmdutil.FlagErrorf("empty job ID")
		case strings.ContainsAny(strings.TrimSpace(a), " \t"):
			return nil, false, cmdutil.FlagErrorf("%q is not a job ID", a)
		}
		ids = append(ids, store.NormalizeID(a))
	}
	return ids, false, nil
}

// readIDs reads one ID a line, as `jobctl list -q` prints them; blank lines
// are skipped. A line holding anything else (a table row, say) is an error
// rather than a guess.
func readIDs(r io.Reader) ([]string, error) {
	var ids []string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.ContainsAny(line, " \t") {
			return nil, cmdutil.FlagErrorf("stdin line %d: %q is not a job ID (give one ID a line, as `jobctl list -q` prints)", n, line)
		}
		ids = append(ids, store.NormalizeID(line))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading job IDs from stdin: %w", err)
	}
	return ids, nil
}
