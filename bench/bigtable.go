package main

import (
	"context"

	"github.com/jobctl/jobctl/internal/store/postgres"
)

// bigTable is the seeded large Postgres schema the list, monitor and ops
// figures share, so one run seeds it once (-rows jobs, ~40 s per million).
type bigTable struct {
	schema string
	env    []string // child environment pointing jobctl at it
	s      *postgres.Store
}

// bigTable returns the shared seeded schema, seeding it on first use.
// Parts that only read it (list, monitor) leave it for the next.
func (e *env) bigTable(ctx context.Context) (*bigTable, error) {
	if e.big != nil {
		note("table: the %s-job schema seeded earlier in this run (unchanged since)", count(e.cfg.rows))
		return e.big, nil
	}
	schema, childEnv, err := e.newSchema(ctx)
	if err != nil {
		return nil, err
	}
	s, err := e.openSchema(ctx, schema)
	if err != nil {
		return nil, err
	}
	if err := seed(ctx, s, e.cfg.rows); err != nil {
		s.Close()
		return nil, err
	}
	e.big = &bigTable{schema: schema, env: childEnv, s: s}
	return e.big, nil
}

// takeBigTable hands the shared schema to a part that changes it (ops):
// a later part would seed a fresh one. The caller closes its store.
func (e *env) takeBigTable(ctx context.Context) (*bigTable, error) {
	bt, err := e.bigTable(ctx)
	e.big = nil
	return bt, err
}
