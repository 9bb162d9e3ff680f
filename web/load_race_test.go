//go:build race

package web

// raceEnabled: the race detector slows the pure-Go SQLite by an order of magnitude,
// so TestAPILoad's short mode shrinks under it.
const raceEnabled = true
