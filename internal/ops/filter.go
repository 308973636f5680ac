package ops

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/when"
)

// ParseFilter validates a filter as typed into a store.Filter, with the one
// grammar every adapter shares. A field given an empty value (`--type ""`,
// `?older=`) is refused rather than read as "no filter", which would widen
// a bulk action to every job. Errors are *Error CodeInvalid with Field set.
func ParseFilter(in FilterInput, now time.Time) (store.Filter, error) {
	var f store.Filter
	if err := CheckEmpty(in); err != nil {
		return f, err
	}
	for _, s := range in.Statuses {
		if strings.TrimSpace(s) == "" {
			continue
		}
		st, err := store.ParseStatus(s)
		if err != nil {
			return f, invalid("status", "%s", err)
		}
		f.Statuses = append(f.Statuses, st)
	}
	for _, t := range in.Types {
		if t = strings.TrimSpace(t); t != "" {
			f.Types = append(f.Types, t)
		}
	}
	var err error
	for _, c := range []struct {
		name, value string
		to          *time.Time
	}{{"since", in.Since, &f.Since}, {"until", in.Until, &f.Until}, {"older", in.Older, &f.FinishedBefore}} {
		if c.value == "" {
			continue
		}
		if *c.to, err = when.ParseTime(c.value, now); err != nil {
			return f, invalid(c.name, "{"+c.name+"}: %v", err)
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, invalid("since", "{since} (%s) must be before {until} (%s)", f.Since.Format(time.RFC3339), f.Until.Format(time.RFC3339))
	}
	f.UserID = in.User
	return f, nil
}

// CheckEmpty refuses a field given an empty value: a blank element of a
// Given list, or a Given field that is blank. Adapters that check the
// shape of a request before its values call it first.
func CheckEmpty(in FilterInput) error {
	for _, l := range []struct {
		name   string
		values []string
	}{{"status", in.Statuses}, {"type", in.Types}} {
		for _, v := range l.values {
			if strings.TrimSpace(v) == "" && in.Given[l.name] {
				return emptyValue(l.name)
			}
		}
	}
	for _, c := range []struct{ name, value string }{
		{"since", in.Since}, {"until", in.Until}, {"older", in.Older}, {"user", in.User},
	} {
		if in.Given[c.name] && strings.TrimSpace(c.value) == "" {
			return emptyValue(c.name)
		}
	}
	return nil
}

func emptyValue(field string) *Error {
	return invalid(field, "{"+field+"} was given an empty value: give one, or leave {"+field+"} out")
}

// FilterFromQuery reads the list filters from a query string: status and
// type (repeated or comma-separated), since, until, older and user. Every
// key present is Given, so `?type=` is refused by ParseFilter instead of
// matching every type.
func FilterFromQuery(q url.Values) FilterInput {
	in := FilterInput{Given: map[string]bool{}}
	split := func(key string) []string {
		var out []string
		for _, v := range q[key] {
			out = append(out, strings.Split(v, ",")...)
		}
		return out
	}
	in.Statuses, in.Types = split("status"), split("type")
	in.Since, in.Until, in.Older, in.User = q.Get("since"), q.Get("until"), q.Get("older"), q.Get("user")
	for _, k := range []string{"status", "type", "since", "until", "older", "user"} {
		if q.Has(k) {
			in.Given[k] = true
		}
	}
	return in
}

// Statuses narrows an action's statuses to those given, refusing any the
// action cannot apply to; none given means the action's own. Retry,
// cancel, start and delete follow the guide's action table
// (store.Allowed); purge deletes anything but a RUNNING job (a worker
// holds it), PENDING and RETRYING only when named; archive takes any
// finished job, never a live one.
func Statuses(a store.Action, given []store.Status) ([]store.Status, error) {
	if len(given) == 0 {
		return store.Allowed[a], nil
	}
	for _, st := range given {
		var ok bool
		var rule string
		switch a {
		case store.ActPurge:
			ok, rule = st != store.StatusRunning, "purge never deletes a RUNNING job (a worker holds it): cancel it first"
		case store.ActArchive:
			ok, rule = st.Final(), "archive takes only finished jobs: "+store.OrList(finalStatuses())
		default:
			ok, rule = slices.Contains(store.Allowed[a], st), fmt.Sprintf("%s needs %s", a, store.OrList(store.Allowed[a]))
		}
		if !ok {
			return nil, invalid("status", "{status} %s: %s", strings.ToLower(string(st)), rule)
		}
	}
	var out []store.Status
	for _, st := range given {
		if !slices.Contains(out, st) {
			out = append(out, st)
		}
	}
	return out, nil
}

func finalStatuses() []store.Status {
	var out []store.Status
	for _, st := range store.Statuses {
		if st.Final() {
			out = append(out, st)
		}
	}
	return out
}
