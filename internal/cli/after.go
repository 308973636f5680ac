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
	n, err := s.Count(ctx, &store.Filter{IDs: []string{after}}, archived)
	if err != nil {
		return err
	}
	if n == 0 {
		what := "job"
		if archived {
			what = "archived job"
		}
		return fmt.Errorf("--after %s: no such %s", after, what)
	}
	return nil
}
