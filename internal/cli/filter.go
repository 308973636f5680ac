package cli

import (
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
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

// input is the flags as ops reads a filter: an empty element of --status
// or --type, which the list dropped, comes back as "" so ops refuses it.
func (ff *filterFlags) input() ops.FilterInput {
	in := ops.FilterInput{Since: ff.Since, Until: ff.Until, Older: ff.Older, User: ff.User, Given: map[string]bool{}}
	in.Statuses = append([]string(nil), ff.Statuses...)
	in.Types = append([]string(nil), ff.Types...)
	for name, l := range ff.lists {
		if l.empty {
			in.Given[name] = true
			if name == "status" {
				in.Statuses = append(in.Statuses, "")
			} else {
				in.Types = append(in.Types, "")
			}
		}
	}
	for _, name := range []string{"since", "until", "older", "user"} {
		if ff.changed != nil && ff.changed(name) {
			in.Given[name] = true
		}
	}
	return in
}

// checkEmpty refuses a filter flag given an empty value (`--type ""`,
// `--older "$UNSET"`, `--type a,`). Read as "no filter", such a flag would
// widen a bulk action to every job, so it is a usage error naming the flag.
func (ff *filterFlags) checkEmpty() error {
	return flagError(ops.CheckEmpty(ff.input()))
}

// set reports whether any filter flag was given.
func (ff *filterFlags) set() bool {
	return len(ff.Statuses) > 0 || len(ff.Types) > 0 || ff.Since != "" || ff.Until != "" || ff.Older != "" || ff.User != ""
}

// filter validates the flags into a store.Filter with ops's one grammar.
// Bad values are usage errors, caught before the store is opened.
func (ff *filterFlags) filter(now time.Time) (store.Filter, error) {
	f, err := ops.ParseFilter(ff.input(), now)
	return f, flagError(err)
}

// flagError turns an ops refusal of the input into a usage error that
// names the flags as flags ("--since"); other errors pass through.
func flagError(err error) error {
	var e *ops.Error
	if !errors.As(err, &e) {
		return err
	}
	msg := e.In(flagName)
	if e.Code == ops.CodeInvalid || e.Code == ops.CodeUnprocessable {
		return &cmdutil.FlagError{Err: errors.New(msg)}
	}
	return errors.New(msg)
}

// flagName is the flag an ops input field is given by: batchSize is
// --batch-size.
func flagName(field string) string {
	var b strings.Builder
	b.WriteString("--")
	for _, r := range field {
		if unicode.IsUpper(r) {
			b.WriteByte('-')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
