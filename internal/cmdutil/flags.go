package cmdutil

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/jobctl/jobctl/internal/when"
)

// durationValue is a duration flag in jobctl's one grammar (when's: 90s,
// 1h, 30d, 1w), not Go's, which knows no days.
type durationValue time.Duration

func (d *durationValue) Set(s string) error {
	v, err := when.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}

func (d *durationValue) Type() string { return "duration" }

func (d *durationValue) String() string { return FormatFlagDuration(time.Duration(*d)) }

// FormatFlagDuration writes a duration the way the flags take it: 1m, not
// Go's 1m0s.
func FormatFlagDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// DurationVarP declares a duration flag that takes 90s, 1h, 30d or 1w.
func DurationVarP(fl *pflag.FlagSet, p *time.Duration, name, short string, def time.Duration, usage string) {
	*p = def
	fl.VarP((*durationValue)(p), name, short, usage)
}

// DurationVar is DurationVarP without a shorthand.
func DurationVar(fl *pflag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	DurationVarP(fl, p, name, "", def, usage)
}

// pflag words a bad value as `invalid argument "abc" for "-l, --limit"
// flag: strconv.ParseInt: …`.
var invalidArgument = regexp.MustCompile(`^invalid argument "((?:[^"\\]|\\.)*)" for "(?:-., )?(--[^"]+)" flag: (.*)$`)

// FlagErrorFunc turns pflag's errors into usage errors a person can read:
// `--limit: "abc" is not a number` rather than strconv's words, and an
// unknown flag points at the command's --help.
func FlagErrorFunc(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if m := invalidArgument.FindStringSubmatch(msg); m != nil {
		value, name, why := m[1], m[2], m[3]
		switch {
		case strings.Contains(why, "strconv.") && strings.Contains(why, "value out of range"):
			why = fmt.Sprintf("%q is out of range", value)
		case strings.Contains(why, "strconv.Parse"):
			kind := "a number"
			if strings.Contains(why, "ParseBool") {
				kind = "true or false"
			}
			why = fmt.Sprintf("%q is not %s", value, kind)
		}
		return &FlagError{Err: fmt.Errorf("%s: %s", name, why)}
	}
	if strings.HasPrefix(msg, "unknown flag") || strings.HasPrefix(msg, "unknown shorthand flag") || strings.HasPrefix(msg, "flag needs an argument") {
		return &FlagError{Err: errors.New(msg), Hint: fmt.Sprintf("See '%s --help'.", cmd.CommandPath())}
	}
	return &FlagError{Err: err}
}
