// Package pipeline runs the work of Nexus in the background: the worker pool that
// executes jobs from the store's job table, and the scheduler that starts listening
// runs on the campaigns' schedules.
package pipeline
