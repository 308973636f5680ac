package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/jobctl/jobctl/internal/retry"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/when"
)

// Parse validates a config file's contents; path is used in error messages,
// which all read "path:line: field: what is wrong". The first problem found
// is reported, in file order.
//
// The YAML node tree is walked by hand rather than decoded into structs so
// that every error carries the line it is about and unknown keys are caught.
func Parse(path string, data []byte) (*Config, error) {
	p := &parser{path: path}
	cfg := &Config{Path: path, Jobs: map[string]*JobType{}, Health: DefaultHealth(),
		Limits: Limits{MaxDataBytes: store.DefaultMaxDataBytes}}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err == io.EOF {
		return cfg, nil // an empty file: no job types, default thresholds
	} else if err != nil {
		return nil, p.syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s:%d: a second YAML document (one file holds one config; remove the ---)", path, extra.Line)
	} else if err != io.EOF {
		return nil, p.syntaxError(err)
	}

	if len(doc.Content) == 0 {
		return cfg, nil
	}
	root := deref(doc.Content[0])
	if isNull(root) {
		return cfg, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, p.errorf(root, "", "the file must be a mapping with the keys jobs, health and limits")
	}
	entries, err := p.entries(root, "")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		switch e.name {
		case "jobs":
			err = p.jobs(e.val, cfg.Jobs)
		case "health":
			err = p.health(e.val, &cfg.Health)
		case "limits":
			err = p.limits(e.val, &cfg.Limits)
		default:
			err = p.unknown(e)
		}
		if err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

type parser struct {
	path    string
	merging map[*yaml.Node]bool // mappings being expanded, for entries
	merges  int                 // merge keys expanded so far
}

// maxMerges is far beyond any hand-written file.
const maxMerges = 10000

// entry is one key of a mapping; field is its full dotted name for errors.
type entry struct {
	name, field string
	key, val    *yaml.Node
}

func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) error {
	if field == "" {
		return fmt.Errorf("%s:%d: %s", p.path, n.Line, fmt.Sprintf(format, args...))
	}
	return fmt.Errorf("%s:%d: %s: %s", p.path, n.Line, field, fmt.Sprintf(format, args...))
}

func (p *parser) unknown(e entry) error {
	return p.errorf(e.key, e.field, "unknown field")
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the yaml.v3 errors raised by its parser rather than its
// scanner. For these it reports a line counted from 0, not 1.
var parserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found undefined tag handle",
	"found duplicate %YAML directive",
	"found duplicate %TAG directive",
	"found incompatible YAML document",
}

// syntaxError rewrites the YAML library's "yaml: line 3: …" into the same
// file:line form as every other error.
func (p *parser) syntaxError(err error) error {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("%s: %s", p.path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	line, _ := strconv.Atoi(m[1])
	if slices.Contains(parserProblems, m[2]) {
		line++
	}
	return fmt.Errorf("%s:%d: %s", p.path, line, m[2])
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// entries lists a mapping's keys in file order, refusing duplicates. Merge
// keys (<<: *defaults) are expanded, keys written out winning over merged
// ones as YAML says, so types can share a policy through an anchor.
func (p *parser) entries(n *yaml.Node, field string) ([]entry, error) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(n, field, "must be a mapping of keys to values")
	}
	// A mapping that merges itself would expand forever, and mappings that
	// each merge the previous one many times grow exponentially.
	if p.merging[n] {
		return nil, p.errorf(n, field, "merges a mapping that contains it")
	}
	if p.merging == nil {
		p.merging = map[*yaml.Node]bool{}
	}
	p.merging[n] = true
	defer delete(p.merging, n)
	var own, merged []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			v = deref(v)
			sources := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				sources = v.Content
			}
			for _, src := range sources {
				if deref(src).Kind != yaml.MappingNode {
					return nil, p.errorf(src, join(field, "<<"), "can only merge mappings")
				}
				if p.merges++; p.merges > maxMerges {
					return nil, p.errorf(k, join(field, "<<"), "too many merges")
				}
				es, err := p.entries(src, field)
				if err != nil {
					return nil, err
				}
				merged = append(merged, es...)
			}
			continue
		}
		if k = deref(k); k.Kind != yaml.ScalarNode || isNull(k) {
			return nil, p.errorf(k, field, "keys must be plain names")
		}
		own = append(own, entry{name: k.Value, field: join(field, k.Value), key: k, val: v})
	}
	seen := map[string]int{}
	for _, e := range own {
		if line, dup := seen[e.name]; dup {
			return nil, p.errorf(e.key, e.field, "duplicate key (first at line %d)", line)
		}
		seen[e.name] = e.key.Line
	}
	for _, e := range merged {
		if _, ok := seen[e.name]; !ok {
			seen[e.name] = e.key.Line
			own = append(own, e)
		}
	}
	return own, nil
}

