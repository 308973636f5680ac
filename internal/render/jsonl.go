package render

import (
	"io"
	"strings"

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

// JobWriter writes jobs one at a time in exactly the shape `list -o json`
// (one array) or `list -o jsonl` (one object a line) gives a whole slice,
// so a stream of any length is printed in constant memory.
type JobWriter struct {
	w     io.Writer
	array bool
	n     int
}

// NewJobWriter writes to w as f, which is FormatJSON or FormatJSONL.
func NewJobWriter(w io.Writer, f Format) *JobWriter {
	return &JobWriter{w: w, array: f == FormatJSON}
}

// Write writes one job.
func (jw *JobWriter) Write(j *store.Job) error {
	if !jw.array {
		return WriteJobsJSONL(jw.w, []*store.Job{j})
	}
	b, err := marshalJSON(exportJob(j), "  ")
	if err != nil {
		return err
	}
	sep := ",\n  "
	if jw.n == 0 {
		sep = "[\n  "
	}
	jw.n++
	// A JSON string holds no raw newline, so every newline is the
	// indentation's, and nesting it one level is a replace.
	elem := strings.ReplaceAll(strings.TrimSuffix(string(b), "\n"), "\n", "\n  ")
	_, err = io.WriteString(jw.w, sep+elem)
	return err
}

// Close ends the array; an empty one is [].
func (jw *JobWriter) Close() error {
	if !jw.array {
		return nil
	}
	end := "\n]\n"
	if jw.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(jw.w, end)
	return err
}
