//go:build linux

package main_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// waitShown waits until the terminal shows want.
func (r *ptyRun) waitShown(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(r.shown(), want) {
		if time.Now().After(deadline) {
			_ = r.cmd.Process.Kill()
			t.Fatalf("the terminal never showed %q; it shows:\n%s", want, r.shown())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *ptyRun) exitCode(t *testing.T) int {
	t.Helper()
	exited := make(chan error, 1)
	go func() { exited <- r.cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		t.Fatalf("jobctl did not exit; the terminal shows:\n%s", r.shown())
	}
	return -1
}

// The password typed at `user add` is never shown, and it is asked twice.
func TestPasswordPromptDoesNotEcho(t *testing.T) {
	t.Parallel()
	s := newPTYStore(t, "sqlite")
	r, _ := startOnPTY(t, s.env, 100, 24, "user", "add", "alice", "--role", "admin")
	r.waitShown(t, "Password: ")
	if _, err := r.tty.Write([]byte("correct horse\n")); err != nil {
		t.Fatal(err)
	}
	r.waitShown(t, "Password (again): ")
	if _, err := r.tty.Write([]byte("correct horse\n")); err != nil {
		t.Fatal(err)
	}
	if code := r.exitCode(t); code != 0 {
		t.Fatalf("exit %d; the terminal shows:\n%s", code, r.shown())
	}
	<-r.done
	if shown := r.shown(); strings.Contains(shown, "correct") || !strings.Contains(shown, "Added account alice (admin)") {
		t.Errorf("the terminal shows:\n%s", shown)
	}
	if out := s.jobctl(t, "user", "list"); !strings.Contains(out, "alice\tadmin") {
		t.Errorf("user list:\n%s", out)
	}
}

// Ctrl-C at the password prompt ends jobctl at once with 130 and gives
// the terminal its echo back.
func TestPasswordPromptCtrlC(t *testing.T) {
	t.Parallel()
	s := newPTYStore(t, "sqlite")
	r, _ := startOnPTY(t, s.env, 100, 24, "user", "add", "alice", "--role", "admin")
	r.waitShown(t, "Password: ")
	fd := int(r.tty.Fd())
	if tio, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		t.Fatal(err)
	} else if tio.Lflag&unix.ECHO != 0 {
		t.Fatal("the prompt is echoing")
	}
	if _, err := r.tty.Write([]byte("\x03")); err != nil {
		t.Fatal(err)
	}
	if code := r.exitCode(t); code != 130 {
		t.Errorf("exit %d; want 130. The terminal shows:\n%s", code, r.shown())
	}
	tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&unix.ECHO == 0 {
		t.Error("jobctl left the terminal without echo")
	}
	if out := s.jobctl(t, "user", "list", "-o", "json"); out != "[]" {
		t.Errorf("an interrupted add added: %s", out)
	}
}

// Ctrl-D at the password prompt says no password was given, exits 1 and
// adds nothing.
func TestPasswordPromptCtrlD(t *testing.T) {
	t.Parallel()
	s := newPTYStore(t, "sqlite")
	r, _ := startOnPTY(t, s.env, 100, 24, "user", "add", "alice", "--role", "admin")
	r.waitShown(t, "Password: ")
	if _, err := r.tty.Write([]byte("\x04")); err != nil {
		t.Fatal(err)
	}
	if code := r.exitCode(t); code != 1 {
		t.Errorf("exit %d; want 1. The terminal shows:\n%s", code, r.shown())
	}
	<-r.done
	if shown := r.shown(); !strings.Contains(shown, "no password given; nothing changed") {
		t.Errorf("the terminal shows:\n%s", shown)
	}
	if out := s.jobctl(t, "user", "list", "-o", "json"); out != "[]" {
		t.Errorf("an abandoned add added: %s", out)
	}
}
