package cli

import (
	"context"
	"fmt"

	"github.com/jobctl/jobctl/internal/store"
)

// checkAfter refuses a --after cursor that names no job: the keyset would
// match nothing, and an empty page would read as "no more jobs".
func checkAfter(ctx context.Context, s store.Store, after string, archived bool) error {
	if after == "" {
		return nil
	}
	ok, err := anchorExists(ctx, s, after, archived)
	if err != nil {
		return err
	}
	if !ok {
		what := "job"
		if archived {
			what = "archived job"
		}
		return fmt.Errorf("--after %s: no such %s", after, what)
	}
	return nil
}

// anchorExists reports whether the job a keyset page starts after is
// there: the keyset compares with its row, so without it nothing matches.
func anchorExists(ctx context.Context, s store.Store, id string, archived bool) (bool, error) {
	n, err := s.Count(ctx, &store.Filter{IDs: []string{id}}, archived)
	return n > 0, err
}
