package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/auth"
	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// accountsOf narrows a store opener to the accounts the user and token
// commands need, so their tests can hand them any store.Accounts.
func accountsOf(open func(context.Context) (store.Store, error)) func(context.Context) (store.Accounts, error) {
	return func(ctx context.Context) (store.Accounts, error) { return open(ctx) }
}

// NewCmdUser builds `jobctl user add|list|rm|passwd`.
func NewCmdUser(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Accounts of the web admin and API: add, list, remove, change passwords",
		Long: `Accounts log in to jobctl serve's web admin and own its API tokens.
Roles, as the guide has them: admin reads, changes and deletes every job;
manager reads and changes every job; user reads, and retries, only the
jobs whose "userId" is the account's --user-id.

Passwords are hashed with argon2id; jobctl never stores or prints them.`,
		Example: `  jobctl user add alice --role admin
  jobctl user add bob --role user --user-id user_123
  jobctl user list
  jobctl user passwd bob
  jobctl user rm bob`,
	}
	cmd.AddCommand(NewCmdUserAdd(f, nil), NewCmdUserList(f, nil), NewCmdUserRemove(f, nil), NewCmdUserPasswd(f, nil))
	return parentCommand(cmd)
}

// UserAddOptions are `jobctl user add`'s inputs.
type UserAddOptions struct {
	IO       *render.IO
	Accounts func(context.Context) (store.Accounts, error)

	Name          string
	Role          store.Role
	UserID        string
	PasswordStdin bool
	// Actor is who the audit row names (--as, else the OS user).
	Actor string
}