func join(field, name string) string {
	if field == "" {
		return name
	}
	return field + "." + name
}

func (p *parser) jobs(n *yaml.Node, into map[string]*JobType) error {
	if isNull(deref(n)) {
		return nil
	}
	entries, err := p.entries(n, "jobs")
	if err != nil {
		return err
	}
	for _, e := range entries {
		jt, err := p.jobType(e)
		if err != nil {
			return err
		}
		into[jt.Name] = jt
	}
	return nil
}

func (p *parser) jobType(te entry) (*JobType, error) {
	// A type enqueue would refuse could never have a job to run.
	if err := store.ValidateType(te.name); err != nil {
		return nil, p.errorf(te.key, te.field, "%v", err)
	}
	jt := &JobType{Name: te.name, Policy: retry.Default()}
	// A type listed with no handler would be claimed by nobody, so it is a
	// mistake however little else it says.
	missingHandler := p.errorf(te.key, join(te.field, "handler"), `required, e.g. handler: {exec: ["./handlers/run"]}`)
	if isNull(deref(te.val)) {
		return nil, missingHandler
	}
	entries, err := p.entries(te.val, te.field)
	if err != nil {
		return nil, err
	}
	given := map[string]*yaml.Node{}
	for _, e := range entries {
		given[e.name] = e.val
		pol := &jt.Policy
		switch e.name {
		case "handler":
			jt.Handler, err = p.handler(e)
		case "timeout":
			pol.Timeout, err = p.duration(e)
		case "maxAttempts":
			pol.MaxAttempts, err = p.maxAttempts(e)
		case "backoff":
			pol.Backoff, err = p.backoff(e)
		case "backoffBase":
			pol.Base, err = p.duration(e)
		case "backoffCap":
			pol.Cap, err = p.duration(e)
		case "jitter":
			pol.Jitter, err = p.boolean(e)
		case "retryableErrors":
			pol.RetryableErrors, err = p.codes(e)
		default:
			err = p.unknown(e)
		}
		if err != nil {
			return nil, err
		}
	}
	if given["handler"] == nil {
		return nil, missingHandler
	}
	// Ranges, and how fields relate (cap against base), are retry's rules;
	// only the line to blame is found here.
	if err := jt.Policy.Validate(); err != nil {
		var fe *retry.FieldError
		if !errors.As(err, &fe) {
			return nil, p.errorf(te.key, te.field, "%v", err)
		}
		at := given[fe.Field]
		if at == nil {
			at = te.key
		}
		return nil, p.errorf(at, join(te.field, fe.Field), "%s", fe.Reason)
	}
	return jt, nil
}

var builtins = []string{"noop", "sleep", "fail"}

