// Package app wires Nexus together: configuration, logging, the secret key, the CLI
// commands and the lifecycle of `nexus serve`. main.go only calls Main.
package app
