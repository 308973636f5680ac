package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// serverCPU is the CPU time the local Postgres server's processes have used
// so far: each postgres process's own time and that of the children it has
// reaped (the postmaster's, for backends that have exited). A burn's share
// is the difference across it, which counts everything the server did
// meanwhile: on a quiet machine, the burn's statements and the server's
// own writers. It is 0 where /proc shows no postgres process (a remote
// server) or does not let the bench read them.
func serverCPU() time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: the fields after comm's ")" start at
		// field 3; utime, stime, cutime, cstime are fields 14-17.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || !bytes.HasSuffix(b[:i], []byte("(postgres")) {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) < 15 {
			continue
		}
		for _, v := range f[11:15] {
			n, _ := strconv.ParseInt(string(v), 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// cpuPerJob formats d over n jobs in µs, or "-" when d was not measured.
func cpuPerJob(d time.Duration, n int64) string {
	if d <= 0 || n <= 0 {
		return "-"
	}
	return strconv.FormatInt(d.Microseconds()/n, 10) + " µs"
}
