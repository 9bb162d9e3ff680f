// Command nexus is a self-hosted social-listening tool for X in one binary.
package main

import (
	"os"
	_ "time/tzdata" // quiet hours name IANA zones; a minimal VPS may have no zoneinfo

	"nexus/app"
)

func main() { os.Exit(app.Main(os.Args[1:])) }
