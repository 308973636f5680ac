package web

import (
	_ "embed"
	"net/http"
)

// openAPI is the REST API's OpenAPI 3.1 document, written by hand so it
// reads as documentation; TestOpenAPIMatchesRoutes keeps it and the routes
// alike.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}
