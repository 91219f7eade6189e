package testenv

import (
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// Trap records what reading a pull request's manifests must never do: run
// git (a git first on PATH that records its arguments and fails) or connect
// anywhere (a SilentListener on the loopback, whose address is Addr, for
// the URLs a test writes). Check fails the test if either happened.
type Trap struct {
	Addr   string
	gitLog string
	conns  *atomic.Int32
}

// NewTrap sets the trap for the rest of the test.
func NewTrap(t testing.TB) *Trap {
	t.Helper()
	bin := t.TempDir()
	tr := &Trap{gitLog: filepath.Join(bin, "git.log")}
	script := "#!/bin/sh\necho \"$@\" >> " + tr.gitLog + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o700); err != nil { //nolint:gosec // an executable, for the test's PATH
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	port, conns := SilentListener(t)
	tr.Addr, tr.conns = "127.0.0.1:"+strconv.Itoa(port), conns
	return tr
}

// Check fails the test if git ran or anything connected.
func (tr *Trap) Check(t testing.TB) {
	t.Helper()
	if log, err := os.ReadFile(tr.gitLog); err == nil {
		t.Errorf("git ran: %s", log)
	}
	time.Sleep(10 * time.Millisecond) // let a connection in flight be accepted
	if n := tr.conns.Load(); n > 0 {
		t.Errorf("%d connections reached the listener", n)
	}
}

// BinDir is the directory of the trap's git, which stays first on PATH.
func (tr *Trap) BinDir() string { return filepath.Dir(tr.gitLog) }
