// Package scraper is the X client: it searches X and rebuilds conversation threads
// through X's own GraphQL web API, with a pool of logged-in browser sessions.
//
// It never imports store or pipeline; the storage it needs is declared here as small
// interfaces that *store.Store satisfies.
package scraper
