package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// httpHandler POSTs the job as JSON. 2xx completes it (a JSON body becomes
// output); 429 and 5xx are retryable; other 4xx are not.
type httpHandler struct {
	url    string
	client *http.Client
}

func newHTTPHandler(url string, timeout time.Duration) *httpHandler {
	return &httpHandler{url: url, client: &http.Client{Timeout: timeout}}
}

// httpJob is the request body.
type httpJob struct {
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	Data     json.RawMessage `json:"data"`
	Attempt  int             `json:"attempt"`
	UserID   string          `json:"userId,omitempty"`
	ParentID string          `json:"parentId,omitempty"`
}

func (h *httpHandler) Run(ctx context.Context, j *store.Job) (json.RawMessage, error) {
	body, err := json.Marshal(httpJob{ID: j.ID, Type: j.Type, Data: j.Data, Attempt: j.Attempts, UserID: j.UserID, ParentID: j.ParentID})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return nil, &JobError{Code: "HANDLER_ERROR", Message: err.Error(), Retryable: no()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", fmt.Sprintf("%s/%d", j.ID, j.Attempts))
	resp, err := h.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &JobError{Code: "NETWORK_ERROR", Message: err.Error()}
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, outputLimit))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return outputJSON(respBody), nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return nil, &JobError{Code: "RATE_LIMIT", Message: httpMessage(resp, respBody), Retryable: yes()}
	case resp.StatusCode >= 500:
		return nil, &JobError{Code: fmt.Sprintf("HTTP_%d", resp.StatusCode), Message: httpMessage(resp, respBody), Retryable: yes()}
	}
	code := fmt.Sprintf("HTTP_%d", resp.StatusCode)
	var reported struct{ Code, Message string }
	if json.Unmarshal(respBody, &reported) == nil && reported.Code != "" {
		return nil, &JobError{Code: reported.Code, Message: reported.Message, Retryable: no()}
	}
	return nil, &JobError{Code: code, Message: httpMessage(resp, respBody), Retryable: no()}
}

func httpMessage(resp *http.Response, body []byte) string {
	msg := resp.Status
	if b := strings.TrimSpace(string(body)); b != "" {
		if len(b) > 1024 {
			b = b[:1024] + "…"
		}
		msg += ": " + b
	}
	return msg
}
