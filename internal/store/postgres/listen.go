package postgres

import (
	"context"

	"github.com/jobctl/jobctl/internal/store"
)

var _ store.Listener = (*Store)(nil)

// notifyChannel is the channel the "Job" triggers notify; the payload is
// the schema, so stores in other schemas of the database stay quiet.
const notifyChannel = "jobctl_job"

// Listen implements store.Listener on a connection of its own.
func (s *Store) Listen(ctx context.Context, wake func()) error {
	pooled, err := s.pool.Acquire(ctx)
	if err != nil {
		return s.wrap("listen", store.PermRead, err)
	}
	// A LISTENing connection must not go back to the pool.
	conn := pooled.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return s.wrap("listen", store.PermRead, err)
	}
	// Work enqueued while there was no subscription (before the first, or
	// during an outage) sent its notifications to nobody: look now.
	wake()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return s.wrap("listen", store.PermRead, err)
		}
		if n.Payload == s.schema {
			wake()
		}
	}
}
