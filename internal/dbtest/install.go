package dbtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// binaries finds the programs a kind of server needs, installing them with
// hack/deps.sh when they are missing. The result maps a program's name to
// its path.
func binaries(kind Kind) (map[string]string, error) {
	var find func() (map[string]string, error)
	var dep string
	switch kind {
	case PostgreSQL:
		find, dep = findPostgreSQL, "postgresql"
	case MariaDB:
		find, dep = findMariaDB, "mariadb"
	}
	bins, err := find()
	if err == nil {
		return bins, nil
	}
	if ierr := install(dep); ierr != nil {
		return nil, fmt.Errorf("%w: %v; %v", ErrNotInstalled, err, ierr)
	}
	bins, err = find()
	if err != nil {
		return nil, fmt.Errorf("%w: hack/deps.sh %s ran, yet %v", ErrNotInstalled, dep, err)
	}
	return bins, nil
}

// findPostgreSQL finds initdb and postgres: on PATH, else in the newest
// /usr/lib/postgresql/<version>/bin, where Debian puts them.
func findPostgreSQL() (map[string]string, error) {
	dirs := []string{""}
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versions, func(i, j int) bool { return pgVersion(versions[i]) > pgVersion(versions[j]) })
	dirs = append(dirs, versions...)
	for _, dir := range dirs {
		if bins, ok := lookAll(dir, "initdb", "postgres"); ok {
			return bins, nil
		}
	}
	return nil, fmt.Errorf("no initdb and postgres on PATH nor in /usr/lib/postgresql/*/bin")
}

// pgVersion is the major version in a path /usr/lib/postgresql/<v>/bin.
func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// findMariaDB finds mariadbd and mariadb-install-db on PATH or in the
// sbin and bin directories.
func findMariaDB() (map[string]string, error) {
	bins := map[string]string{}
	for _, name := range []string{"mariadbd", "mariadb-install-db"} {
		path, err := exec.LookPath(name)
		if err != nil {
			for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
				if p := filepath.Join(dir, name); isExecutable(p) {
					path, err = p, nil
					break
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("no %s on PATH nor in /usr/sbin or /usr/bin", name)
		}
		bins[name] = path
	}
	return bins, nil
}

// lookAll finds every name in dir, or on PATH when dir is "".
func lookAll(dir string, names ...string) (map[string]string, bool) {
	bins := map[string]string{}
	for _, name := range names {
		if dir == "" {
			p, err := exec.LookPath(name)
			if err != nil {
				return nil, false
			}
			bins[name] = p
			continue
		}
		p := filepath.Join(dir, name)
		if !isExecutable(p) {
			return nil, false
		}
		bins[name] = p
	}
	return bins, true
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
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

// serviceUser returns the credential to run a server as when the tests run
// as root, which PostgreSQL refuses: the account name's (e.g. postgres). It
// returns nil when the tests do not run as root.
func serviceUser(name string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("running as root, and cannot find the %s account to run the server as: %w", name, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("account %s has uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("account %s has gid %q: %w", name, u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// chown gives paths to cred's user (nothing when cred is nil).
func chown(cred *syscall.Credential, paths ...string) error {
	if cred == nil {
		return nil
	}
	for _, p := range paths {
		if err := os.Lchown(p, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
	}
	return nil
}
