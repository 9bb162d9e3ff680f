package web

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/labstack/echo/v5"
)

// openapiJSON is the OpenAPI 3 document of /api/v1. It is written by hand, and
// openapi_test.go holds it to the router: every route documented and nothing else,
// access levels as registered, and real responses valid against its schemas.
//
//go:embed openapi.json
var openapiJSON []byte

// OpenAPI returns the API's OpenAPI 3 document (JSON).
func OpenAPI() []byte { return bytes.Clone(openapiJSON) }

func serveOpenAPI(c *echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "application/json", openapiJSON)
}

// docsPage renders the document once: it is a pure function of embedded data.
var docsPage = sync.OnceValues(func() ([]byte, error) { return renderDocs(openapiJSON) })

// docsCSP replaces the server's policy on the docs page: no script at all, and only
// the page's own inline style, pinned by its hash.
var docsCSP = func() string {
	sum := sha256.Sum256([]byte(docsStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'"
}()

func serveDocs(c *echo.Context) error {
	page, err := docsPage()
	if err != nil {
		return fmt.Errorf("docs: %w", err)
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", docsCSP)
	h.Set("Cache-Control", "no-cache")
	return c.HTMLBlob(http.StatusOK, page)
}

// The part of OpenAPI 3 that the docs page shows.
type (
	apiDoc struct {
		Info struct {
			Title       string `json:"title"`
			Version     string `json:"version"`
			Description string `json:"description"`
		} `json:"info"`
		Servers []struct {
			URL string `json:"url"`
		} `json:"servers"`
		Tags []struct {
			Name        string `json:"name"`
			Description string `json:"description"`
		} `json:"tags"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas    map[string]*apiSchema   `json:"schemas"`
			Parameters map[string]*apiParam    `json:"parameters"`
			Responses  map[string]*apiResponse `json:"responses"`
		} `json:"components"`
	}
	apiOperation struct {
		OperationID string                  `json:"operationId"`
		Tags        []string                `json:"tags"`
		Summary     string                  `json:"summary"`
		Description string                  `json:"description"`
		Access      string                  `json:"x-nexus-access"`
		Parameters  []*apiParam             `json:"parameters"`
		RequestBody *apiBody                `json:"requestBody"`
		Responses   map[string]*apiResponse `json:"responses"`
	}
	apiParam struct {
		Ref         string     `json:"$ref"`
		Name        string     `json:"name"`
		In          string     `json:"in"`
		Required    bool       `json:"required"`
		Description string     `json:"description"`
		Schema      *apiSchema `json:"schema"`
	}
	apiBody struct {
		Required bool                        `json:"required"`
		Content  map[string]*apiMediaContent `json:"content"`
	}
	apiMediaContent struct {
		Schema *apiSchema `json:"schema"`
	}
	apiResponse struct {
		Ref         string                      `json:"$ref"`
		Description string                      `json:"description"`
		Content     map[string]*apiMediaContent `json:"content"`
	}
	apiSchema struct {
		Ref                  string                `json:"$ref"`
		Type                 string                `json:"type"`
		Format               string                `json:"format"`
		Description          string                `json:"description"`
		Enum                 []any                 `json:"enum"`
		Default              any                   `json:"default"`
		Nullable             bool                  `json:"nullable"`
		Minimum              *float64              `json:"minimum"`
		Maximum              *float64              `json:"maximum"`
		MaxLength            *int                  `json:"maxLength"`
		Items                *apiSchema            `json:"items"`
		Properties           map[string]*apiSchema `json:"properties"`
		Required             []string              `json:"required"`
		AdditionalProperties json.RawMessage       `json:"additionalProperties"`
		AllOf                []*apiSchema          `json:"allOf"`
		AnyOf                []*apiSchema          `json:"anyOf"`
		OneOf                []*apiSchema          `json:"oneOf"`
	}
)

// docsView is what the template walks.
type (
	docsView struct {
		Title, Version, Base string
		Description          template.HTML
		Style                template.CSS
		Groups               []docsGroup
		Schemas              []docsSchema
	}
	docsGroup struct {
		Name        string
		Description template.HTML
		Ops         []docsOp
	}
	docsOp struct {
		ID, Method, Path, Access   string
		Summary, Description, Body template.HTML
		Params                     []docsField
		Responses                  []docsResponse
	}
	docsResponse struct {
		Status            string
		Description, Body template.HTML
	}
	docsField struct {
		Name, In          string
		Description, Type template.HTML
		Required          bool
	}
	docsSchema struct {
		Name              string
		Description, Type template.HTML
		Fields            []docsField
	}
)

var methodOrder = []string{"get", "post", "put", "patch", "delete"}

// renderDocs turns the document into one static page: every operation with its
// parameters, body and responses, and every schema as a table of its fields.
func renderDocs(raw []byte) ([]byte, error) {
	var d apiDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	v := docsView{Title: d.Info.Title, Version: d.Info.Version, Description: prose(d.Info.Description), Style: template.CSS(docsStyle)}
	if len(d.Servers) > 0 {
		v.Base = d.Servers[0].URL
	}
	ops := map[string][]docsOp{} // by tag
	paths := make([]string, 0, len(d.Paths))
	for p := range d.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		item := d.Paths[p]
		var shared []*apiParam
		if rawParams, ok := item["parameters"]; ok {
			if err := json.Unmarshal(rawParams, &shared); err != nil {
				return nil, fmt.Errorf("openapi.json: %s parameters: %w", p, err)
			}
		}
		for _, m := range methodOrder {
			rawOp, ok := item[m]
			if !ok {
				continue
			}
			var op apiOperation
			if err := json.Unmarshal(rawOp, &op); err != nil {
				return nil, fmt.Errorf("openapi.json: %s %s: %w", m, p, err)
			}
			out := docsOp{ID: op.OperationID, Method: strings.ToUpper(m), Path: v.Base + p, Summary: inline(op.Summary),
				Description: prose(op.Description), Access: op.Access}
			for _, prm := range append(slices.Clone(shared), op.Parameters...) {
				prm = d.param(prm)
				out.Params = append(out.Params, docsField{Name: prm.Name, In: prm.In, Required: prm.Required,
					Description: inline(prm.Description), Type: d.typeHTML(prm.Schema)})
			}
			if op.RequestBody != nil {
				out.Body = d.contentHTML(op.RequestBody.Content)
			}
			codes := make([]string, 0, len(op.Responses))
			for code := range op.Responses {
				codes = append(codes, code)
			}
			sort.Strings(codes)
			for _, code := range codes {
				r := d.response(op.Responses[code])
				out.Responses = append(out.Responses, docsResponse{Status: code, Description: inline(r.Description), Body: d.contentHTML(r.Content)})
			}
			tag := "other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			ops[tag] = append(ops[tag], out)
		}
	}
	for _, t := range d.Tags {
		v.Groups = append(v.Groups, docsGroup{Name: t.Name, Description: inline(t.Description), Ops: ops[t.Name]})
		delete(ops, t.Name)
	}
	for _, t := range slices.Sorted(maps.Keys(ops)) { // tags the document does not declare
		v.Groups = append(v.Groups, docsGroup{Name: t, Ops: ops[t]})
	}
	names := make([]string, 0, len(d.Components.Schemas))
	for n := range d.Components.Schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := d.Components.Schemas[n]
		v.Schemas = append(v.Schemas, docsSchema{Name: n, Description: inline(s.Description), Type: d.typeHTML(&apiSchema{
			Type: s.Type, Format: s.Format, Enum: s.Enum, Nullable: s.Nullable, Items: s.Items, AnyOf: s.AnyOf,
			OneOf: s.OneOf, AdditionalProperties: s.AdditionalProperties, Properties: s.Properties, AllOf: s.AllOf,
		}), Fields: d.fields(s)})
	}
	var buf bytes.Buffer
	if err := docsTemplate.Execute(&buf, v); err != nil {
		return nil, fmt.Errorf("docs template: %w", err)
	}
	return buf.Bytes(), nil
}

func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

func (d *apiDoc) param(p *apiParam) *apiParam {
	if p.Ref != "" {
		if r, ok := d.Components.Parameters[refName(p.Ref)]; ok {
			return r
		}
	}
	return p
}

func (d *apiDoc) response(r *apiResponse) *apiResponse {
	if r.Ref != "" {
		if x, ok := d.Components.Responses[refName(r.Ref)]; ok {
			return x
		}
	}
	return r
}

func (d *apiDoc) contentHTML(content map[string]*apiMediaContent) template.HTML {
	types := make([]string, 0, len(content))
	for t := range content {
		types = append(types, t)
	}
	sort.Strings(types)
	var b strings.Builder
	for i, t := range types {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "<code>%s</code>", template.HTMLEscapeString(t))
		if s := content[t].Schema; s != nil && (s.Ref != "" || s.Type != "string") {
			b.WriteString(" ")
			b.WriteString(string(d.typeHTML(s)))
		}
	}
	return template.HTML(b.String())
}

// typeHTML describes a schema in a few words, linking named schemas to their table.
func (d *apiDoc) typeHTML(s *apiSchema) template.HTML {
	if s == nil {
		return "any"
	}
	esc := template.HTMLEscapeString
	var out string
	switch {
	case s.Ref != "":
		n := refName(s.Ref)
		out = fmt.Sprintf(`<a href="#schema-%s">%s</a>`, esc(n), esc(n))
	case len(s.AllOf) == 1 && len(s.Properties) == 0:
		out = string(d.typeHTML(s.AllOf[0]))
	case len(s.AllOf) > 0:
		parts := make([]string, len(s.AllOf))
		for i, x := range s.AllOf {
			parts[i] = string(d.typeHTML(x))
		}
		out = strings.Join(parts, " + ")
	case len(s.OneOf) > 0 || len(s.AnyOf) > 0:
		alts := append(slices.Clone(s.OneOf), s.AnyOf...)
		parts := make([]string, len(alts))
		for i, x := range alts {
			parts[i] = string(d.typeHTML(x))
		}
		out = "one of " + strings.Join(parts, ", ")
	case s.Type == "array":
		out = "array of " + string(d.typeHTML(s.Items))
	case s.Type == "object" && len(s.Properties) == 0 && len(s.AdditionalProperties) > 0 && s.AdditionalProperties[0] == '{':
		var ap apiSchema
		json.Unmarshal(s.AdditionalProperties, &ap) //nolint:errcheck // a bad schema shows as "map of any"
		out = "map of " + string(d.typeHTML(&ap))
	case s.Type == "object" && len(s.Properties) == 0:
		out = "object"
	case s.Type == "object":
		names := make([]string, 0, len(s.Properties))
		for n := range s.Properties {
			names = append(names, esc(n))
		}
		sort.Strings(names)
		out = "object {" + strings.Join(names, ", ") + "}"
	default:
		out = esc(s.Type)
		if s.Format != "" {
			out += " (" + esc(s.Format) + ")"
		}
	}
	if len(s.Enum) > 0 {
		vals := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			vals[i] = "<code>" + esc(fmt.Sprint(e)) + "</code>"
		}
		out += ": " + strings.Join(vals, " | ")
	}
	var notes []string
	if s.Minimum != nil {
		notes = append(notes, fmt.Sprintf("min %g", *s.Minimum))
	}
	if s.Maximum != nil {
		notes = append(notes, fmt.Sprintf("max %g", *s.Maximum))
	}
	if s.MaxLength != nil {
		notes = append(notes, fmt.Sprintf("at most %d characters", *s.MaxLength))
	}
	if s.Default != nil {
		notes = append(notes, "default "+esc(fmt.Sprint(s.Default)))
	}
	if len(notes) > 0 {
		out += " (" + strings.Join(notes, ", ") + ")"
	}
	if s.Nullable {
		out += " or null"
	}
	return template.HTML(out)
}

// fields lists a schema's properties, those of allOf parts included.
func (d *apiDoc) fields(s *apiSchema) []docsField {
	var out []docsField
	for _, part := range s.AllOf {
		if part.Ref != "" {
			if named, ok := d.Components.Schemas[refName(part.Ref)]; ok {
				out = append(out, d.fields(named)...)
				continue
			}
		}
		out = append(out, d.fields(part)...)
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := s.Properties[n]
		out = append(out, docsField{Name: n, Required: slices.Contains(s.Required, n), Description: inline(p.Description), Type: d.typeHTML(p)})
	}
	return out
}

// inline escapes text and sets `spans` as code, the one markup the document uses.
func inline(s string) template.HTML {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString("<code>" + template.HTMLEscapeString(p) + "</code>")
			continue
		}
		if i%2 == 1 {
			b.WriteString("`") // an unpaired backtick stays as it is
		}
		b.WriteString(template.HTMLEscapeString(p))
	}
	return template.HTML(b.String())
}

// prose makes paragraphs of a description: a blank line separates them, a single
// line break is a space.
func prose(s string) template.HTML {
	var b strings.Builder
	for _, para := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if para = strings.TrimSpace(para); para != "" {
			b.WriteString("<p>" + string(inline(strings.ReplaceAll(para, "\n", " "))) + "</p>")
		}
	}
	return template.HTML(b.String())
}

const docsStyle = `body{font:15px/1.5 system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#1d2430}
h1{margin-bottom:0}h2{border-bottom:1px solid #d5dae1;padding-bottom:.2rem;margin-top:2.5rem}
h3{margin:1.6rem 0 .3rem;font-size:1.05rem}code{font:13px ui-monospace,monospace;background:#f1f3f6;padding:0 .2rem}
.m{display:inline-block;min-width:4.2rem;font:600 12px ui-monospace,monospace;color:#fff;background:#4a5568;border-radius:3px;text-align:center;margin-right:.4rem}
.GET{background:#2b6cb0}.POST{background:#2f855a}.PUT{background:#b7791f}.PATCH{background:#805ad5}.DELETE{background:#c53030}
.a{font-size:12px;color:#4a5568;border:1px solid #cbd2d9;border-radius:3px;padding:0 .3rem;margin-left:.4rem}
table{border-collapse:collapse;width:100%;margin:.3rem 0 .8rem}td,th{border-bottom:1px solid #e4e7eb;text-align:left;padding:.2rem .4rem;vertical-align:top}
th{font-weight:600;font-size:13px;color:#4a5568}nav ul{columns:2}a{color:#2b6cb0}`

var docsTemplate = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><style>{{.Style}}</style></head><body>
<h1>{{.Title}}</h1><p>Version {{.Version}} · base <code>{{.Base}}</code> · <a href="{{.Base}}/openapi.json">openapi.json</a></p>
{{.Description}}
<nav><ul>{{range .Groups}}{{range .Ops}}<li><a href="#{{.ID}}">{{.Method}} {{.Path}}</a></li>{{end}}{{end}}<li><a href="#schemas">Schemas</a></li></ul></nav>
{{range .Groups}}<h2>{{.Name}}</h2>{{if .Description}}<p>{{.Description}}</p>{{end}}
{{range .Ops}}<h3 id="{{.ID}}"><span class="m {{.Method}}">{{.Method}}</span><code>{{.Path}}</code>{{if .Access}}<span class="a">{{.Access}}</span>{{end}}</h3>
<p>{{.Summary}}</p>{{.Description}}
{{if .Params}}<table><tr><th>parameter</th><th>in</th><th>type</th><th></th></tr>{{range .Params}}<tr><td><code>{{.Name}}</code>{{if .Required}} *{{end}}</td><td>{{.In}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
{{if .Body}}<p>Body: {{.Body}}</p>{{end}}
<table><tr><th>status</th><th>response</th><th>body</th></tr>{{range .Responses}}<tr><td>{{.Status}}</td><td>{{.Description}}</td><td>{{.Body}}</td></tr>{{end}}</table>
{{end}}{{end}}
<h2 id="schemas">Schemas</h2>
{{range .Schemas}}<h3 id="schema-{{.Name}}">{{.Name}}</h3>{{if .Description}}<p>{{.Description}}</p>{{end}}
{{if .Fields}}<table><tr><th>field</th><th>type</th><th></th></tr>{{range .Fields}}<tr><td><code>{{.Name}}</code>{{if .Required}} *{{end}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{else}}<p>{{.Type}}</p>{{end}}
{{end}}<p>* required</p></body></html>
`))
