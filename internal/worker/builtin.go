package worker

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// noop completes at once: for benchmarks and smoke tests.
type noop struct{}

func (noop) Run(context.Context, *store.Job) (json.RawMessage, error) { return nil, nil }

// sleeper waits data.ms milliseconds, or until cancelled.
type sleeper struct{}

func (sleeper) Run(ctx context.Context, j *store.Job) (json.RawMessage, error) {
	var in struct {
		MS int64 `json:"ms"`
	}
	if err := json.Unmarshal(j.Data, &in); err != nil {
		return nil, &JobError{Code: "INVALID_PARAMS", Message: "sleep: data.ms: " + err.Error()}
	}
	t := time.NewTimer(time.Duration(in.MS) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return json.RawMessage(`{"slept_ms":` + jsonInt(in.MS) + `}`), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// failer fails with data.code (default NETWORK_ERROR) and data.message.
type failer struct{}

func (failer) Run(_ context.Context, j *store.Job) (json.RawMessage, error) {
	in := struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{Code: "NETWORK_ERROR", Message: "builtin fail handler"}
	_ = json.Unmarshal(j.Data, &in)
	return nil, &JobError{Code: in.Code, Message: in.Message}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
