// Command jobctl is the operator console and worker for a database-backed
// job queue.
package main

import (
	"os"

	"github.com/jobctl/jobctl/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
