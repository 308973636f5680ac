package jobsql

import (
	"context"
	"errors"

	"github.com/jobctl/jobctl/internal/store"
)

// Reading jobs, in sql/read.sql.
var (
	jobGet          = stmt("JobGet")
	archiveGet      = stmt("ArchiveGet")
	jobDependsOn    = stmt("JobDependsOn")
	jobList         = stmt("JobList")
	jobListMerged   = stmt("JobListMerged")
	archiveList     = stmt("ArchiveList")
	jobChildren     = stmt("JobChildren")
	jobDependencies = stmt("JobDependencies")
	jobDependents   = stmt("JobDependents")
)

// Get returns a job from "Job", else from "JobArchive", with its
// dependencies.
func Get(ctx context.Context, db DB, d *Dialect, id string) (*store.Job, error) {
	j, err := getFrom(ctx, db, d, id, false)
	if errors.Is(err, store.ErrNotFound) {
		j, err = getFrom(ctx, db, d, id, true)
	}
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, d.SQL(jobDependsOn), d.Values(id)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var dep string
		if err := rows.Scan(&dep); err != nil {
			return nil, err
		}
		j.DependsOn = append(j.DependsOn, dep)
	}
	return j, rows.Err()
}

func getFrom(ctx context.Context, db DB, d *Dialect, id string, archived bool) (*store.Job, error) {
	get := jobGet
	if archived {
		get = archiveGet
	}
	return ScanJob(db.QueryRow(ctx, d.SQL(get), d.Values(id)...), archived)
}

// List returns one page of jobs.
func List(ctx context.Context, db DB, d *Dialect, p *store.ListParams) ([]*store.Job, error) {
	sql, args := listQuery(d, p)
	return QueryJobs(ctx, db, sql, args, p.Archived)
}

// QueryJobs runs a query selecting JobColumns and scans every row.
func QueryJobs(ctx context.Context, db DB, sql string, args []any, archived bool) ([]*store.Job, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	jobs := []*store.Job{}
	for rows.Next() {
		j, err := ScanJob(rows, archived)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

// Count returns how many jobs match f.
func Count(ctx context.Context, db DB, d *Dialect, f *store.Filter, archived bool) (int64, error) {
	a := d.Args()
	var n int64
	err := db.QueryRow(ctx, d.SQL(countRows, Fill{"table": Table(archived), "filter": Conditions(a, f, archived)}), a.Values...).Scan(&n)
	return n, err
}

// Related returns the jobs around j: its parent, children, dependencies
// and dependents.
func Related(ctx context.Context, db DB, d *Dialect, j *store.Job) (*store.Related, error) {
	rel := &store.Related{}
	if j.ParentID != "" {
		p, err := Get(ctx, db, d, j.ParentID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		rel.Parent = p
	}
	lists := []struct {
		into *[]*store.Job
		stmt *Stmt
	}{
		{&rel.Children, jobChildren},
		{&rel.Dependencies, jobDependencies},
		{&rel.Dependents, jobDependents},
	}
	for _, l := range lists {
		jobs, err := QueryJobs(ctx, db, d.SQL(l.stmt), d.Values(j.ID), false)
		if err != nil {
			return nil, err
		}
		*l.into = jobs
	}
	return rel, nil
}
