// Package cli holds jobctl's commands. Each is built by a NewCmdX function
// from the shared factory, with its flag values and dependencies in an
// XOptions struct, so tests can run it against a real store and captured
// streams.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/render"
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// Main runs jobctl with args and returns the process's exit code.
func Main(args []string) int {
	ios := render.System()
	f := cmdutil.NewFactory(ios, os.Getenv)
	defer f.Close()
	// The first Ctrl-C or SIGTERM cancels the context: bulk work stops
	// between batches, each batch either done or untouched.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := NewCmdRoot(f)
	root.SetArgs(args)
	defer startCPUProfile(ios.ErrOut)()
	return cmdutil.HandleError(ios, rootError(root.ExecuteContext(ctx)))
}

// startCPUProfile is a hidden switch for profiling any command (bench,
// README): JOBCTL_CPUPROFILE=FILE writes the CPU profile of the whole run
// to FILE when the command ends. It returns what stops the profile.
func startCPUProfile(errOut io.Writer) (stop func()) {
	path := os.Getenv("JOBCTL_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	pf, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(pf)
	}
	if err != nil {
		fmt.Fprintf(errOut, "warning: JOBCTL_CPUPROFILE: %v\n", err)
		if pf != nil {
			pf.Close()
		}
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); pf.Close() }
}

// NewCmdRoot builds the command tree.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "jobctl <command>",
		Short: "Operate a database-backed job queue: see what failed, why, and fix it safely",
		Long: `jobctl is the operator console and the worker for a database-backed job queue.

The store is PostgreSQL (--db postgres://…) or an embedded SQLite file
(the default, ~/.local/share/jobctl/jobs.db). It is chosen by --db, else
JOBCTL_DATABASE_URL, else DATABASE_URL, else the embedded default.`,
		Example: `  jobctl list --status dead --since 1h
  jobctl show job_01jd8x6r3e
  jobctl enqueue CalendarSync --data '{"userId":"user_123"}'`,
		Version:       buildInfo().Version,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if f.NoColor {
				f.IO.DisableColor()
			}
			return f.CheckFormat(cmd)
		},
	}
	// --version prints what `jobctl version` prints.
	root.SetVersionTemplate(versionLine(buildInfo()))
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(cmdutil.FlagErrorFunc)

	pf := root.PersistentFlags()
	pf.StringVar(&f.DBFlag, "db", "", "store DSN: postgres://…, host=… dbname=…, sqlite:PATH or a file path (default: $JOBCTL_DATABASE_URL, $DATABASE_URL, then ~/.local/share/jobctl/jobs.db)")
	pf.StringVar(&f.SchemaFlag, "schema", "", "Postgres schema holding jobctl's tables (default: $JOBCTL_SCHEMA, else the connection's search_path)")
	pf.StringVar(&f.ConfigFlag, "config", "", "config file (default: $JOBCTL_CONFIG, else ./jobctl.yaml)")
	pf.StringVarP(&f.Output, "output", "o", "table", "output format (each command's --help lists its own)")
	pf.BoolVarP(&f.Quiet, "quiet", "q", false, "print only job IDs, one a line")
	pf.BoolVar(&f.NoColor, "no-color", false, "disable colour and icons (also: NO_COLOR=1)")
	pf.StringVar(&f.Actor, "as", "", "actor recorded in the audit log (default: the OS user)")
	_ = root.RegisterFlagCompletionFunc("output", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		return cmdutil.FormatNames(cmd), cobra.ShellCompDirectiveNoFileComp
	})
	// -o is one global flag, but its help names the formats of the command
	// asked about.
	help := root.HelpFunc()
	root.SetHelpFunc(func(cmd *cobra.Command, args []string) {
		if o := root.PersistentFlags().Lookup("output"); o != nil && cmd.HasParent() {
			o.Usage = cmdutil.FormatUsage(cmd)
		}
		help(cmd, args)
	})

	root.AddCommand(
		NewCmdEnqueue(f, nil),
		NewCmdList(f, nil),
		NewCmdShow(f, nil),
		NewCmdDashboard(f, nil),
		NewCmdRetry(f, nil), NewCmdCancel(f, nil), NewCmdStart(f, nil), NewCmdDelete(f, nil),
		NewCmdPurge(f, nil), NewCmdArchive(f, nil), NewCmdAudit(f, nil),
		NewCmdHealth(f, nil), NewCmdStats(f, nil),
		NewCmdMigrate(f),
		NewCmdWorker(f),
		NewCmdServe(f, nil),
		NewCmdSchedule(f),
		NewCmdUser(f), NewCmdToken(f),
		NewCmdDemo(f),
		NewCmdVersion(f),
	)
	registerCompletions(root, f)
	// cobra adds `completion` as the command runs; made now, it is listed
	// in the help and refuses an unknown shell like any parent command.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			parentCommand(c)
		}
	}
	return root
}

// parentCommand makes cmd, which only groups subcommands, print its help
// when given none (exit 0) and refuse an unknown one as a usage error,
// where cobra would print the help and exit 0.
func parentCommand(cmd *cobra.Command) *cobra.Command {
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return unknownCommand(c, args[0])
		}
		return nil
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	return cmd
}

// unknownCommand is the usage error for an argument that names no
// subcommand of cmd, with cobra's suggestion on lines of its own.
func unknownCommand(cmd *cobra.Command, arg string) error {
	err := &cmdutil.FlagError{Err: fmt.Errorf("unknown command %q for %q", arg, cmd.CommandPath())}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default, set only on its own path
	}
	if s := cmd.SuggestionsFor(arg); len(s) > 0 {
		err.Hint = "Did you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return err
}

// rootError gives cobra's own unknown-command error at the top level the
// shape unknownCommand gives it below: one line, then the suggestion.
func rootError(err error) error {
	var fe *cmdutil.FlagError
	var ee *cmdutil.ExitError // health's usage errors keep their exit 3
	if err == nil || errors.As(err, &fe) || errors.As(err, &ee) {
		return err
	}
	msg, hint, _ := strings.Cut(err.Error(), "\n")
	if !strings.HasPrefix(msg, "unknown command ") {
		return err
	}
	return &cmdutil.FlagError{Err: errors.New(msg), Hint: strings.TrimSpace(hint)}
}

// exactArgs is cobra.ExactArgs with a usage error that says what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return cmdutil.FlagErrorf("%s needs %s (see '%s --help')", cmd.CommandPath(), what, cmd.CommandPath())
		}
		return nil
	}
}
