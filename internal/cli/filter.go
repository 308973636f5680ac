package cli

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/when"
)

// filterFlags are the job filters every selecting command shares.
type filterFlags struct {
	Statuses []string
	Types    []string
	Since    string
	Until    string
	Older    string
	User     string

	// changed reports whether a flag was given: it tells `--older ""` (an
	// unset shell variable, most likely) from no --older at all.
	changed func(name string) bool
	// lists are --status and --type, which remember an empty element.
	lists map[string]*listValue
}

// listValue is a repeatable, comma-separated flag like pflag's StringSlice,
// except that it remembers an empty element (`--type a --type ""`), which
// StringSlice drops without a trace.
type listValue struct {
	values *[]string
	empty  bool
}

func (l *listValue) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if strings.TrimSpace(v) == "" {
			l.empty = true
			continue
		}
		*l.values = append(*l.values, v)
	}
	return nil
}

func (l *listValue) String() string { return strings.Join(*l.values, ",") }
func (l *listValue) Type() string   { return "strings" }

func (ff *filterFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	ff.lists = map[string]*listValue{"status": {values: &ff.Statuses}, "type": {values: &ff.Types}}
	fl.Var(ff.lists["status"], "status", "status, any case; repeat or comma-separate (PENDING, RUNNING, COMPLETED, FAILED, RETRYING, CANCELLED, DEAD)")
	fl.Var(ff.lists["type"], "type", "job type; repeat or comma-separate")
	fl.StringVar(&ff.Since, "since", "", "created at or after: 90s, 1h, 30d, today, yesterday, or RFC 3339")
	fl.StringVar(&ff.Until, "until", "", "created before: same forms as --since")
	fl.StringVar(&ff.Older, "older", "", "finished (completedAt) before: 30d, 12h, or a time; only finished jobs match")
	fl.StringVar(&ff.User, "user", "", "created by this user ID")
	ff.changed = fl.Changed
}

// checkEmpty refuses a filter flag given an empty value (`--type ""`,
// `--older "$UNSET"`, `--type a,`). Read as "no filter", such a flag would
// widen a bulk action to every job, so it is a usage error naming the flag.
func (ff *filterFlags) checkEmpty() error {
	for _, name := range []string{"status", "type"} {
		if l := ff.lists[name]; l != nil && l.empty {
			return emptyValue(name)
		}
	}
	for _, c := range []struct{ name, value string }{
		{"since", ff.Since}, {"until", ff.Until}, {"older", ff.Older}, {"user", ff.User},
	} {
		if ff.changed != nil && ff.changed(c.name) && strings.TrimSpace(c.value) == "" {
			return emptyValue(c.name)
		}
	}
	return nil
}

func emptyValue(flag string) error {
	return cmdutil.FlagErrorf("--%s was given an empty value: give one, or leave --%s out", flag, flag)
}

// set reports whether any filter flag was given.
func (ff *filterFlags) set() bool {
	return len(ff.Statuses) > 0 || len(ff.Types) > 0 || ff.Since != "" || ff.Until != "" || ff.Older != "" || ff.User != ""
}

// filter validates the flags into a store.Filter. Bad values are usage
// errors, caught before the store is opened.
func (ff *filterFlags) filter(now time.Time) (store.Filter, error) {
	var f store.Filter
	if err := ff.checkEmpty(); err != nil {
		return f, err
	}
	for _, s := range ff.Statuses {
		st, err := store.ParseStatus(s)
		if err != nil {
			return f, &cmdutil.FlagError{Err: err}
		}
		f.Statuses = append(f.Statuses, st)
	}
	for _, t := range ff.Types {
		if t = strings.TrimSpace(t); t != "" {
			f.Types = append(f.Types, t)
		}
	}
	var err error
	if ff.Since != "" {
		if f.Since, err = when.ParseTime(ff.Since, now); err != nil {
			return f, cmdutil.FlagErrorf("--since: %v", err)
		}
	}
	if ff.Until != "" {
		if f.Until, err = when.ParseTime(ff.Until, now); err != nil {
			return f, cmdutil.FlagErrorf("--until: %v", err)
		}
	}
	if ff.Older != "" {
		if f.FinishedBefore, err = when.ParseTime(ff.Older, now); err != nil {
			return f, cmdutil.FlagErrorf("--older: %v", err)
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, cmdutil.FlagErrorf("--since (%s) must be before --until (%s)", f.Since.Format(time.RFC3339), f.Until.Format(time.RFC3339))
	}
	f.UserID = ff.User
	return f, nil
}
