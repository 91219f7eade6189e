// Package localdb runs a PostgreSQL or MariaDB server from the binaries
// installed on the machine, in a temporary directory on a free loopback
// port, with password authentication over TCP (so a wrong password really
// fails) and TLS with a certificate from a throwaway CA. No system service is
// used or started, and nothing is installed: when the binaries are missing,
// Start's error wraps ErrNotInstalled and says how to install them.
//
// `gatehouse dev` uses it for the samples' database; the tests use it through
// internal/testenv/dbtest, which also installs the binaries and shares servers
// between the tests of a package.
package localdb

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Kind is a database server the harness can run.
type Kind string

// The kinds of server.
const (
	// PostgreSQL is the postgresql package's server (postgres, initdb).
	PostgreSQL Kind = "PostgreSQL"
	// MariaDB is the mariadb-server package's server (mariadbd,
	// mariadb-install-db); clients speak the MySQL protocol.
	MariaDB Kind = "MariaDB"
)

// ErrNotInstalled is wrapped by Start's error when the server's binaries
// are missing.
var ErrNotInstalled = errors.New("database server not installed")

// Conn is what a client needs to reach one database as one user.
type Conn struct {
	// Host is the server's address, 127.0.0.1.
	Host string
	// Port is the server's TCP port.
	Port int
	// Database is the database's name.
	Database string
	// User is the user's name.
	User string
	// Password is the user's password.
	Password string
}

// Addr returns host:port.
func (c Conn) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// String returns user@host:port/database, without the password.
func (c Conn) String() string { return c.User + "@" + c.Addr() + "/" + c.Database }

// Server is a running database server.
type Server struct {
	// Kind is the kind of server.
	Kind Kind
	// Conn is an unprivileged user with a password that owns a database of
	// its own; other users may not connect to that database.
	Conn
	// Admin is the superuser, over TCP with a password.
	Admin Conn
	// CACert is the PEM certificate of the CA that signed the server's TLS
	// certificate, which is valid for 127.0.0.1, ::1 and localhost.
	CACert []byte

	dir     string // temporary directory: data, socket, logs
	socket  string // unix socket: the directory (PostgreSQL) or file (MariaDB)
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited
	waitErr error         // cmd.Wait's error, once exited is closed
	stopSig syscall.Signal
	stop    sync.Once
	stopErr error
	seq     int
	seqMu   sync.Mutex
}

// String names the server: "PostgreSQL at 127.0.0.1:port".
func (s *Server) String() string { return string(s.Kind) + " at " + s.Admin.Addr() }

// RootCAs returns a pool holding CACert, for clients that verify the
// server's certificate.
func (s *Server) RootCAs() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CACert)
	return pool
}

// Start starts a server of kind and creates its user and database. The
// caller stops it with Stop.
func Start(kind Kind) (*Server, error) {
	switch kind {
	case PostgreSQL:
		return startPostgreSQL()
	case MariaDB:
		return startMariaDB()
	default:
		return nil, fmt.Errorf("localdb: unknown kind %q (want %s or %s)", kind, PostgreSQL, MariaDB)
	}
}

// NewDatabase creates a user with a fresh random password and a database
// that it owns and that only it (and the superuser) may connect to.
func (s *Server) NewDatabase() (Conn, error) {
	s.seqMu.Lock()
	s.seq++
	name := fmt.Sprintf("db%d_%s", s.seq, randomHex(3))
	s.seqMu.Unlock()
	c, err := s.newDatabase(name)
	if err != nil {
		return Conn{}, fmt.Errorf("cannot create database %s on %s: %w", name, s.Kind, err)
	}
	return c, nil
}

func (s *Server) newDatabase(name string) (Conn, error) {
	c := Conn{Host: s.Admin.Host, Port: s.Admin.Port, Database: name, User: name, Password: randomHex(12)}
	var err error
	switch s.Kind {
	case PostgreSQL:
		err = s.pgCreate(c)
	case MariaDB:
		err = s.mariaCreate(c)
	}
	return c, err
}

// Stop stops the server and removes its directory. It is safe to call more
// than once.
func (s *Server) Stop() error {
	s.stop.Do(func() {
		s.stopErr = s.terminate()
		if err := os.RemoveAll(s.dir); err != nil && s.stopErr == nil {
			s.stopErr = fmt.Errorf("cannot remove %s: %w", s.dir, err)
		}
	})
	return s.stopErr
}

// terminate asks the server to shut down, and kills its process group if it
// has not after 10s.
func (s *Server) terminate() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(s.stopSig)
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
	return fmt.Errorf("%s did not shut down within 10s and was killed", s.Kind)
}

// Running reports whether the server's process has not exited.
func (s *Server) Running() bool {
	if s.exited == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Dir is the server's temporary directory (data, socket, logs), removed by
// Stop.
func (s *Server) Dir() string { return s.dir }

// Log returns the end of the server's log, for failure messages.
func (s *Server) Log() string { return tail(s.logPath, 30) }

// launch starts cmd in its own process group, killed with the calling process,
// with its output appended to the server log.
func (s *Server) launch(cmd *exec.Cmd, cred *syscall.Credential) error {
	out, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("cannot open the server log: %w", err)
	}
	defer func() { _ = out.Close() }()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Dir = s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: s.stopSig, Credential: cred}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start %s: %w", cmd.Path, err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	return nil
}

// waitReady calls ready until it succeeds, the server exits or 30s pass.
func (s *Server) waitReady(ready func() error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited while starting (%v); its log ends:\n%s", s.Kind, s.waitErr, s.Log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = s.terminate()
			return fmt.Errorf("%s did not accept connections within 30s (last error: %v); its log ends:\n%s", s.Kind, err, s.Log())
		}
	}
}

// portInUse reports whether the server died because its port was taken
// between freePort and its start.
func (s *Server) portInUse() bool {
	log := s.Log()
	return strings.Contains(log, "Address already in use") || strings.Contains(log, "could not bind")
}

// freePort returns a TCP port on 127.0.0.1 that nothing listened on a moment
// ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("cannot find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// identifier matches the user and database names CreateDatabase accepts.
var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// CreateDatabase creates the user of c with its password, and its database,
// on the server (for `gatehouse dev`, which points the samples' connection
// at a local server). Names must be lower-case SQL identifiers; the
// password must not contain a quote.
func (s *Server) CreateDatabase(c Conn) error {
	if !identifier.MatchString(c.User) || !identifier.MatchString(c.Database) {
		return fmt.Errorf("user %q or database %q is not a plain lower-case identifier", c.User, c.Database)
	}
	if strings.ContainsAny(c.Password, `'\`) {
		return fmt.Errorf("the password of user %s contains a quote or a backslash", c.User)
	}
	c.Host, c.Port = s.Admin.Host, s.Admin.Port
	switch s.Kind {
	case PostgreSQL:
		return s.pgCreate(c)
	case MariaDB:
		return s.mariaCreate(c)
	}
	return fmt.Errorf("unknown server kind %s", s.Kind)
}
