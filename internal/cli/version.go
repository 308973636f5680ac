package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/render"
)

// VersionInfo is what `jobctl version` reports.
type VersionInfo struct {
	Version string `json:"version"`
	// Commit is the VCS revision the binary was built from, with
	// "-dirty" when the tree had changes; null when the build recorded
	// none (go build -buildvcs=false, or outside a checkout).
	Commit *string `json:"commit"`
	Go     string  `json:"go"`
	OS     string  `json:"os"`
	Arch   string  `json:"arch"`
}

// buildInfo reads the version: Version as the Makefile sets it, else the
// module version `go install …@v1.2.3` records, and the commit Go stamps.
func buildInfo() VersionInfo {
	v := VersionInfo{Version: Version, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if v.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Version = bi.Main.Version
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" {
		if dirty {
			rev += "-dirty"
		}
		v.Commit = &rev
	}
	return v
}

// versionLine is the one line both `jobctl version` and `jobctl --version`
// print: "jobctl version v1.2.3 (commit 1a2b3c4d5e6f, go1.26.0 linux/amd64)".
func versionLine(v VersionInfo) string {
	extra := v.Go + " " + v.OS + "/" + v.Arch
	if v.Commit != nil {
		c, dirty := strings.CutSuffix(*v.Commit, "-dirty")
		if len(c) > 12 {
			c = c[:12]
		}
		if dirty {
			c += "-dirty"
		}
		extra = "commit " + c + ", " + extra
	}
	return fmt.Sprintf("jobctl version %s (%s)\n", v.Version, extra)
}

// NewCmdVersion builds `jobctl version`.
func NewCmdVersion(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print jobctl's version, commit, Go version and platform",
		Long: `Print the version jobctl was built as, the commit it was built from,
the Go release that built it and the platform. --version prints the same
line. -o json prints {"version","commit","go","os","arch"}; commit is null
when the build recorded none.`,
		Example: `  jobctl version
  jobctl version -o json`,
		Args:        cobra.NoArgs,
		Annotations: cmdutil.FormatsAnnotation(render.FormatTable, render.FormatJSON, render.FormatYAML),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := f.Format()
			if err != nil {
				return err
			}
			v := buildInfo()
			if format == render.FormatTable {
				f.IO.Printf("%s", versionLine(v))
				return nil
			}
			return f.IO.Encode(format, v)
		},
	}
}
