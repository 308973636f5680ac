package jobsql

import "context"

// Lock order. An UPDATE or DELETE locks its rows in whatever order its plan
// visits them (index order, heap order, the order of a VALUES list), so two
// statements changing overlapping sets of rows can each hold a row the
// other waits for: a deadlock, and Postgres kills one of them. Every
// statement or transaction that changes several "Job" rows therefore first
// locks them with SELECT ... ORDER BY id FOR UPDATE, the one order all of
// them share, and changes only rows it holds. SQLite has one writer at a
// time and takes no row locks, so there the conditions stay as they are.

// lockedWhere is cond, restricted on Postgres to the rows of table that a
// subquery (run before the statement changes any row) has locked in id
// order.
func lockedWhere(d *Dialect, table, cond string) string {
	if d.LockRows == "" {
		return cond
	}
	return cond + " AND " + d.IDIn(`SELECT id FROM `+table+` WHERE `+cond+` ORDER BY id`+d.LockRows)
}

// lockJobs locks the "Job" rows matching cond in id order until the
// transaction ends: for a transaction whose statements change different
// sets of rows (a completion, then the jobs waiting on it), so that all of
// its locks are taken up front, in one order.
func lockJobs(ctx context.Context, db DB, d *Dialect, cond string, args []any) error {
	if d.LockRows == "" {
		return nil
	}
	_, err := db.Exec(ctx, `SELECT id FROM "Job" WHERE `+cond+` ORDER BY id`+d.LockRows, args...)
	return err
}
