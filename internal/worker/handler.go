package worker

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jobctl/jobctl/internal/config"
	"github.com/jobctl/jobctl/internal/store"
)

// Handler runs one attempt of a job. A nil error completes the job with
// output (nil for none); a *JobError says what failed.
type Handler interface {
	Run(ctx context.Context, j *store.Job) (output json.RawMessage, err error)
}

// JobError is a failed attempt as the handler reports it.
type JobError struct {
	Code    string
	Message string
	Stack   string
	// Retryable, when set, is the handler's own verdict (exit 75, HTTP
	// 503) and overrides the type's list of retryable codes. Codes the
	// guide never retries stay unretried.
	Retryable *bool
}

func (e *JobError) Error() string { return e.Code + ": " + e.Message }

func yes() *bool { t := true; return &t }
func no() *bool  { f := false; return &f }

// Env is what handlers get from the worker besides the job.
type Env struct {
	// DSN is the store's DSN, passed as JOBCTL_DATABASE_URL to the exec
	// handlers of types whose config sets passDatabaseURL.
	DSN string
	// Schema is the Postgres schema, passed with it as JOBCTL_SCHEMA when
	// set.
	Schema string
	// Supervisor is the binary that supervises exec handlers (jobctl's own,
	// supervise.Executable); exec handlers need one.
	Supervisor string
}

// testSupervisor stands in for an empty Env.Supervisor in this package's
// tests (the test binary dispatches the supervisor in TestMain). It is
// never set outside them: the worker must not run handlers unsupervised.
var testSupervisor string

// NewHandler builds the handler a job type's config names.
func NewHandler(h config.Handler, env Env) (Handler, error) {
	switch h.Kind {
	case config.KindExec:
		if env.Supervisor == "" {
			env.Supervisor = testSupervisor
		}
		if env.Supervisor == "" {
			return nil, fmt.Errorf("exec handler %s: no supervisor binary to run it under", h.Exec[0])
		}
		return &execHandler{argv: h.Exec, env: env, database: h.PassDatabaseURL}, nil
	case config.KindHTTP:
		return newHTTPHandler(h.URL, h.HTTPTimeout), nil
	case config.KindBuiltin:
		switch h.Builtin {
		case "noop":
			return noop{}, nil
		case "sleep":
			return sleeper{}, nil
		case "fail":
			return failer{}, nil
		}
		return nil, fmt.Errorf("unknown builtin handler %q", h.Builtin)
	}
	return nil, fmt.Errorf("unknown handler kind %q", h.Kind)
}