// NewCmdUserAdd builds `jobctl user add`.
func NewCmdUserAdd(f *cmdutil.Factory, runF func(context.Context, *UserAddOptions) error) *cobra.Command {
	// Adding the first account is a store's first write, like enqueue:
	// an embedded store that does not exist yet is made.
	opts := &UserAddOptions{IO: f.IO, Accounts: accountsOf(f.StoreCreate)}
	var role string
	cmd := &cobra.Command{
		Use:   "add NAME --role admin|manager|user [--user-id ID]",
		Short: "Add an account, asking for its password",
		Long: `Add an account. The password is asked twice without echo, or read as one
line from stdin with --password-stdin; it needs at least 8 characters.
A name is 1 to 64 of A-Z a-z 0-9 _ . @ -. A user account needs --user-id,
the jobs' "userId" it sees; the other roles see every job and take none.`,
		Example: `  jobctl user add alice --role admin
  jobctl user add bob --role user --user-id user_123
  pass show jobctl/carol | jobctl user add carol --role manager --password-stdin`,
		Args: exactArgs(1, "an account NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name, opts.Actor = args[0], f.ActorName()
			if err := auth.CheckName(opts.Name); err != nil {
				return cmdutil.FlagErrorf("account %v", err)
			}
			r, err := parseRole(role)
			if err != nil {
				return err
			}
			opts.Role = r
			switch {
			case r == store.RoleUser && opts.UserID == "":
				return cmdutil.FlagErrorf("a user account needs --user-id: the jobs' \"userId\" it may see")
			case r != store.RoleUser && opts.UserID != "":
				return cmdutil.FlagErrorf("--user-id is for user accounts: %s sees every job", r)
			}
			if err := checkCanReadPassword(opts.IO, opts.PasswordStdin, "user add"); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return userAddRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&role, "role", "", "admin, manager or user")
	fl.StringVar(&opts.UserID, "user-id", "", `for --role user: the jobs' "userId" the account sees`)
	fl.BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the password from stdin (one line)")
	_ = cmd.RegisterFlagCompletionFunc("role", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{string(store.RoleAdmin), string(store.RoleManager), string(store.RoleUser)}, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func parseRole(s string) (store.Role, error) {
	switch r := store.Role(s); r {
	case store.RoleAdmin, store.RoleManager, store.RoleUser:
		return r, nil
	case "":
		return "", cmdutil.FlagErrorf("user add needs --role admin, manager or user")
	}
	return "", cmdutil.FlagErrorf("unknown role %q (want admin, manager or user)", s)
}

func userAddRun(ctx context.Context, opts *UserAddOptions) error {
	st, err := opts.Accounts(ctx)
	if err != nil {
		return err
	}
	// Refused before the password is typed, not after.
	if _, err := st.GetAccount(ctx, opts.Name); err == nil {
		return accountExists(opts.Name)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	pw, err := readNewPassword(ctx, opts.IO, opts.PasswordStdin)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	a := &store.Account{Name: opts.Name, Role: opts.Role, UserID: opts.UserID, PasswordHash: hash}
	err = st.AddAccount(ctx, a, opts.Actor)
	if errors.Is(err, store.ErrExists) {
		return accountExists(opts.Name)
	}
	if err != nil {
		return err
	}
	if a.Role == store.RoleUser {
		opts.IO.Warnf("Added account %s (%s, user ID %s)\n", a.Name, string(a.Role), a.UserID)
	} else {
		opts.IO.Warnf("Added account %s (%s)\n", a.Name, string(a.Role))
	}
	return nil
}

func accountExists(name string) error {
	return fmt.Errorf("account %s already exists; change its password with `jobctl user passwd %s`", name, name)
}

func noAccount(name string) error {
	return fmt.Errorf("no account named %s; see `jobctl user list`", name)
}

// checkCanReadPassword refuses, before anything is opened, a run that
// could not be given a password: no terminal to ask on and no
// --password-stdin.
func checkCanReadPassword(ios *render.IO, fromStdin bool, cmd string) error {
	if !fromStdin && !ios.CanPrompt() {
		return cmdutil.FlagErrorf("%s asks for the password on a terminal; without one, pass --password-stdin", cmd)
	}
	return nil
}

// maxPasswordInput bounds what --password-stdin reads.
const maxPasswordInput = 4096

// readNewPassword reads a password to set: one line of stdin, or typed
// twice without echo. It refuses one too short.
func readNewPassword(ctx context.Context, ios *render.IO, fromStdin bool) (string, error) {
	var pw string
	if fromStdin {
		b, err := io.ReadAll(io.LimitReader(ios.In, maxPasswordInput))
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		pw, _, _ = strings.Cut(string(b), "\n")
		pw = strings.TrimSuffix(pw, "\r")
	} else {
		var err error
		if pw, err = ios.ReadSecret(ctx, "Password: "); err != nil {
			return "", secretError(err)
		}
		if err := auth.CheckNewPassword(pw); err != nil {
			return "", err // before asking again for a password that cannot do
		}
		again, err := ios.ReadSecret(ctx, "Password (again): ")
		if err != nil {
			return "", secretError(err)
		}
		if again != pw {
			return "", errors.New("the passwords do not match; nothing changed")
		}
	}
	if err := auth.CheckNewPassword(pw); err != nil {
		return "", fmt.Errorf("%w; nothing changed", err)
	}
	return pw, nil
}

// secretError: Ctrl-C at the prompt exits 130, as a cancelled question
// does; the end of input says nothing was typed.
func secretError(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return &cmdutil.ExitError{Code: 130, Err: errors.New("interrupted; nothing changed")}
	case errors.Is(err, render.ErrNoAnswer):
		return errors.New("no password given; nothing changed")
	}
	return err
}

// UserListOptions are `jobctl user list`'s inputs.
type UserListOptions struct {
	IO       *render.IO
	Accounts func(context.Context) (store.Accounts, error)
	Format   render.Format
}

// NewCmdUserList builds `jobctl user list`.
func NewCmdUserList(f *cmdutil.Factory, runF func(context.Context, *UserListOptions) error) *cobra.Command {
	opts := &UserListOptions{IO: f.IO, Accounts: accountsOf(f.Store)}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List accounts with their roles and last logins",
		Example: `  jobctl user list
  jobctl user list -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return userListRun(cmd.Context(), opts)
		},
	}
	cmdutil.SetFormats(cmd, cmdutil.DataFormats...)
	return cmd
}

// accountJSON is an account fit for -o json: never its password hash.
type accountJSON struct {
	Name        string       `json:"name"`
	Role        store.Role   `json:"role"`
	UserID      *string      `json:"userId"`
	CreatedAt   render.Time  `json:"createdAt"`
	UpdatedAt   render.Time  `json:"updatedAt"`
	LastLoginAt *render.Time `json:"lastLoginAt"`
}

func userListRun(ctx context.Context, opts *UserListOptions) error {
	st, err := opts.Accounts(ctx)
	if err != nil {
		return err
	}
	as, err := st.ListAccounts(ctx)
	if err != nil {
		return err
	}
	if opts.Format != render.FormatTable && opts.Format != render.FormatWide {
		out := make([]accountJSON, len(as))
		for i, a := range as {
			out[i] = accountJSON{Name: a.Name, Role: a.Role, UserID: render.Opt(a.UserID),
				CreatedAt: render.Time(a.CreatedAt), UpdatedAt: render.Time(a.UpdatedAt), LastLoginAt: render.TimePtr(a.LastLoginAt)}
		}
		return opts.IO.Encode(opts.Format, out)
	}
	if len(as) == 0 {
		opts.IO.Warnf("No accounts; add one with `jobctl user add NAME --role admin`\n")
		return nil
	}
	rows := make([][]string, len(as))
	for i, a := range as {
		last := "never"
		if a.LastLoginAt != nil {
			last = opts.IO.TimeCell(*a.LastLoginAt)
		}
		rows[i] = []string{render.Inert(a.Name), string(a.Role), orDash(render.Inert(a.UserID)), opts.IO.TimeCell(a.CreatedAt), last}
	}
	opts.IO.Table([]string{"NAME", "ROLE", "USER ID", "CREATED", "LAST LOGIN"}, rows)
	return nil
}

// UserRemoveOptions are `jobctl user rm`'s inputs.
type UserRemoveOptions struct {
	IO       *render.IO
	Accounts func(context.Context) (store.Accounts, error)
	Name     string
	Yes      bool
	// Actor is who the audit row names (--as, else the OS user).
	Actor string
}

// NewCmdUserRemove builds `jobctl user rm`.
func NewCmdUserRemove(f *cmdutil.Factory, runF func(context.Context, *UserRemoveOptions) error) *cobra.Command {
	opts := &UserRemoveOptions{IO: f.IO, Accounts: accountsOf(f.Store)}
	cmd := &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"remove"},
		Short:   "Remove an account, ending its sessions and revoking its tokens",
		Example: `  jobctl user rm bob
  jobctl user rm bob --yes`,
		Args: exactArgs(1, "an account NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name, opts.Actor = args[0], f.ActorName()
			if !opts.Yes && !opts.IO.CanPrompt() {
				return cmdutil.FlagErrorf("user rm cannot be undone: pass --yes to run it without a terminal")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return userRemoveRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation (needed without a terminal)")
	cmd.ValidArgsFunction = completeAccounts(f, true)
	return cmd
}

func userRemoveRun(ctx context.Context, opts *UserRemoveOptions) error {
	st, err := opts.Accounts(ctx)
	if err != nil {
		return err
	}
	a, err := st.GetAccount(ctx, opts.Name)
	if errors.Is(err, store.ErrNotFound) {
		return noAccount(opts.Name)
	}
	if err != nil {
		return err
	}
	if !opts.Yes {
		tokens, err := st.ListTokens(ctx, a.Name)
		if err != nil {
			return err
		}
		var then string
		switch len(tokens) {
		case 0:
			then = "Its sessions end."
		case 1:
			then = "Its sessions end and its API token is revoked."
		default:
			then = fmt.Sprintf("Its sessions end and its %s are revoked.", render.CountOf(int64(len(tokens)), "API token"))
		}
		q := fmt.Sprintf("Remove account %s (%s)? %s", a.Name, a.Role, then)
		if err := confirmOrAbort(ctx, opts.IO, q); err != nil {
			return err
		}
	}
	err = st.RemoveAccount(ctx, opts.Name, opts.Actor)
	if errors.Is(err, store.ErrNotFound) {
		return noAccount(opts.Name)
	}
	if err != nil {
		return err
	}
	opts.IO.Warnf("Removed account %s\n", opts.Name)
	return nil
}

// confirmOrAbort asks q and returns nil only for a yes: no, Enter or the
// end of input exit 1 and Ctrl-C 130, each saying nothing changed. Every
// question jobctl asks before a change goes through it.
func confirmOrAbort(ctx context.Context, ios *render.IO, q string) error {
	yes, err := ios.Confirm(ctx, q)
	switch {
	case yes:
		return nil
	case ctx.Err() != nil:
		ios.Warnf(aborted)
		return &cmdutil.ExitError{Code: exitInterrupted}
	case err != nil && !errors.Is(err, render.ErrNoAnswer):
		return err
	}
	ios.Warnf(aborted)
	return cmdutil.ErrSilent
}

// UserPasswdOptions are `jobctl user passwd`'s inputs.
type UserPasswdOptions struct {
	IO            *render.IO
	Accounts      func(context.Context) (store.Accounts, error)
	Name          string
	PasswordStdin bool
	// Actor is who the audit row names (--as, else the OS user).
	Actor string
}

// NewCmdUserPasswd builds `jobctl user passwd`.
func NewCmdUserPasswd(f *cmdutil.Factory, runF func(context.Context, *UserPasswdOptions) error) *cobra.Command {
	opts := &UserPasswdOptions{IO: f.IO, Accounts: accountsOf(f.Store)}
	cmd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Change an account's password, ending its sessions",
		Long: `Change an account's password. It is asked twice without echo, or read as
one line from stdin with --password-stdin. Every browser logged in as the
account is logged out; its API tokens keep working.`,
		Example: `  jobctl user passwd bob
  pass show jobctl/bob | jobctl user passwd bob --password-stdin`,
		Args: exactArgs(1, "an account NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name, opts.Actor = args[0], f.ActorName()
			if err := checkCanReadPassword(opts.IO, opts.PasswordStdin, "user passwd"); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return userPasswdRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the password from stdin (one line)")
	cmd.ValidArgsFunction = completeAccounts(f, true)
	return cmd
}

func userPasswdRun(ctx context.Context, opts *UserPasswdOptions) error {
	st, err := opts.Accounts(ctx)
	if err != nil {
		return err
	}
	if _, err := st.GetAccount(ctx, opts.Name); errors.Is(err, store.ErrNotFound) {
		return noAccount(opts.Name)
	} else if err != nil {
		return err
	}
	pw, err := readNewPassword(ctx, opts.IO, opts.PasswordStdin)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	err = st.SetPassword(ctx, opts.Name, hash, opts.Actor)
	if errors.Is(err, store.ErrNotFound) {
		return noAccount(opts.Name)
	}
	if err != nil {
		return err
	}
	opts.IO.Warnf("Changed the password of %s; its sessions have ended\n", opts.Name)
	return nil
}

// completeAccounts completes an account name, with its role, from the
// store: for an argument (once) or a flag.
func completeAccounts(f *cmdutil.Factory, isArg bool) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if isArg && len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, s, done := completionStore(f)
		defer done()
		if s == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		as, err := s.ListAccounts(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		out := make([]string, len(as))
		for i, a := range as {
			out[i] = a.Name + "\t" + string(a.Role)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
