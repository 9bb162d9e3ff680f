// Command nexus is a self-hosted social-listening tool for X in one binary.
package main

import (
	"os"

	"nexus/app"
)

func main() { os.Exit(app.Main(os.Args[1:])) }
