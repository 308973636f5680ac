package render

import (
	"encoding/json"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// exportJob is a copy of j fit for machine-readable output: times in UTC
// (a backend may hand back local times), empty JSON values as null rather
// than an encoding error, and an empty history as [] so that jq never
// meets null where it expects an array.
func exportJob(j *store.Job) *store.Job {
	if j == nil {
		return nil
	}
	c := *j
	c.Data = rawOrNull(j.Data)
	c.Output = rawOrNull(j.Output)
	c.ScheduledFor = j.ScheduledFor.UTC()
	c.CreatedAt = j.CreatedAt.UTC()
	c.UpdatedAt = j.UpdatedAt.UTC()
	c.StartedAt = utcPtr(j.StartedAt)
	c.CompletedAt = utcPtr(j.CompletedAt)
	c.ArchivedAt = utcPtr(j.ArchivedAt)
	c.History = make([]store.Attempt, len(j.History))
	for i, a := range j.History {
		a.At = a.At.UTC()
		c.History[i] = a
	}
	return &c
}

// exportJobs never returns nil, so an empty listing prints [] in JSON.
func exportJobs(jobs []*store.Job) []*store.Job {
	out := make([]*store.Job, len(jobs))
	for i, j := range jobs {
		out[i] = exportJob(j)
	}
	return out
}

func exportRelated(r *store.Related) *store.Related {
	if r == nil {
		return nil
	}
	return &store.Related{
		Parent:       exportJob(r.Parent),
		Children:     exportJobs(r.Children),
		Dependencies: exportJobs(r.Dependencies),
		Dependents:   exportJobs(r.Dependents),
	}
}

// rawOrNull maps an empty RawMessage, which encoding/json rejects, to nil,
// which it writes as null.
func rawOrNull(m json.RawMessage) json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	return m
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
