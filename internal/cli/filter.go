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
}

func (ff *filterFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringSliceVar(&ff.Statuses, "status", nil, "status, any case; repeat or comma-separate (PENDING, RUNNING, COMPLETED, FAILED, RETRYING, CANCELLED, DEAD)")
	fl.StringSliceVar(&ff.Types, "type", nil, "job type; repeat or comma-separate")
	fl.StringVar(&ff.Since, "since", "", "created at or after: 90s, 1h, 30d, today, yesterday, or RFC 3339")
	fl.StringVar(&ff.Until, "until", "", "created before: same forms as --since")
	fl.StringVar(&ff.Older, "older", "", "finished (completedAt) before: 30d, 12h, or a time; only finished jobs match")
	fl.StringVar(&ff.User, "user", "", "created by this user ID")
}

// set reports whether any filter flag was given.
func (ff *filterFlags) set() bool {
	return len(ff.Statuses) > 0 || len(ff.Types) > 0 || ff.Since != "" || ff.Until != "" || ff.Older != "" || ff.User != ""
}

// filter validates the flags into a store.Filter. Bad values are usage
// errors, caught before the store is opened.
func (ff *filterFlags) filter(now time.Time) (store.Filter, error) {
	var f store.Filter
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
