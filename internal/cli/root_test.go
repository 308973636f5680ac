package cli

import (
	"os"
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
