package ldaptest

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Daemon is a server process a test runs — slapd here, Samba in adtest:
// started with its output kept, waited for until it serves, and stopped
// with SIGTERM and, after 5 s, SIGKILL. Safe for concurrent use.
type Daemon struct {
	// Name names the program in errors ("slapd").
	Name string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	logs *lockedBuffer
}

// Start runs cmd, its output kept for Logs, and returns once ready(pid)
// reports true. It fails, and leaves nothing running, when the process
// exits first or is not ready within timeout.
func (d *Daemon) Start(cmd *exec.Cmd, timeout time.Duration, ready func(pid int) bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd != nil {
		return fmt.Errorf("%s is already running", d.Name)
	}
	d.logs = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = d.logs, d.logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", d.Name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	d.cmd, d.done = cmd, done
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-done:
			d.cmd = nil
			return fmt.Errorf("%w: %s", errExited(d.Name), d.logs.String())
		default:
		}
		if ready(cmd.Process.Pid) {
			return nil
		}
		if time.Now().After(deadline) {
			d.stopLocked()
			return fmt.Errorf("%s was not ready within %s: %s", d.Name, timeout, d.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exitedError: the process exited before it was ready.
type exitedError string

func (e exitedError) Error() string { return string(e) + " exited at start" }

func errExited(name string) error { return exitedError(name) }

// exitedAtStart reports whether Start failed because the process exited.
func exitedAtStart(err error) bool {
	var e exitedError
	return errors.As(err, &e)
}

// Stop stops the process and waits for it to exit; stopping a stopped
// Daemon does nothing.
func (d *Daemon) Stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopLocked()
}

func (d *Daemon) stopLocked() {
	if d.cmd == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
	d.cmd = nil
}

// Running reports whether the process runs.
func (d *Daemon) Running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cmd != nil
}

// Logs returns what the process printed since its last start (up to
// 1 MiB).
func (d *Daemon) Logs() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.logs == nil {
		return ""
	}
	return d.logs.String()
}

// lockedBuffer is a bytes.Buffer that the process's output goroutines and
// the test may use at once; it keeps the first MiB.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
