package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
)

// errorBody is the API's error: {"error":{"code","message"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    ops.Code `json:"code"`
	Message string   `json:"message"`
	// Field names the query parameter or body field at fault.
	Field string `json:"field,omitempty"`
}

// forbiddenBody is the guide's answer to a job that is not the caller's.
var forbiddenBody = map[string]string{"error": "Forbidden"}

// statusOf is the HTTP status of each error code.
var statusOf = map[ops.Code]int{
	ops.CodeInvalid:       http.StatusBadRequest,
	ops.CodeUnauthorized:  http.StatusUnauthorized,
	ops.CodeForbidden:     http.StatusForbidden,
	ops.CodeNotFound:      http.StatusNotFound,
	ops.CodeConflict:      http.StatusConflict,
	ops.CodeUnprocessable: http.StatusUnprocessableEntity,
	ops.CodeUnavailable:   http.StatusServiceUnavailable,
}

// apiError turns an error into the API's status and body; ok is false for
// an error that is not the client's (a 500).
func apiError(err error) (int, any, bool) {
	var e *ops.Error
	switch {
	case errors.Is(err, ops.ErrForbiddenJob):
		return http.StatusForbidden, forbiddenBody, true
	case errors.As(err, &e):
		if e.Code == ops.CodeForbidden && e.Message == ops.ErrForbiddenJob.Message {
			return http.StatusForbidden, forbiddenBody, true
		}
		code, ok := statusOf[e.Code]
		if !ok {
			return http.StatusInternalServerError, nil, false
		}
		return code, errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Field: e.Field}}, true
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, errorBody{Error: errorDetail{Code: ops.CodeNotFound, Message: err.Error()}}, true
	}
	var pe *store.PermissionError
	if errors.As(err, &pe) {
		return http.StatusForbidden, errorBody{Error: errorDetail{Code: ops.CodeForbidden, Message: pe.Error()}}, true
	}
	if errors.Is(err, store.ErrUnavailable) {
		return http.StatusServiceUnavailable, errorBody{Error: errorDetail{Code: ops.CodeUnavailable, Message: err.Error()}}, true
	}
	if errors.Is(err, store.ErrReadOnly) {
		return http.StatusConflict, errorBody{Error: errorDetail{Code: ops.CodeConflict, Message: err.Error()}}, true
	}
	return http.StatusInternalServerError, nil, false
}

// writeError writes a client error; see apiError.
func writeError(w http.ResponseWriter, err error) {
	code, body, ok := apiError(err)
	if !ok {
		body = errorBody{Error: errorDetail{Code: "internal", Message: "internal error: see the server log"}}
	}
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// canceled reports whether the client went away: nothing to answer.
func canceled(r *http.Request, err error) bool {
	return errors.Is(err, context.Canceled) && r.Context().Err() != nil
}
