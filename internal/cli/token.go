package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/auth"
	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// NewCmdToken builds `jobctl token create|list|revoke`.
func NewCmdToken(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "API tokens for jobctl serve's REST API: create, list, revoke",
		Long: `An API token lets a script call jobctl serve's REST API as an account:
  curl -H "Authorization: Bearer $TOKEN" https://jobs.example.com/api/admin/jobs
It has the account's role. Only a hash of it is stored, so it is shown
once, when created; a lost token is revoked and replaced.`,
		Example: `  jobctl token create ci --user deploy-bot
  jobctl token list --user deploy-bot
  jobctl token revoke ci`,
	}
	cmd.AddCommand(NewCmdTokenCreate(f, nil), NewCmdTokenList(f, nil), NewCmdTokenRevoke(f, nil))
	return parentCommand(cmd)
}

// TokenCreateOptions are `jobctl token create`'s inputs.
type TokenCreateOptions struct {
	IO       *render.IO
	Accounts func(context.Context) (store.Accounts, error)
	Name     string
	Account  string
	// Actor is who the audit row names (--as, else the OS user).
	Actor string
}

// NewCmdTokenCreate builds `jobctl token create`.
func NewCmdTokenCreate(f *cmdutil.Factory, runF func(context.Context, *TokenCreateOptions) error) *cobra.Command {
	opts := &TokenCreateOptions{IO: f.IO, Accounts: accountsOf(f.Store)}
	cmd := &cobra.Command{
		Use:   "create NAME --user ACCOUNT",
		Short: "Create an API token for an account and print it, once",
		Long: `Create an API token called NAME for ACCOUNT and print it on stdout. It is
shown this once: jobctl keeps only its hash. Piped, stdout is the token
alone, for a secret store.`,
		Example: `  jobctl token create ci --user deploy-bot
  jobctl token create ci --user deploy-bot | vault kv put secret/jobctl token=-`,
		Args: exactArgs(1, "a token NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name, opts.Actor = args[0], f.ActorName()
			if err := auth.CheckName(opts.Name); err != nil {
				return cmdutil.FlagErrorf("token %v", err)
			}
			if opts.Account == "" {
				return cmdutil.FlagErrorf("token create needs --user ACCOUNT: the account the token acts as")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tokenCreateRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Account, "user", "", "the account the token acts as")
	_ = cmd.RegisterFlagCompletionFunc("user", completeAccounts(f, false))
	return cmd
}

func tokenCreateRun(ctx context.Context, opts *TokenCreateOptions) error {
	st, err := opts.Accounts(ctx)
	if err != nil {
		return err
	}
	secret, t, err := auth.New(st, auth.Options{}).CreateToken(ctx, opts.Name, opts.Account, opts.Actor)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return noAccount(opts.Account)
	case errors.Is(err, store.ErrExists):
		return fmt.Errorf("token %s already exists; revoke it first with `jobctl token revoke %s`", opts.Name, opts.Name)
	case err != nil:
		return err
	}
	opts.IO.Printf("%s\n", secret)
	opts.IO.Warnf("Created token %s for %s. Copy it now: it will not be shown again.\n", t.Name, t.Account)
	return nil
}

// TokenListOptions are `jobctl token list`'s inputs.
type TokenListOptions struct {
	IO       *render.IO
	Accounts func(context.Context) (store.Accounts, error)
	Format   render.Format
	// Account limits the list to one account's tokens.
	Account string
}

// NewCmdTokenList builds `jobctl token list`.
func NewCmdTokenList(f *cmdutil.Factory, runF func(context.Context, *TokenListOptions) error) *cobra.Command {
	opts := &TokenListOptions{IO: f.IO, Accounts: accountsOf(f.Store)}
	cmd := &cobra.Command{
		Use:     "list [--user ACCOUNT]",
		Aliases: []string{"ls"},
		Short:   "List API tokens (never the tokens themselves) with their last use",
		Example: `  jobctl token list
  jobctl token list --user deploy-bot -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tokenListRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Account, "user", "", "only this account's tokens")
	_ = cmd.RegisterFlagCompletionFunc("user", completeAccounts(f, false))
	cmdutil.SetFormats(cmd, cmdutil.DataFormats...)
	return cmd
}

// tokenJSON is a token fit for -o json: its prefix, never its hash.
type tokenJSON struct {
	Name       string       `json:"name"`
	Account    string       `json:"account"`
	Prefix     string       `json:"prefix"`
	CreatedAt  render.Time  `json:"createdAt"`
	LastUsedAt *render.Time `json:"lastUsedAt"`
}

func tokenListRun(ctx context.Context, opts *TokenListOptions) error {
	st, err := opts.Accounts(ctx)
	if err != nil {
		return err
	}
	ts, err := st.ListTokens(ctx, opts.Account)
	if errors.Is(err, store.ErrNotFound) {
		return noAccount(opts.Account)
	}
	if err != nil {
		return err
	}
	if opts.Format != render.FormatTable && opts.Format != render.FormatWide {
		out := make([]tokenJSON, len(ts))
		for i, t := range ts {
			out[i] = tokenJSON{Name: t.Name, Account: t.Account, Prefix: t.Prefix, CreatedAt: render.Time(t.CreatedAt), LastUsedAt: render.TimePtr(t.LastUsedAt)}
		}
		return opts.IO.Encode(opts.Format, out)
	}
	if len(ts) == 0 {
		opts.IO.Warnf("No API tokens\n")
		return nil
	}
	rows := make([][]string, len(ts))
	for i, t := range ts {
		used := "never"
		if t.LastUsedAt != nil {
			used = opts.IO.TimeCell(*t.LastUsedAt)
		}
		rows[i] = []string{render.Inert(t.Name), render.Inert(t.Account), render.Inert(t.Prefix), opts.IO.TimeCell(t.CreatedAt), used}
	}
	opts.IO.Table([]string{"NAME", "ACCOUNT", "PREFIX", "CREATED", "LAST USED"}, rows)
	return nil
}

// TokenRevokeOptions are `jobctl token revoke`'s inputs.
type TokenRevokeOptions struct {
	IO       *render.IO
	Accounts func(context.Context) (store.Accounts, error)
	Name     string
	// Actor is who the audit row names (--as, else the OS user).
	Actor string
}

// NewCmdTokenRevoke builds `jobctl token revoke`. It does not ask: a
// leaked token is revoked in a hurry, and a wrongly revoked one costs a
// `token create`.
func NewCmdTokenRevoke(f *cmdutil.Factory, runF func(context.Context, *TokenRevokeOptions) error) *cobra.Command {
	opts := &TokenRevokeOptions{IO: f.IO, Accounts: accountsOf(f.Store)}
	return &cobra.Command{
		ValidArgsFunction: completeTokens(f),
		Use:               "revoke NAME",
		Aliases:           []string{"rm"},
		Short:             "Revoke an API token: requests bearing it are refused at once",
		Example:           `  jobctl token revoke ci`,
		Args:              exactArgs(1, "a token NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name, opts.Actor = args[0], f.ActorName()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tokenRevokeRun(cmd.Context(), opts)
		},
	}
}

func tokenRevokeRun(ctx context.Context, opts *TokenRevokeOptions) error {
	st, err := opts.Accounts(ctx)
	if err != nil {
		return err
	}
	err = st.RevokeToken(ctx, opts.Name, opts.Actor)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no token named %s; see `jobctl token list`", opts.Name)
	}
	if err != nil {
		return err
	}
	opts.IO.Warnf("Revoked token %s\n", opts.Name)
	return nil
}

// completeTokens completes a token name, with its account, from the store.
func completeTokens(f *cmdutil.Factory) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, s, done := completionStore(f)
		defer done()
		if s == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ts, err := s.ListTokens(ctx, "")
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		out := make([]string, len(ts))
		for i, t := range ts {
			out[i] = t.Name + "\t" + t.Account
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
