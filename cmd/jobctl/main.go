// Command jobctl is the operator console and worker for a database-backed
// job queue.
package main

import (
	"os"

	"github.com/jobctl/jobctl/internal/cli"
	"github.com/jobctl/jobctl/internal/supervise"
)

func main() {
	// A worker re-executes jobctl to supervise each exec handler; that runs
	// before (and without) the CLI.
	if supervise.Requested(os.Args) {
		os.Exit(supervise.Main(os.Args))
	}
	os.Exit(cli.Main(os.Args[1:]))
}
