package ops

import (
	"context"
	"errors"

	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// did is what each action does to a job, as a past participle: "2 jobs
// retried".
var did = map[store.Action]string{
	store.ActRetry:   "retried",
	store.ActCancel:  "cancelled",
	store.ActStart:   "started",
	store.ActDelete:  "deleted",
	store.ActPurge:   "purged",
	store.ActArchive: "archived",
	store.ActRestore: "restored",
}

// Did is what the action does to a job, as a past participle: "retried".
func Did(a store.Action) string { return did[a] }

// Interrupted says how far an action cut short got, in the one line the
// CLI prints and the API answers: "store unreachable: 2 of 5 jobs retried,
// the rest untouched (connection refused)". An action commits batch by
// batch, so the done jobs are done and the rest untouched. total is the
// jobs the action could touch, 0 when nobody counted them. It is nil when
// err is neither the store dropping out nor the context ending (the
// server shutting down, a timeout), and for a dry run, which changed
// nothing either way.
func Interrupted(a store.Action, done, total int64, dry bool, err error) *Error {
	var why, reason string
	var u *store.UnavailableError
	switch {
	case dry || err == nil:
		return nil
	case errors.As(err, &u):
		why, reason = store.ErrUnavailable.Error(), u.Reason
	case errors.Is(err, store.ErrUnavailable):
		why = store.ErrUnavailable.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		why, reason = "interrupted", err.Error()
	default:
		return nil
	}
	if reason != "" {
		reason = " (" + reason + ")"
	}
	msg := why + ": no job " + did[a] + reason
	if done > 0 {
		n := render.CountOf(done, "job")
		if total > 0 {
			n = render.Count(done) + " of " + render.CountOf(total, "job")
		}
		msg = why + ": " + n + " " + did[a] + ", the rest untouched" + reason
	}
	return &Error{Code: CodeUnavailable, Message: msg}
}
