package web

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jobctl/jobctl/internal/ops"
)

// TestOpenAPIMatchesRoutes: every operation of /api/openapi.json is a route
// the server answers, and every route is in the document.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, req{method: "GET", path: OpenAPIPath})
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %d %s", OpenAPIPath, w.Code, w.Header().Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q; want 3.1.0", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	registered := []string{"GET " + HealthPath}
	for _, rt := range apiRoutes {
		registered = append(registered, rt.Method+" "+rt.Path)
	}
	slices.Sort(documented)
	slices.Sort(registered)
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in the OpenAPI document", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("the OpenAPI document has %s, which is no route", d)
		}
		// And the server answers it: the mux neither 404s nor 405s a
		// documented operation (an admin's request reaches a handler).
		method, path, _ := strings.Cut(d, " ")
		path = strings.ReplaceAll(path, "{id}", "job_failed1")
		w := e.do(t, req{method: method, path: path, as: "admin1", body: `{"all":true}`})
		if w.Code == http.StatusMethodNotAllowed || (w.Code == http.StatusNotFound && !strings.Contains(w.Body.String(), `"not_found"`)) {
			t.Errorf("%s: %d %s; the server does not route it", d, w.Code, w.Body)
		}
	}
	// Each route documents exactly the query parameters it takes.
	var params struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name, In string } `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &params); err != nil {
		t.Fatal(err)
	}
	for _, rt := range apiRoutes {
		var doc []string
		for _, p := range params.Paths[rt.Path][strings.ToLower(rt.Method)].Parameters {
			if p.In == "query" {
				doc = append(doc, p.Name)
			}
		}
		got := slices.Clone(rt.Query)
		slices.Sort(doc)
		slices.Sort(got)
		if !slices.Equal(doc, got) {
			t.Errorf("%s %s: documented query parameters %v; the route takes %v", rt.Method, rt.Path, doc, got)
		}
	}
	// The $refs all resolve.
	var full map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &full)
	schemas := full["components"].(map[string]any)["schemas"].(map[string]any)
	for _, m := range refRE.FindAllStringSubmatch(w.Body.String(), -1) {
		if _, ok := schemas[m[1]]; !ok {
			t.Errorf("$ref to #/components/schemas/%s, which is not there", m[1])
		}
	}
}

var refRE = regexp.MustCompile(`"\$ref": "#/components/schemas/([A-Za-z]+)"`)

// TestOpenAPIBulkCutShort: every bulk route documents its 503 as the
// Interrupted schema, whose fields are the ones the handler writes.
func TestOpenAPIBulkCutShort(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				AllOf []struct {
					Ref string `json:"$ref"`
				} `json:"allOf"`
				Required []string `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"retry", "cancel", "delete", "purge", "archive"} {
		r := doc.Paths["/api/admin/jobs/"+a]["post"].Responses["503"]
		if got := r.Content["application/json"].Schema.Ref; got != "#/components/schemas/Interrupted" {
			t.Errorf("POST /api/admin/jobs/%s: 503 schema %q; want the Interrupted schema", a, got)
		}
	}
	// The schema's required fields are exactly the body's.
	var want []string
	for _, part := range doc.Components.Schemas["Interrupted"].AllOf {
		want = append(want, doc.Components.Schemas[strings.TrimPrefix(part.Ref, "#/components/schemas/")].Required...)
	}
	b, _ := json.Marshal(interruptedBody{Result: fillResult(&ops.Result{})})
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	var got []string
	for k := range body {
		got = append(got, k)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("503 body fields %v; the document requires %v", got, want)
	}
}