func (p *parser) handler(he entry) (Handler, error) {
	var h Handler
	if n := deref(he.val); n.Kind != yaml.MappingNode {
		return h, p.errorf(n, he.field, "must be a mapping with one of exec, http or builtin")
	}
	entries, err := p.entries(he.val, he.field)
	if err != nil {
		return h, err
	}
	var timeout, passDB *entry
	for _, e := range entries {
		switch e.name {
		case KindExec, KindHTTP, KindBuiltin:
			if h.Kind != "" {
				return h, p.errorf(e.key, he.field, "has both %s and %s (want exactly one)", h.Kind, e.name)
			}
			h.Kind = e.name
			switch e.name {
			case KindExec:
				h.Exec, err = p.argv(e)
			case KindHTTP:
				h.URL, err = p.url(e)
			case KindBuiltin:
				h.Builtin, err = p.builtin(e)
			}
		case "timeout":
			h.HTTPTimeout, err = p.duration(e)
			if err == nil && h.HTTPTimeout <= 0 {
				err = p.errorf(e.val, e.field, "must be greater than 0")
			}
			timeout = &e
		case "passDatabaseURL":
			h.PassDatabaseURL, err = p.boolean(e)
			passDB = &e
		default:
			err = p.unknown(e)
		}
		if err != nil {
			return h, err
		}
	}
	switch {
	case h.Kind == "":
		return h, p.errorf(deref(he.val), he.field, "needs one of exec, http or builtin")
	case timeout != nil && h.Kind != KindHTTP:
		// Any other handler runs within the job's own timeout; a second,
		// silently ignored one would mislead.
		return h, p.errorf(timeout.key, timeout.field, "only an http handler has its own timeout (set the job type's timeout instead)")
	case passDB != nil && h.Kind != KindExec:
		return h, p.errorf(passDB.key, passDB.field, "only an exec handler is given the database URL")
	case h.Kind == KindHTTP && timeout == nil:
		h.HTTPTimeout = defaultHTTPTimeout
	}
	return h, nil
}

func (p *parser) argv(e entry) ([]string, error) {
	n := deref(e.val)
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, p.errorf(n, e.field, `must be a list: the command and its arguments, e.g. ["./handlers/sync", "--full"]`)
	}
	argv := make([]string, len(n.Content))
	for i, item := range n.Content {
		s, err := p.scalar(item, fmt.Sprintf("%s[%d]", e.field, i))
		if err != nil {
			return nil, err
		}
		argv[i] = s
	}
	if argv[0] == "" {
		return nil, p.errorf(n.Content[0], e.field+"[0]", "the command must not be empty")
	}
	return argv, nil
}

func (p *parser) url(e entry) (string, error) {
	s, err := p.scalar(e.val, e.field)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", p.errorf(e.val, e.field, "%q is not an http:// or https:// URL", s)
	}
	return s, nil
}

func (p *parser) builtin(e entry) (string, error) {
	s, err := p.scalar(e.val, e.field)
	if err != nil {
		return "", err
	}
	if !slices.Contains(builtins, s) {
		return "", p.errorf(e.val, e.field, "unknown builtin %q (want noop, sleep or fail)", s)
	}
	return s, nil
}

func (p *parser) backoff(e entry) (retry.Backoff, error) {
	s, err := p.scalar(e.val, e.field)
	if err != nil {
		return "", err
	}
	b, err := retry.ParseBackoff(s)
	if err != nil {
		return "", p.errorf(e.val, e.field, "%v", err)
	}
	return b, nil
}

var codePattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)

func (p *parser) codes(e entry) ([]string, error) {
	n := deref(e.val)
	if n.Kind != yaml.SequenceNode {
		return nil, p.errorf(n, e.field, "must be a list of error codes, e.g. [NETWORK_ERROR, TIMEOUT]")
	}
	codes := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		field := fmt.Sprintf("%s[%d]", e.field, i)
		s, err := p.scalar(item, field)
		if err != nil {
			return nil, err
		}
		switch {
		case !codePattern.MatchString(s):
			return nil, p.errorf(item, field, "%q is not an error code (want UPPER_SNAKE_CASE, e.g. NETWORK_ERROR)", s)
		case slices.Contains(retry.NeverRetried, s):
			// Listing one would read as a promise the policy does not keep.
			return nil, p.errorf(item, field, "%s is never retried (retrying cannot fix it)", s)
		}
		codes = append(codes, s)
	}
	return codes, nil
}

