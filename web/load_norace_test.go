//go:build !race

package web

// raceEnabled: see load_race_test.go.
const raceEnabled = false
