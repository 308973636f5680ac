package worker

import (
	"os"
	"testing"

	"github.com/jobctl/jobctl/internal/supervise"
)

// The test binary supervises the exec handlers of this package's tests, as
// the jobctl binary does in production.
func TestMain(m *testing.M) {
	if supervise.Requested(os.Args) {
		os.Exit(supervise.Main(os.Args))
	}
	exe, err := supervise.Executable()
	if err != nil {
		panic(err)
	}
	testSupervisor = exe
	os.Exit(m.Run())
}
