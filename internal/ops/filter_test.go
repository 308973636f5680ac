package ops

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T); want *ops.Error", err, err)
	}
	return e
}

func flag(f string) string { return "--" + f }

func TestParseFilter(t *testing.T) {
	f, err := ParseFilter(FilterInput{Statuses: []string{"failed", "DEAD"}, Types: []string{" CalendarSync "}, Since: "yesterday", Until: "1h", Older: "30d", User: "u1"}, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Statuses, []store.Status{store.StatusFailed, store.StatusDead}) || !slices.Equal(f.Types, []string{"CalendarSync"}) ||
		!f.Until.Equal(fixedNow.Add(-time.Hour)) || !f.FinishedBefore.Equal(fixedNow.Add(-30*24*time.Hour)) || f.UserID != "u1" {
		t.Errorf("filter = %+v", f)
	}
	// Half past midnight, today is after an hour ago: refused, naming both inputs.
	_, err = ParseFilter(FilterInput{Since: "today", Until: "1h"}, time.Date(2026, 12, 2, 0, 30, 0, 0, time.Local))
	if e := asError(t, err); e.Code != CodeInvalid || e.Field != "since" || !strings.HasPrefix(e.In(flag), "--since (") || !strings.Contains(e.In(flag), "must be before --until (") {
		t.Errorf("since after until: %+v / %q", e, e.In(flag))
	}

	for _, tc := range []struct {
		in      FilterInput
		field   string
		message string // Message, as a query string names the input
		asFlag  string // In(flag)
	}{
		{FilterInput{Types: []string{""}, Given: map[string]bool{"type": true}}, "type",
			"type was given an empty value: give one, or leave type out", "--type was given an empty value: give one, or leave --type out"},
		{FilterInput{Statuses: []string{"failed", " "}, Given: map[string]bool{"status": true}}, "status",
			"status was given an empty value: give one, or leave status out", "--status was given an empty value: give one, or leave --status out"},
		{FilterInput{Older: " ", Given: map[string]bool{"older": true}}, "older",
			"older was given an empty value: give one, or leave older out", "--older was given an empty value: give one, or leave --older out"},
		{FilterInput{Since: "soon"}, "since", "since: ", "--since: "},
		{FilterInput{Statuses: []string{"done"}}, "status", `unknown status "done"`, `unknown status "done"`},
	} {
		_, err := ParseFilter(tc.in, fixedNow)
		e := asError(t, err)
		if e.Code != CodeInvalid || e.Field != tc.field || !strings.HasPrefix(e.Message, tc.message) || !strings.HasPrefix(e.In(flag), tc.asFlag) {
			t.Errorf("%+v: code %s field %q message %q, as flags %q", tc.in, e.Code, e.Field, e.Message, e.In(flag))
		}
	}
	// Blank list elements nobody gave (a flag parser's leftovers) are no
	// filter, not an error.
	if f, err := ParseFilter(FilterInput{Types: []string{" "}}, fixedNow); err != nil || len(f.Types) != 0 {
		t.Errorf("blank type not given: %+v, %v", f, err)
	}
	// A value holding braces is not taken for an input's name.
	_, err = ParseFilter(FilterInput{Since: "{until}"}, fixedNow)
	if e := asError(t, err); strings.Contains(e.In(flag), "--until") {
		t.Errorf("a typed {until} was renamed: %q", e.In(flag))
	}
}

func TestFilterFromQuery(t *testing.T) {
	q, _ := url.ParseQuery("status=failed,dead&type=A&type=B&since=1h&user=u1")
	in := FilterFromQuery(q)
	if !slices.Equal(in.Statuses, []string{"failed", "dead"}) || !slices.Equal(in.Types, []string{"A", "B"}) || in.Since != "1h" || in.User != "u1" {
		t.Errorf("input = %+v", in)
	}
	if !in.Given["status"] || !in.Given["since"] || in.Given["until"] || in.Given["older"] {
		t.Errorf("given = %v; want only the keys present", in.Given)
	}
	f, err := ParseFilter(in, fixedNow)
	if err != nil || len(f.Statuses) != 2 || f.UserID != "u1" {
		t.Errorf("parsed %+v, %v", f, err)
	}
	// ?type= and ?type=A, are refused, not read as "every type".
	for _, raw := range []string{"type=", "type=A,", "older="} {
		q, _ := url.ParseQuery(raw)
		_, err := ParseFilter(FilterFromQuery(q), fixedNow)
		if e := asError(t, err); e.Code != CodeInvalid || !strings.Contains(e.Message, "was given an empty value") {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

func TestStatuses(t *testing.T) {
	got, err := Statuses(store.ActRetry, nil)
	if err != nil || !slices.Equal(got, store.Allowed[store.ActRetry]) {
		t.Errorf("retry defaults = %v, %v", got, err)
	}
	got, err = Statuses(store.ActRetry, []store.Status{store.StatusDead, store.StatusDead})
	if err != nil || !slices.Equal(got, []store.Status{store.StatusDead}) {
		t.Errorf("retry dead dead = %v, %v", got, err)
	}
	got, err = Statuses(store.ActPurge, []store.Status{store.StatusPending})
	if err != nil || !slices.Equal(got, []store.Status{store.StatusPending}) {
		t.Errorf("purge pending (named) = %v, %v", got, err)
	}
	for _, tc := range []struct {
		a    store.Action
		st   store.Status
		want string
	}{
		{store.ActRetry, store.StatusCompleted, "--status completed: retry needs FAILED, DEAD or CANCELLED"},
		{store.ActPurge, store.StatusRunning, "--status running: purge never deletes a RUNNING job"},
		{store.ActArchive, store.StatusPending, "--status pending: archive takes only finished jobs"},
	} {
		_, err := Statuses(tc.a, []store.Status{tc.st})
		if e := asError(t, err); e.Field != "status" || !strings.HasPrefix(e.In(flag), tc.want) {
			t.Errorf("%s %s: %q", tc.a, tc.st, e.In(flag))
		}
	}
}
