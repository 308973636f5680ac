package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/retry"
)

// The design's example file, with a health section.
const full = `jobs:
  CalendarSync:
    handler: {exec: ["./handlers/calendar-sync", "--full"]}
    timeout: 30s
    maxAttempts: 5
    backoff: exponential        # exponential | linear | fixed
    backoffBase: 1s
    backoffCap: 1h
    jitter: false
    retryableErrors: [NETWORK_ERROR, TIMEOUT, RATE_LIMIT]
  ReportGeneration:
    handler: {http: "http://127.0.0.1:8081/jobs/report", timeout: 2m}
  Noop:
    handler: {builtin: noop}    # noop | sleep | fail
health:                          # optional; thresholds for ` + "`jobctl health`" + `
  maxPending: 100
  maxFailed: 10
  maxWorkerSilence: 60s
  maxOldestPending: 30m
`

func TestParseFull(t *testing.T) {
	cfg, err := Parse("jobctl.yaml", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Path: "jobctl.yaml",
		Jobs: map[string]*JobType{
			"CalendarSync": {
				Name:    "CalendarSync",
				Handler: Handler{Kind: KindExec, Exec: []string{"./handlers/calendar-sync", "--full"}},
				Policy: retry.Policy{
					MaxAttempts: 5, Backoff: retry.BackoffExponential, Base: time.Second, Cap: time.Hour,
					RetryableErrors: []string{"NETWORK_ERROR", "TIMEOUT", "RATE_LIMIT"}, Timeout: 30 * time.Second,
				},
			},
			"ReportGeneration": {
				Name:    "ReportGeneration",
				Handler: Handler{Kind: KindHTTP, URL: "http://127.0.0.1:8081/jobs/report", HTTPTimeout: 2 * time.Minute},
				Policy:  retry.Default(),
			},
			"Noop": {
				Name:    "Noop",
				Handler: Handler{Kind: KindBuiltin, Builtin: "noop"},
				Policy:  retry.Default(),
			},
		},
		Health: DefaultHealth(),
		Limits: Limits{MaxDataBytes: 1 << 20},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %#v\nwant %#v", cfg, want)
	}
	if got := cfg.Types(); !reflect.DeepEqual(got, []string{"CalendarSync", "Noop", "ReportGeneration"}) {
		t.Errorf("Types() = %v", got)
	}
}

func TestParseDefaultsAndOverrides(t *testing.T) {
	cfg, err := Parse("jobctl.yaml", []byte(`
jobs:
  Metric:
    handler:
      exec:
        - ./handlers/metric
        - 8080
    timeout: 2m
    maxAttempts: 3
    backoff: linear
    backoffBase: 500ms
    backoffCap: 1d
    jitter: true
    retryableErrors: []
  Report:
    handler: {http: "https://reports.internal/run"}
health:
  maxPending: 0
  maxWorkerSilence: 2m
`))
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.Jobs["Metric"]
	if !reflect.DeepEqual(m.Handler.Exec, []string{"./handlers/metric", "8080"}) {
		t.Errorf("exec = %q", m.Handler.Exec)
	}
	wantPolicy := retry.Policy{MaxAttempts: 3, Backoff: retry.BackoffLinear, Base: 500 * time.Millisecond,
		Cap: 24 * time.Hour, Jitter: true, RetryableErrors: []string{}, Timeout: 2 * time.Minute}
	if !reflect.DeepEqual(m.Policy, wantPolicy) {
		t.Errorf("policy = %+v, want %+v", m.Policy, wantPolicy)
	}
	if got := cfg.Jobs["Report"].Handler.HTTPTimeout; got != 30*time.Second {
		t.Errorf("default http timeout = %v", got)
	}
	wantHealth := Health{MaxPending: 0, MaxFailed: 10, MaxWorkerSilence: 2 * time.Minute, MaxOldestPending: 30 * time.Minute}
	if cfg.Health != wantHealth {
		t.Errorf("health = %+v, want %+v", cfg.Health, wantHealth)
	}
	if got := cfg.Policy("Metric"); got.MaxAttempts != 3 {
		t.Errorf("Policy(Metric) = %+v", got)
	}
	if got := cfg.Policy("Unlisted"); !reflect.DeepEqual(got, retry.Default()) {
		t.Errorf("Policy(Unlisted) = %+v", got)
	}
}

