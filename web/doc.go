// Package web is the HTTP face of Nexus: the JSON API under /api/v1, the health
// endpoints, and (later) the embedded web UI. Every route is listed in routes.go.
package web
