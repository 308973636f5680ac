package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/store"
)

// completeTimeout bounds what completion may spend on the store: a shell
// waits for it on every Tab, so an unreachable store must cost little.
const completeTimeout = 500 * time.Millisecond

// recentIDs is how many of the newest jobs an ID completes to.
const recentIDs = 50

// idStatuses are, for each command that takes job IDs, the statuses of the
// jobs it acts on; nil means any job.
var idStatuses = map[string][]store.Status{
	"show":   nil,
	"retry":  {store.StatusFailed, store.StatusDead, store.StatusCancelled},
	"cancel": {store.StatusPending, store.StatusRetrying, store.StatusRunning},
	"start":  {store.StatusPending},
	"delete": {store.StatusPending, store.StatusCompleted, store.StatusFailed, store.StatusCancelled, store.StatusDead},
}

// registerCompletions gives every flag with a fixed set of values, or
// values from the store, its completion, wherever a command declares it,
// and the ID-taking commands their job IDs.
func registerCompletions(root *cobra.Command, f *cmdutil.Factory) {
	statuses := make([]string, len(store.Statuses))
	for i, s := range store.Statuses {
		statuses[i] = string(s)
	}
	priorities := make([]string, len(store.Priorities))
	for i, p := range store.Priorities {
		priorities[i] = string(p)
	}
	types := func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return listCompletion(jobTypes(f), toComplete), cobra.ShellCompDirectiveNoFileComp
	}
	byFlag := map[string]cobra.CompletionFunc{
		"status":     values(statuses...),
		"priority":   values(priorities...),
		"sort":       values("-created\tnewest first", "created\toldest first", "priority\thighest priority first"),
		"log-format": values("text", "json"),
		"log-level":  values("debug", "info", "warn", "error"),
		"type":       types,
		"types":      types,
	}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for name, fn := range byFlag {
			if c.LocalNonPersistentFlags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, fn)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)

	for _, c := range root.Commands() {
		switch name := c.Name(); {
		case name == "enqueue":
			c.ValidArgsFunction = func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return jobTypes(f), cobra.ShellCompDirectiveNoFileComp
			}
		case idStatuses[name] != nil || name == "show":
			statuses := idStatuses[name]
			c.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
				if name == "show" && len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return jobIDs(f, statuses, args), cobra.ShellCompDirectiveNoFileComp
			}
		}
	}
}

// values completes a flag to a fixed list (with "\t" descriptions).
func values(vs ...string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return listCompletion(vs, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// listCompletion completes the last item of a comma-separated list
// (--status failed,de): each candidate carries the items already typed.
func listCompletion(vs []string, toComplete string) []string {
	i := strings.LastIndex(toComplete, ",")
	if i < 0 {
		return vs
	}
	out := make([]string, len(vs))
	for j, v := range vs {
		out[j] = toComplete[:i+1] + v
	}
	return out
}

// completionStore opens the store for completion: never creating or
// migrating it, within completeTimeout. It returns nil when there is no
// store or it cannot be reached; completion then offers nothing, silently.
func completionStore(f *cmdutil.Factory) (context.Context, store.Store, func()) {
	ctx, cancel := context.WithTimeout(context.Background(), completeTimeout)
	s, err := f.OpenStoreWith(ctx, cmdutil.OpenOptions{Migrating: true})
	if err != nil {
		cancel()
		return nil, nil, func() {}
	}
	return ctx, s, cancel
}

// jobTypes are the job types the store has seen, or nothing.
func jobTypes(f *cmdutil.Factory) []string {
	ctx, s, done := completionStore(f)
	defer done()
	if s == nil {
		return nil
	}
	// A window that starts now keeps Stats to its counts per type.
	st, err := s.Stats(ctx, &store.StatsParams{Since: time.Now(), TopErrors: 1})
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(st.ByType))
	for _, t := range st.ByType {
		out = append(out, t.Type)
	}
	return out
}

// jobIDs are the newest jobs of the given statuses (any when nil), with
// their type as the description, leaving out the IDs already typed.
func jobIDs(f *cmdutil.Factory, statuses []store.Status, typed []string) []string {
	ctx, s, done := completionStore(f)
	defer done()
	if s == nil {
		return nil
	}
	jobs, err := s.List(ctx, &store.ListParams{Filter: store.Filter{Statuses: statuses}, Limit: recentIDs, Sort: store.SortCreatedDesc})
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	for _, a := range typed {
		seen[store.NormalizeID(a)] = true
	}
	out := make([]string, 0, len(jobs))
	for _, j := range jobs {
		if !seen[j.ID] {
			out = append(out, j.ID+"\t"+strings.Map(printable, j.Type))
		}
	}
	return out
}

// printable keeps a stored type from putting a tab or newline into the
// shell's completion protocol.
func printable(r rune) rune {
	if r < 0x20 || r == 0x7f {
		return -1
	}
	return r
}
