// Package config reads jobctl.yaml: the handler and retry policy of each job
// type the worker runs, and the thresholds of `jobctl health`.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/jobctl/jobctl/internal/retry"
)

// Config is one loaded, fully validated config file.
type Config struct {
	Path   string
	Jobs   map[string]*JobType // by type name
	Health Health
	Limits Limits
}

// Limits caps what jobctl accepts as input.
type Limits struct {
	// MaxDataBytes caps a job's (and a schedule's) data; 1 MiB unless
	// the file says otherwise.
	MaxDataBytes int
}

// MaxDataBytesCeiling is the most limits.maxDataBytes may allow.
const MaxDataBytesCeiling = 64 << 20

// JobType is what the worker needs to run one type. Policy fields the file
// leaves out are retry.Default()'s.
type JobType struct {
	Name    string
	Handler Handler
	Policy  retry.Policy
}

// Handler kinds.
const (
	KindExec    = "exec"
	KindHTTP    = "http"
	KindBuiltin = "builtin"
)

// Handler says how a job of one type is run. Only the fields of its Kind are
// set.
type Handler struct {
	Kind        string        // KindExec, KindHTTP or KindBuiltin
	Exec        []string      // command and arguments
	URL         string        // http or https
	HTTPTimeout time.Duration // per request; 30s unless given
	Builtin     string        // noop, sleep or fail

	// PassDatabaseURL gives an exec handler the store's DSN
	// (JOBCTL_DATABASE_URL, JOBCTL_SCHEMA); without it, it sees neither
	// these nor DATABASE_URL.
	PassDatabaseURL bool
}

// Health holds the thresholds of `jobctl health`.
type Health struct {
	MaxPending       int64         // more PENDING jobs is a warning
	MaxFailed        int64         // more FAILED jobs is a warning
	MaxWorkerSilence time.Duration // a longer-silent worker is critical
	MaxOldestPending time.Duration // an older PENDING job is a warning
}

// DefaultHealth returns the guide's monitoring thresholds, for a file
// without a health section and for a host without a file.
func DefaultHealth() Health {
	return Health{
		MaxPending:       100,
		MaxFailed:        10,
		MaxWorkerSilence: 60 * time.Second,
		MaxOldestPending: 30 * time.Minute,
	}
}

const defaultHTTPTimeout = 30 * time.Second

// ErrNoConfig means no config file was named and ./jobctl.yaml does not
// exist. Commands that can do without one (everything but the worker) run on
// the defaults.
var ErrNoConfig = errors.New("no config file")

// DefaultPath is where Find looks when neither the flag nor the environment
// names a file.
const DefaultPath = "jobctl.yaml"

// Find picks the config file: the --config flag, else $JOBCTL_CONFIG, else
// ./jobctl.yaml. A file named by the flag or the environment must exist; when
// nothing is named and there is no ./jobctl.yaml the error wraps ErrNoConfig.
// A nil getenv means os.Getenv.
func Find(flag string, getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if flag != "" {
		return flag, mustExist(flag, "--config")
	}
	if env := getenv("JOBCTL_CONFIG"); env != "" {
		return env, mustExist(env, "JOBCTL_CONFIG")
	}
	if _, err := os.Stat(DefaultPath); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w (pass --config, set JOBCTL_CONFIG or create ./%s)", ErrNoConfig, DefaultPath)
	}
	return DefaultPath, mustExist(DefaultPath, "the current directory")
}

func mustExist(path, source string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("config file %s (from %s) does not exist", path, source)
	case err != nil:
		return fmt.Errorf("config file %s (from %s): %w", path, source, err)
	case st.IsDir():
		return fmt.Errorf("config file %s (from %s) is a directory", path, source)
	}
	return nil
}

// Load reads and validates the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	return Parse(path, data)
}

// Policy is the retry policy of a job type: its own, or the defaults for a
// type the file does not list (or when there is no file at all).
func (c *Config) Policy(jobType string) retry.Policy {
	if c != nil {
		if jt, ok := c.Jobs[jobType]; ok {
			p := jt.Policy
			p.RetryableErrors = slices.Clone(p.RetryableErrors)
			return p
		}
	}
	return retry.Default()
}

// Types lists, sorted, the job types the file gives a handler, which is every
// type it lists.
func (c *Config) Types() []string {
	if c == nil {
		return nil
	}
	names := make([]string, 0, len(c.Jobs))
	for name := range c.Jobs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