// Types can share a policy through an anchor and a merge key; keys written
// out win.
func TestParseMergeKeys(t *testing.T) {
	cfg, err := Parse("jobctl.yaml", []byte(`
jobs:
  A: &slow
    handler: {builtin: sleep}
    timeout: 10m
    maxAttempts: 2
  B:
    <<: *slow
    handler: {builtin: noop}
`))
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Jobs["B"]
	if b.Handler.Builtin != "noop" || b.Policy.Timeout != 10*time.Minute || b.Policy.MaxAttempts != 2 {
		t.Errorf("B = %+v", b)
	}
}

// An exec handler gets the store's DSN only when its type asks.
func TestParsePassDatabaseURL(t *testing.T) {
	cfg, err := Parse("jobctl.yaml", []byte(`
jobs:
  Plain:
    handler: {exec: ["./plain"]}
  Off:
    handler: {exec: ["./off"], passDatabaseURL: false}
  Own:
    handler:
      exec: ["./uses-the-store"]
      passDatabaseURL: true
`))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"Plain": false, "Off": false, "Own": true} {
		if got := cfg.Jobs[name].Handler.PassDatabaseURL; got != want {
			t.Errorf("%s: PassDatabaseURL = %v, want %v", name, got, want)
		}
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "# nothing yet\n", "---\n", "jobs:\nhealth:\n"} {
		cfg, err := Parse("jobctl.yaml", []byte(in))
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if len(cfg.Jobs) != 0 || cfg.Health != DefaultHealth() || cfg.Jobs == nil {
			t.Errorf("%q: %+v", in, cfg)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown backoff", `jobs:
  CalendarSync:
    handler: {exec: ["./x"]}
    timeout: 30s
    maxAttempts: 5

    backoff: expo
`, `jobctl.yaml:7: jobs.CalendarSync.backoff: unknown backoff "expo" (want exponential, linear or fixed)`},
		{"unknown handler key", `jobs:
  CalendarSync:
    handler: {exec: ["./x"]}
  Noop:
    handlr: {builtin: noop}
`, `jobctl.yaml:5: jobs.Noop.handlr: unknown field`},
		{"unknown top-level key", "job:\n  A: {handler: {builtin: noop}}\n",
			`jobctl.yaml:1: job: unknown field`},
		{"unknown health key", "health:\n  maxPendng: 3\n",
			`jobctl.yaml:2: health.maxPendng: unknown field`},
		{"unknown handler field", "jobs:\n  A:\n    handler: {builtin: noop, env: [X=1]}\n",
			`jobctl.yaml:3: jobs.A.handler.env: unknown field`},
		{"no handler", "jobs:\n  A:\n    timeout: 1m\n",
			`jobctl.yaml:2: jobs.A.handler: required, e.g. handler: {exec: ["./handlers/run"]}`},
		{"bare type", "jobs:\n  A:\n",
			`jobctl.yaml:2: jobs.A.handler: required, e.g. handler: {exec: ["./handlers/run"]}`},
		{"two handler kinds", "jobs:\n  A:\n    handler:\n      exec: [./x]\n      builtin: noop\n",
			`jobctl.yaml:5: jobs.A.handler: has both exec and builtin (want exactly one)`},
		{"no handler kind", "jobs:\n  A:\n    handler: {}\n",
			`jobctl.yaml:3: jobs.A.handler: needs one of exec, http or builtin`},
		{"handler not a mapping", "jobs:\n  A:\n    handler: ./x\n",
			`jobctl.yaml:3: jobs.A.handler: must be a mapping with one of exec, http or builtin`},
		{"exec empty", "jobs:\n  A:\n    handler: {exec: []}\n",
			`jobctl.yaml:3: jobs.A.handler.exec: must be a list: the command and its arguments, e.g. ["./handlers/sync", "--full"]`},
		{"exec string", "jobs:\n  A:\n    handler: {exec: ./x --full}\n",
			`jobctl.yaml:3: jobs.A.handler.exec: must be a list: the command and its arguments, e.g. ["./handlers/sync", "--full"]`},
		{"exec empty command", "jobs:\n  A:\n    handler: {exec: [\"\", x]}\n",
			`jobctl.yaml:3: jobs.A.handler.exec[0]: the command must not be empty`},
		{"exec null argument", "jobs:\n  A:\n    handler:\n      exec:\n        - ./x\n        -\n",
			`jobctl.yaml:6: jobs.A.handler.exec[1]: missing value`},
		{"exec nested list", "jobs:\n  A:\n    handler:\n      exec:\n        - ./x\n        - [a, b]\n",
			`jobctl.yaml:6: jobs.A.handler.exec[1]: must be a single value, not a list or mapping`},
		{"http not a url", "jobs:\n  A:\n    handler: {http: 127.0.0.1:8081/run}\n",
			`jobctl.yaml:3: jobs.A.handler.http: "127.0.0.1:8081/run" is not an http:// or https:// URL`},
		{"http wrong scheme", "jobs:\n  A:\n    handler: {http: \"ftp://host/run\"}\n",
			`jobctl.yaml:3: jobs.A.handler.http: "ftp://host/run" is not an http:// or https:// URL`},
		{"http no host", "jobs:\n  A:\n    handler: {http: \"http:///run\"}\n",
			`jobctl.yaml:3: jobs.A.handler.http: "http:///run" is not an http:// or https:// URL`},
		{"http bad timeout", "jobs:\n  A:\n    handler: {http: \"http://h/\", timeout: 2 minutes}\n",
			`jobctl.yaml:3: jobs.A.handler.timeout: invalid duration "2 minutes" (use e.g. 90s, 10m, 1h, 30d)`},
		{"http zero timeout", "jobs:\n  A:\n    handler: {http: \"http://h/\", timeout: 0s}\n",
			`jobctl.yaml:3: jobs.A.handler.timeout: must be greater than 0`},
		{"passDatabaseURL on http", "jobs:\n  A:\n    handler: {http: \"http://h/\", passDatabaseURL: true}\n",
			`jobctl.yaml:3: jobs.A.handler.passDatabaseURL: only an exec handler is given the database URL`},
		{"passDatabaseURL on builtin", "jobs:\n  A:\n    handler:\n      builtin: noop\n      passDatabaseURL: false\n",
			`jobctl.yaml:5: jobs.A.handler.passDatabaseURL: only an exec handler is given the database URL`},
		{"passDatabaseURL not a bool", "jobs:\n  A:\n    handler: {exec: [./x], passDatabaseURL: yes please}\n",
			`jobctl.yaml:3: jobs.A.handler.passDatabaseURL: "yes please" is not true or false`},
		{"timeout on exec", "jobs:\n  A:\n    handler:\n      exec: [./x]\n      timeout: 1m\n",
			`jobctl.yaml:5: jobs.A.handler.timeout: only an http handler has its own timeout (set the job type's timeout instead)`},
		{"unknown builtin", "jobs:\n  A:\n    handler: {builtin: nop}\n",
			`jobctl.yaml:3: jobs.A.handler.builtin: unknown builtin "nop" (want noop, sleep or fail)`},
		{"timeout without unit", "jobs:\n  A:\n    handler: {builtin: noop}\n    timeout: 120000\n",
			`jobctl.yaml:4: jobs.A.timeout: invalid duration "120000" (use e.g. 90s, 10m, 1h, 30d)`},
		{"timeout zero", "jobs:\n  A:\n    handler: {builtin: noop}\n    timeout: 0s\n",
			`jobctl.yaml:4: jobs.A.timeout: must be greater than 0 (got 0s)`},
		{"timeout negative", "jobs:\n  A:\n    handler: {builtin: noop}\n    timeout: -1s\n",
			`jobctl.yaml:4: jobs.A.timeout: invalid duration "-1s": must not be negative`},
		{"timeout missing", "jobs:\n  A:\n    handler: {builtin: noop}\n    timeout:\n",
			`jobctl.yaml:4: jobs.A.timeout: missing value`},
		{"maxAttempts zero", "jobs:\n  A:\n    handler: {builtin: noop}\n    maxAttempts: 0\n",
			`jobctl.yaml:4: jobs.A.maxAttempts: must be between 1 and 1000 (got 0)`},
		{"maxAttempts over 1000", "jobs:\n  A:\n    handler: {builtin: noop}\n    maxAttempts: 1001\n",
			`jobctl.yaml:4: jobs.A.maxAttempts: must be between 1 and 1000 (got 1001)`},
		{"maxAttempts word", "jobs:\n  A:\n    handler: {builtin: noop}\n    maxAttempts: five\n",
			`jobctl.yaml:4: jobs.A.maxAttempts: "five" is not a whole number`},
		{"maxAttempts quoted", "jobs:\n  A:\n    handler: {builtin: noop}\n    maxAttempts: \"5\"\n",
			`jobctl.yaml:4: jobs.A.maxAttempts: "5" is not a whole number`},
		{"maxAttempts fraction", "jobs:\n  A:\n    handler: {builtin: noop}\n    maxAttempts: 2.5\n",
			`jobctl.yaml:4: jobs.A.maxAttempts: "2.5" is not a whole number`},
		{"maxAttempts huge", "jobs:\n  A:\n    handler: {builtin: noop}\n    maxAttempts: 99999999999\n",
			`jobctl.yaml:4: jobs.A.maxAttempts: 99999999999 is out of range`},
		{"backoff list", "jobs:\n  A:\n    handler: {builtin: noop}\n    backoff: [linear]\n",
			`jobctl.yaml:4: jobs.A.backoff: must be a single value, not a list or mapping`},
		{"backoffBase zero", "jobs:\n  A:\n    handler: {builtin: noop}\n    backoffBase: 0\n",
			`jobctl.yaml:4: jobs.A.backoffBase: must be greater than 0 (got 0s)`},
		{"cap below base", "jobs:\n  A:\n    handler: {builtin: noop}\n    backoffBase: 1m\n    backoffCap: 30s\n",
			`jobctl.yaml:5: jobs.A.backoffCap: 30s is less than backoffBase 1m0s`},
		{"default cap below base", "jobs:\n  A:\n    handler: {builtin: noop}\n    backoffBase: 2h\n",
			`jobctl.yaml:2: jobs.A.backoffCap: 1h0m0s is less than backoffBase 2h0m0s`},
		{"jitter word", "jobs:\n  A:\n    handler: {builtin: noop}\n    jitter: sometimes\n",
			`jobctl.yaml:4: jobs.A.jitter: "sometimes" is not true or false`},
		{"jitter quoted", "jobs:\n  A:\n    handler: {builtin: noop}\n    jitter: \"true\"\n",
			`jobctl.yaml:4: jobs.A.jitter: "true" is not true or false`},
		{"retryable lower case", "jobs:\n  A:\n    handler: {builtin: noop}\n    retryableErrors:\n      - TIMEOUT\n      - network_error\n",
			`jobctl.yaml:6: jobs.A.retryableErrors[1]: "network_error" is not an error code (want UPPER_SNAKE_CASE, e.g. NETWORK_ERROR)`},
		{"retryable with space", "jobs:\n  A:\n    handler: {builtin: noop}\n    retryableErrors: [RATE LIMIT]\n",
			`jobctl.yaml:4: jobs.A.retryableErrors[0]: "RATE LIMIT" is not an error code (want UPPER_SNAKE_CASE, e.g. NETWORK_ERROR)`},
		{"retryable never retried", "jobs:\n  A:\n    handler: {builtin: noop}\n    retryableErrors: [TIMEOUT, AUTH_ERROR]\n",
			`jobctl.yaml:4: jobs.A.retryableErrors[1]: AUTH_ERROR is never retried (retrying cannot fix it)`},
		{"retryable not a list", "jobs:\n  A:\n    handler: {builtin: noop}\n    retryableErrors: TIMEOUT\n",
			`jobctl.yaml:4: jobs.A.retryableErrors: must be a list of error codes, e.g. [NETWORK_ERROR, TIMEOUT]`},
		{"type name with space", "jobs:\n  \"Calendar Sync\":\n    handler: {builtin: noop}\n",
			`jobctl.yaml:2: jobs.Calendar Sync: invalid job type "Calendar Sync": ' ' is not allowed (a type is 1-128 letters, digits and _ - . :)`},
		{"type not a mapping", "jobs:\n  A: noop\n",
			`jobctl.yaml:2: jobs.A: must be a mapping of keys to values`},
		{"jobs a list", "jobs:\n  - A\n",
			`jobctl.yaml:2: jobs: must be a mapping of keys to values`},
		{"duplicate type", "jobs:\n  A:\n    handler: {builtin: noop}\n  A:\n    handler: {builtin: fail}\n",
			`jobctl.yaml:4: jobs.A: duplicate key (first at line 2)`},
		{"duplicate field", "jobs:\n  A:\n    handler: {builtin: noop}\n    timeout: 1m\n    timeout: 2m\n",
			`jobctl.yaml:5: jobs.A.timeout: duplicate key (first at line 4)`},
		{"health negative", "health:\n  maxFailed: -1\n",
			`jobctl.yaml:2: health.maxFailed: must not be negative (got -1)`},
		{"health zero silence", "health:\n  maxWorkerSilence: 0s\n",
			`jobctl.yaml:2: health.maxWorkerSilence: must be greater than 0`},
		{"health bad duration", "health:\n  maxOldestPending: half an hour\n",
			`jobctl.yaml:2: health.maxOldestPending: invalid duration "half an hour" (use e.g. 90s, 10m, 1h, 30d)`},
		{"limits not a size", "limits:\n  maxDataBytes: lots\n",
			`jobctl.yaml:2: limits.maxDataBytes: "lots" is not a size (e.g. 1048576, 512KiB, 4MiB)`},
		{"limits zero", "limits:\n  maxDataBytes: 0\n",
			`jobctl.yaml:2: limits.maxDataBytes: 0 is out of range (1 byte to 64MiB)`},
		{"limits over the ceiling", "limits:\n  maxDataBytes: 65MiB\n",
			`jobctl.yaml:2: limits.maxDataBytes: 65MiB is out of range (1 byte to 64MiB)`},
		{"limits unknown field", "limits:\n  maxTypeLen: 5\n",
			`jobctl.yaml:2: limits.maxTypeLen: unknown field`},
		{"top level list", "- jobs\n",
			`jobctl.yaml:1: the file must be a mapping with the keys jobs, health and limits`},
		{"syntax error", "jobs:\n  A:\n    handler: {builtin: noop\n",
			`jobctl.yaml:3: did not find expected ',' or '}'`},
		// yaml.v3 names the mapping that the stray line breaks, not the line.
		{"bad indent", "jobs:\n  A:\n    handler: {builtin: noop}\n   timeout: 1m\n",
			`jobctl.yaml:2: did not find expected key`},
		{"unclosed list", "jobs:\n  A:\n    handler:\n      exec: [./x\n",
			`jobctl.yaml:4: did not find expected ',' or ']'`},
		{"colon in plain value", "jobs:\n  A:\n    handler: {builtin: noop}\n    timeout: a: b\n",
			`jobctl.yaml:4: mapping values are not allowed in this context`},
		{"tab indent", "jobs:\n\tA: {}\n",
			`jobctl.yaml:2: found character that cannot start any token`},
		{"merge of itself", "jobs:\n  A: &a\n    <<: *a\n    handler: {builtin: noop}\n",
			`jobctl.yaml:2: jobs.A: merges a mapping that contains it`},
		{"merge of a scalar", "jobs:\n  A:\n    handler: {builtin: noop}\n    <<: 5\n",
			`jobctl.yaml:4: jobs.A.<<: can only merge mappings`},
		{"merged field checked", "jobs:\n  A:\n    handler: &h {builtin: noop}\n  B:\n    <<: *h\n",
			`jobctl.yaml:3: jobs.B.builtin: unknown field`},
		{"null key", "~: 1\n", `jobctl.yaml:1: keys must be plain names`},
		{"two documents", "jobs:\n---\nhealth:\n",
			`jobctl.yaml:2: a second YAML document (one file holds one config; remove the ---)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("jobctl.yaml", []byte(tt.in))
			if err == nil {
				t.Fatalf("no error; got %+v", cfg)
			}
			if err.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line")
			}
		})
	}
}

func TestExampleFile(t *testing.T) {
	cfg, err := Load("../../jobctl.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CalendarSync", "DataImport", "EmailSending", "Fail", "InventoryReconciliation",
		"MetricCalculation", "Noop", "ReportGeneration", "Sleep"}
	if got := cfg.Types(); !reflect.DeepEqual(got, want) {
		t.Errorf("Types() = %v, want %v", got, want)
	}
	// The guide's "Increase timeout" fix and its metricCalculation config.
	m := cfg.Policy("MetricCalculation")
	if m.Timeout != 120*time.Second || m.MaxAttempts != 3 || m.Backoff != retry.BackoffLinear ||
		!reflect.DeepEqual(m.RetryableErrors, []string{"TIMEOUT"}) {
		t.Errorf("MetricCalculation policy = %+v", m)
	}
	if cfg.Health != DefaultHealth() {
		t.Errorf("health = %+v", cfg.Health)
	}
	// Only the type that writes to the store is given its DSN.
	for _, name := range want {
		if got := cfg.Jobs[name].Handler.PassDatabaseURL; got != (name == "DataImport") {
			t.Errorf("%s: passDatabaseURL %v", name, got)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v", err)
	}
}

func TestLoadReportsPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobctl.yaml")
	if err := os.WriteFile(path, []byte("jobs:\n  A: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := path + ":2: jobs.A.handler: required"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want prefix %s", err, want)
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	named := filepath.Join(dir, "named.yaml")
	if err := os.WriteFile(named, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "JOBCTL_CONFIG" {
				return v
			}
			return ""
		}
	}

	if _, err := Find("", env("")); !errors.Is(err, ErrNoConfig) {
		t.Errorf("nothing anywhere: got %v, want ErrNoConfig", err)
	} else if want := "no config file (pass --config, set JOBCTL_CONFIG or create ./jobctl.yaml)"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}

	if got, err := Find(named, env("")); err != nil || got != named {
		t.Errorf("flag: %q, %v", got, err)
	}
	if got, err := Find("", env(named)); err != nil || got != named {
		t.Errorf("env: %q, %v", got, err)
	}
	missing := filepath.Join(dir, "missing.yaml")
	_, err := Find(missing, env(named))
	if err == nil || errors.Is(err, ErrNoConfig) || err.Error() != "config file "+missing+" (from --config) does not exist" {
		t.Errorf("missing flag file: %v", err)
	}
	_, err = Find("", env(missing))
	if err == nil || errors.Is(err, ErrNoConfig) || err.Error() != "config file "+missing+" (from JOBCTL_CONFIG) does not exist" {
		t.Errorf("missing env file: %v", err)
	}
	if _, err := Find(dir, env("")); err == nil || !strings.HasSuffix(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}

	if err := os.WriteFile("jobctl.yaml", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Find("", env("")); err != nil || got != "jobctl.yaml" {
		t.Errorf("default: %q, %v", got, err)
	}
	if got, err := Find("", env(named)); err != nil || got != named {
		t.Errorf("env beats the default: %q, %v", got, err)
	}
}

func TestNilConfig(t *testing.T) {
	var c *Config
	if got := c.Policy("X"); !reflect.DeepEqual(got, retry.Default()) {
		t.Errorf("Policy = %+v", got)
	}
	if got := c.Types(); got != nil {
		t.Errorf("Types = %v", got)
	}
}

// Whatever the file holds, Parse returns a config or a one-line error; it
// never panics or recurses without end.
func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	if example, err := os.ReadFile("../../jobctl.example.yaml"); err == nil {
		f.Add(example)
	}
	f.Add([]byte("jobs:\n  A: &a\n    <<: [*a, *a]\n"))
	f.Add([]byte("a: &a {x: 1}\nb: &b {<<: [*a, *a, *a]}\nc: {<<: [*b, *b, *b]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("jobctl.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "jobctl.yaml") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error not one line naming the file: %q", err)
			}
			return
		}
		for name, jt := range cfg.Jobs {
			if jt.Name != name || jt.Handler.Kind == "" {
				t.Fatalf("type %q: %+v", name, jt)
			}
			if err := jt.Policy.Validate(); err != nil {
				t.Fatalf("type %q: accepted an invalid policy: %v", name, err)
			}
		}
	})
}

func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		file string
		want int
	}{
		{"", 1 << 20},
		{"jobs: {}\n", 1 << 20},
		{"limits:\n", 1 << 20},
		{"limits:\n  maxDataBytes: 4MiB\n", 4 << 20},
		{"limits:\n  maxDataBytes: 512KiB\n", 512 << 10},
		{"limits:\n  maxDataBytes: 2 MB\n", 2000000},
		{"limits:\n  maxDataBytes: 1000\n", 1000},
		{"limits:\n  maxDataBytes: 64MiB\n", 64 << 20},
	} {
		cfg, err := Parse("jobctl.yaml", []byte(tc.file))
		if err != nil {
			t.Errorf("%q: %v", tc.file, err)
			continue
		}
		if cfg.Limits.MaxDataBytes != tc.want {
			t.Errorf("%q: maxDataBytes = %d; want %d", tc.file, cfg.Limits.MaxDataBytes, tc.want)
		}
	}
}
