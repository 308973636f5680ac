package render

import (
	"io"

	"github.com/jobctl/jobctl/internal/store"
)

// WriteJobsJSONL writes jobs one a line in exactly the shape of
// `list -o jsonl`, so a file written by `archive --to` reads like a listing.
func WriteJobsJSONL(w io.Writer, jobs []*store.Job) error {
	for _, j := range jobs {
		b, err := marshalJSON(exportJob(j), "")
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
