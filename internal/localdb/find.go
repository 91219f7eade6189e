package localdb

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
)

// binaries finds the programs a kind of server needs; the result maps a
// program's name to its path. When they are missing, the error wraps
// ErrNotInstalled and says how to install them.
func binaries(kind Kind) (map[string]string, error) {
	find, pkg := findPostgreSQL, "postgresql"
	if kind == MariaDB {
		find, pkg = findMariaDB, "mariadb-server"
	}
	bins, err := find()
	if err != nil {
		return nil, fmt.Errorf("%w: %v; install them with `sudo apt-get install %s` (Debian, Ubuntu) or your system's package manager", ErrNotInstalled, err, pkg)
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
