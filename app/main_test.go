package app

import (
	"os"
	"testing"
)

// TestMain lets the end-to-end tests run the test binary itself as `nexus`: with
// NEXUSTEST_MAIN=1 it is the real CLI, argument for argument, in its own process, so
// signals, exit codes and files are exercised for real without a separate go build.
// (The variable avoids the NEXUS_ prefix, which the configuration reserves.)
func TestMain(m *testing.M) {
	if os.Getenv("NEXUSTEST_MAIN") == "1" {
		os.Exit(Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}
