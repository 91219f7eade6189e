package dbtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// depOf is hack/deps.sh's name for the packages of a kind of server.
func depOf(kind Kind) string {
	if kind == MariaDB {
		return "mariadb"
	}
	return "postgresql"
}

// install runs hack/deps.sh dep from the enclosing repository, under a lock
// file so that test binaries of several packages do not run apt at once.
func install(dep string) error {
	script, err := depsScript()
	if err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "gatehouse-deps.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("cannot open the install lock: %w", err)
	}
	defer func() { _ = lock.Close() }()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("cannot take the install lock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing the file releases it anyway
	out, err := exec.Command("bash", script, dep).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s failed (%w): %s", script, dep, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// depsScript finds hack/deps.sh in the working directory or above it (go
// test runs in the package's directory).
func depsScript() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("cannot find hack/deps.sh: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "hack", "deps.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("cannot find hack/deps.sh in %s or above it", wd)
		}
	}
}
