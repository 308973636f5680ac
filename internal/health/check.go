package health

import (
	"context"
	"errors"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// Check runs the health check against a store: the schema check, timed as
// the database's round trip, then a snapshot, evaluated with in's
// thresholds. `jobctl health` and `jobctl serve` both answer with it.
func Check(ctx context.Context, s store.Store, in Inputs) *Report {
	r, _ := CheckSnapshot(ctx, s, in)
	return r
}

// CheckSnapshot is Check that also returns the snapshot it evaluated, for
// the metrics; the snapshot is nil when none could be taken.
func CheckSnapshot(ctx context.Context, s store.Store, in Inputs) (*Report, *store.Snapshot) {
	t0 := time.Now()
	err := s.CheckSchema(ctx)
	in.Latency = time.Since(t0)
	if err != nil {
		if !errors.Is(err, store.ErrNotMigrated) && !errors.Is(err, store.ErrSchemaTooNew) {
			return Unreachable(err), nil
		}
		in.SchemaErr = err
	}
	snap, err := s.Snapshot(ctx)
	switch {
	case err == nil:
		return Evaluate(snap, in), snap
	case in.SchemaErr != nil:
		// The database answered but has no jobctl tables (or not the ones
		// this binary reads): the schema is the problem to report, not the
		// connection.
		return schemaOnly(in), nil
	}
	return Unreachable(err), nil
}

// schemaOnly is the report for a store whose schema could not be read.
func schemaOnly(in Inputs) *Report {
	r := &Report{Status: Unhealthy, Problems: []Problem{}, Checks: Checks{
		Database: "ok", Redis: "not used", Worker: "unknown",
		DatabaseLatencyMS: latencyMS(in.Latency), Schema: in.SchemaErr.Error(),
	}}
	r.add("schema", Critical, "schema: "+in.SchemaErr.Error(), "schema: "+in.SchemaErr.Error(), nil, nil)
	return r
}
