package cmdutil

import (
	"errors"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/jobctl/jobctl/internal/render"
)

func TestDurationFlag(t *testing.T) {
	for _, tt := range []struct {
		arg  string
		want time.Duration
	}{
		{"90s", 90 * time.Second}, {"1h", time.Hour}, {"30d", 30 * 24 * time.Hour},
		{"1w", 7 * 24 * time.Hour}, {"1h30m", 90 * time.Minute}, {"0", 0},
	} {
		fl := pflag.NewFlagSet("t", pflag.ContinueOnError)
		var d time.Duration
		DurationVar(fl, &d, "timeout", time.Second, "")
		if err := fl.Parse([]string{"--timeout", tt.arg}); err != nil || d != tt.want {
			t.Errorf("--timeout %s = %v, %v; want %v", tt.arg, d, err, tt.want)
		}
	}
	fl := pflag.NewFlagSet("t", pflag.ContinueOnError)
	var d time.Duration
	DurationVarP(fl, &d, "watch", "w", 60*time.Second, "")
	if d != time.Minute || fl.Lookup("watch").DefValue != "1m" {
		t.Errorf("default = %v shown as %q; want 1m0s shown as 1m", d, fl.Lookup("watch").DefValue)
	}
}

func TestFormatFlagDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second: "1s", time.Minute: "1m", time.Hour: "1h", 90 * time.Minute: "1h30m",
		90 * time.Second: "1m30s", 500 * time.Millisecond: "500ms", 0: "0s",
	} {
		if got := FormatFlagDuration(d); got != want {
			t.Errorf("FormatFlagDuration(%v) = %q; want %q", d, got, want)
		}
	}
}

func TestFlagErrorFunc(t *testing.T) {
	root := &cobra.Command{Use: "jobctl"}
	list := &cobra.Command{Use: "list", Run: func(*cobra.Command, []string) {}}
	root.AddCommand(list)
	var n int
	var b bool
	var d time.Duration
	list.Flags().IntVarP(&n, "limit", "l", 0, "")
	list.Flags().BoolVar(&b, "archived", false, "")
	DurationVarP(list.Flags(), &d, "watch", "w", 0, "")
	for _, tt := range []struct {
		args       []string
		want, hint string
	}{
		{[]string{"--limit", "abc"}, `--limit: "abc" is not a number`, ""},
		{[]string{"-l", "abc"}, `--limit: "abc" is not a number`, ""},
		{[]string{"--limit", "99999999999999999999"}, `--limit: "99999999999999999999" is out of range`, ""},
		{[]string{"--archived=maybe"}, `--archived: "maybe" is not true or false`, ""},
		{[]string{"-w", "1x"}, `--watch: invalid duration "1x" (use e.g. 90s, 10m, 1h, 30d)`, ""},
		{[]string{"--foo"}, "unknown flag: --foo", "See 'jobctl list --help'."},
		{[]string{"-z"}, "unknown shorthand flag: 'z' in -z", "See 'jobctl list --help'."},
		{[]string{"--limit"}, "flag needs an argument: --limit", "See 'jobctl list --help'."},
	} {
		err := FlagErrorFunc(list, list.ParseFlags(tt.args))
		var fe *FlagError
		if !errors.As(err, &fe) || fe.Error() != tt.want || fe.Hint != tt.hint {
			t.Errorf("%v: %#v; want %q with hint %q", tt.args, err, tt.want, tt.hint)
		}
	}
}

func TestCheckFormat(t *testing.T) {
	root := &cobra.Command{Use: "jobctl"}
	show := &cobra.Command{Use: "show"}
	SetFormats(show, render.FormatTable, render.FormatJSON, render.FormatYAML)
	plain := &cobra.Command{Use: "serve"}
	root.AddCommand(show, plain)
	f := &Factory{}
	for _, tt := range []struct {
		cmd    *cobra.Command
		output string
		want   string
	}{
		{show, "json", ""},
		{show, "YAML", ""},
		{show, "", ""},
		{show, "wide", `show prints table, json or yaml, not "wide" (see 'jobctl show --help')`},
		{show, "bogus", `show prints table, json or yaml, not "bogus" (see 'jobctl show --help')`},
		{plain, "table", ""},
		{plain, "json", `serve prints table, not "json" (see 'jobctl serve --help')`},
	} {
		f.Output = tt.output
		err := f.CheckFormat(tt.cmd)
		got := ""
		if err != nil {
			got = err.Error()
			var fe *FlagError
			if !errors.As(err, &fe) {
				t.Errorf("%s -o %s: %v is not a usage error", tt.cmd.Name(), tt.output, err)
			}
		}
		if got != tt.want {
			t.Errorf("%s -o %s: %q; want %q", tt.cmd.Name(), tt.output, got, tt.want)
		}
	}
	if got := FormatUsage(show); got != "output format: table|json|yaml" {
		t.Errorf("FormatUsage = %q", got)
	}
}
