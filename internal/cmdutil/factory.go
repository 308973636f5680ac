package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"time"

	"github.com/jobctl/jobctl/internal/config"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// Factory holds what commands depend on. The store opens lazily, on the
// first command that needs it, so --help and usage errors never connect.
type Factory struct {
	IO     *render.IO
	Getenv func(string) string
	Now    func() time.Time

	// Global flag values, bound by the root command.
	DBFlag     string
	SchemaFlag string
	ConfigFlag string
	Output     string
	Quiet      bool
	NoColor    bool
	Actor      string

	store store.Store
}

// NewFactory returns a factory over the given streams and environment.
func NewFactory(ios *render.IO, getenv func(string) string) *Factory {
	return &Factory{IO: ios, Getenv: getenv, Now: time.Now}
}

// DSN is the store the flags and environment select.
func (f *Factory) DSN() DSN { return ResolveDSN(f.DBFlag, f.Getenv) }

// Schema is the Postgres schema: --schema, else JOBCTL_SCHEMA, else "" (the
// connection's search_path).
func (f *Factory) Schema() string {
	if f.SchemaFlag != "" {
		return f.SchemaFlag
	}
	return f.Getenv("JOBCTL_SCHEMA")
}

// OpenStore opens an existing store without checking its schema: for
// health, serve and migrate status.
func (f *Factory) OpenStore(ctx context.Context) (store.Store, error) {
	return f.OpenStoreWith(ctx, OpenOptions{})
}

// OpenStoreWith opens the store as o allows, without checking its schema.
// The first call opens it; later ones return the same store.
func (f *Factory) OpenStoreWith(ctx context.Context, o OpenOptions) (store.Store, error) {
	if f.store == nil {
		d := f.DSN()
		o.Upgrading = func(from, to int) {
			// The first command after an upgrade of jobctl may rebuild
			// indexes of a large store: seconds that should not pass in
			// silence.
			f.IO.Warnf("Upgrading the schema of %s (from %s) from version %d to %d…\n", d.Redacted(), d.Source, from, to)
		}
		s, err := OpenStore(ctx, d, f.Schema(), o, f.Getenv)
		if err != nil {
			return nil, err
		}
		f.store = s
	}
	return f.store, nil
}

// Store opens an existing store and checks that its schema is the one this
// binary knows: for every command that reads or acts on jobs. It never
// creates a store. Postgres is never migrated implicitly; a SQLite store
// behind this jobctl migrated itself on open.
func (f *Factory) Store(ctx context.Context) (store.Store, error) {
	return f.checked(ctx, OpenOptions{})
}

// StoreCreate is Store for the commands that write the first jobs or
// schedules (enqueue, worker run, schedule add, demo): a SQLite store that
// does not exist yet is created.
func (f *Factory) StoreCreate(ctx context.Context) (store.Store, error) {
	return f.checked(ctx, OpenOptions{Create: true})
}

func (f *Factory) checked(ctx context.Context, o OpenOptions) (store.Store, error) {
	s, err := f.OpenStoreWith(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := s.CheckSchema(ctx); err != nil {
		// A login the grants keep from reading the schema's version hears
		// what the command's own operation needs, which the operation
		// declares, rather than what reading the version needs.
		var pe *store.PermissionError
		if errors.As(err, &pe) {
			return s, nil
		}
		d := f.DSN()
		if errors.Is(err, store.ErrNotMigrated) {
			where := ""
			if schema := f.Schema(); schema != "" && d.IsPostgres() {
				where = fmt.Sprintf(", schema %q,", schema)
			}
			return nil, fmt.Errorf("store %s (from %s)%s is not migrated to this jobctl's schema: run `jobctl migrate`", d.Redacted(), d.Source, where)
		}
		return nil, fmt.Errorf("store %s (from %s): %w", d.Redacted(), d.Source, err)
	}
	return s, nil
}

// Config loads the config file: --config, else JOBCTL_CONFIG, else
// ./jobctl.yaml. The error wraps config.ErrNoConfig when there is none.
func (f *Factory) Config() (*config.Config, error) {
	path, err := config.Find(f.ConfigFlag, f.Getenv)
	if err != nil {
		return nil, err
	}
	return config.Load(path)
}

// Close closes the store if a command opened it.
func (f *Factory) Close() {
	if f.store != nil {
		_ = f.store.Close()
	}
}

// Format parses -o. The root command has already checked it against the
// running command's declared formats (CheckFormat).
func (f *Factory) Format() (render.Format, error) {
	ff, err := render.ParseFormat(f.Output)
	if err != nil {
		return "", &FlagError{Err: err}
	}
	return ff, nil
}

// ActorName is who the audit log records: --as, else the OS user.
func (f *Factory) ActorName() string {
	if f.Actor != "" {
		return f.Actor
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}