func (p *parser) health(n *yaml.Node, h *Health) error {
	if isNull(deref(n)) {
		return nil
	}
	entries, err := p.entries(n, "health")
	if err != nil {
		return err
	}
	for _, e := range entries {
		switch e.name {
		case "maxPending":
			h.MaxPending, err = p.count(e)
		case "maxFailed":
			h.MaxFailed, err = p.count(e)
		case "maxWorkerSilence":
			h.MaxWorkerSilence, err = p.positiveDuration(e)
		case "maxOldestPending":
			h.MaxOldestPending, err = p.positiveDuration(e)
		default:
			err = p.unknown(e)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) limits(n *yaml.Node, l *Limits) error {
	if isNull(deref(n)) {
		return nil
	}
	entries, err := p.entries(n, "limits")
	if err != nil {
		return err
	}
	for _, e := range entries {
		switch e.name {
		case "maxDataBytes":
			l.MaxDataBytes, err = p.size(e, MaxDataBytesCeiling)
		default:
			err = p.unknown(e)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

var sizeRE = regexp.MustCompile(`^([0-9]+) *(B|KB|KiB|MB|MiB)?$`)

var sizeUnits = map[string]int64{"": 1, "B": 1, "KB": 1000, "KiB": 1 << 10, "MB": 1000 * 1000, "MiB": 1 << 20}

// size is a byte count, bare or with a unit (KB, KiB, MB, MiB), from 1 to
// ceiling.
func (p *parser) size(e entry, ceiling int64) (int, error) {
	s, err := p.scalar(e.val, e.field)
	if err != nil {
		return 0, err
	}
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, p.errorf(e.val, e.field, "%q is not a size (e.g. 1048576, 512KiB, 4MiB)", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n < 1 || n > ceiling/sizeUnits[m[2]] {
		return 0, p.errorf(e.val, e.field, "%s is out of range (1 byte to %dMiB)", s, ceiling>>20)
	}
	return int(n * sizeUnits[m[2]]), nil
}

// scalar is a single value. YAML's types are not checked: a number is text
// here too, so that an argument like 8080 needs no quotes.
func (p *parser) scalar(n *yaml.Node, field string) (string, error) {
	n = deref(n)
	switch {
	case isNull(n):
		return "", p.errorf(n, field, "missing value")
	case n.Kind != yaml.ScalarNode:
		return "", p.errorf(n, field, "must be a single value, not a list or mapping")
	}
	return n.Value, nil
}

func (p *parser) duration(e entry) (time.Duration, error) {
	s, err := p.scalar(e.val, e.field)
	if err != nil {
		return 0, err
	}
	d, err := when.ParseDuration(s)
	if err != nil {
		return 0, p.errorf(e.val, e.field, "%v", err)
	}
	return d, nil
}

func (p *parser) positiveDuration(e entry) (time.Duration, error) {
	d, err := p.duration(e)
	if err == nil && d <= 0 {
		err = p.errorf(e.val, e.field, "must be greater than 0")
	}
	return d, err
}

func (p *parser) integer(e entry) (int64, error) {
	s, err := p.scalar(e.val, e.field)
	if err != nil {
		return 0, err
	}
	var i int64
	if n := deref(e.val); n.Tag != "!!int" || n.Decode(&i) != nil {
		return 0, p.errorf(e.val, e.field, "%q is not a whole number", s)
	}
	return i, nil
}

func (p *parser) count(e entry) (int64, error) {
	i, err := p.integer(e)
	if err == nil && i < 0 {
		err = p.errorf(e.val, e.field, "must not be negative (got %d)", i)
	}
	return i, err
}

// maxAttempts only catches what would not fit an int; the range is
// retry.Policy.Validate's to judge.
func (p *parser) maxAttempts(e entry) (int, error) {
	i, err := p.integer(e)
	if err == nil && (i < -1<<31 || i > 1<<31-1) {
		err = p.errorf(e.val, e.field, "%d is out of range", i)
	}
	return int(i), err
}

func (p *parser) boolean(e entry) (bool, error) {
	s, err := p.scalar(e.val, e.field)
	if err != nil {
		return false, err
	}
	var b bool
	if n := deref(e.val); n.Tag != "!!bool" || n.Decode(&b) != nil {
		return false, p.errorf(e.val, e.field, "%q is not true or false", s)
	}
	return b, nil
}
