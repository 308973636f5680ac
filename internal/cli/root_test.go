package cli

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/render"
)

// Every command's --help shows an example (DESIGN §6), and a short line.
func TestEveryCommandHasAnExample(t *testing.T) {
	ios, _, _, _ := render.Test(false, false)
	root := NewCmdRoot(cmdutil.NewFactory(ios, os.Getenv))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		if c.Example == "" {
			t.Errorf("%q has no example in its --help", c.CommandPath())
		}
		if c.Short == "" {
			t.Errorf("%q has no short description", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// Each command's -o help, completion and validation come from the one list
// it declares: for every command, completing -o gives exactly that list,
// --help shows it, and a format outside it is a usage error before the
// command runs.
func TestFormatsDeclaredOnce(t *testing.T) {
	ios, _, _, _ := render.Test(false, false)
	root := NewCmdRoot(cmdutil.NewFactory(ios, func(string) string { return "" }))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c == root || c.Hidden || c.Name() == "help" {
			return
		}
		path := strings.Fields(c.CommandPath())[1:]
		allowed := cmdutil.FormatNames(c)

		ios, _, out, _ := render.Test(false, false)
		r := NewCmdRoot(cmdutil.NewFactory(ios, func(string) string { return "" }))
		r.SetArgs(append(append([]string{cobra.ShellCompRequestCmd}, path...), "-o", ""))
		if err := r.Execute(); err != nil {
			t.Fatal(err)
		}
		if got, want := out.String(), strings.Join(allowed, "\n")+"\n:4\n"; got != want {
			t.Errorf("%s: -o completes to %q; want %q", c.CommandPath(), got, want)
		}

		ios, _, out, _ = render.Test(false, false)
		r = NewCmdRoot(cmdutil.NewFactory(ios, func(string) string { return "" }))
		r.SetArgs(append(path, "--help"))
		if err := r.Execute(); err != nil {
			t.Fatal(err)
		}
		if want := "output format: " + strings.Join(allowed, "|") + " "; !strings.Contains(out.String(), want) {
			t.Errorf("%s --help does not say %q", c.CommandPath(), want)
		}

		for _, ff := range render.Formats {
			if slices.Contains(allowed, ff) {
				continue
			}
			ios, _, _, _ = render.Test(false, false)
			r = NewCmdRoot(cmdutil.NewFactory(ios, func(string) string { return "" }))
			args := append(slices.Clone(path), "-o", ff)
			if c.Args != nil && c.Args(c, nil) != nil {
				args = append(args, "x") // a command that needs an argument checks it first
			}
			r.SetArgs(args)
			err := r.Execute()
			if err == nil || !cmdutil.IsUsageError(err) || !strings.Contains(err.Error(), "not \""+ff+"\"") {
				t.Errorf("%s -o %s: %v; want a usage error refusing %s", c.CommandPath(), ff, err, ff)
			}
		}
	}
	walk(root)
}
