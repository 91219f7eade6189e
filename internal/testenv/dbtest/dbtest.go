// Package dbtest runs real database servers for tests: PostgreSQL and
// MariaDB from the Debian packages (internal/localdb), installing them with
// hack/deps.sh when they are missing.
//
// A package whose tests share servers starts them once in TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(dbtest.Run(m, dbtest.PostgreSQL, dbtest.MariaDB)) }
//
//	func TestSomething(t *testing.T) {
//		pg := dbtest.Shared(t, dbtest.PostgreSQL)
//		c := pg.NewDatabase(t) // a fresh user with a password and its own database
//		... c.Host, c.Port, c.Database, c.User, c.Password ...
//	}
//
// New starts a server of the test's own, stopped when the test ends.
//
// When a server's binaries are missing, hack/deps.sh installs them (as root;
// it is idempotent). A test that cannot get a server is skipped when the
// binaries cannot be installed, and fails otherwise; with CI=true it always
// fails, with a message that says what is missing.
//
// It is for tests only: a shipped binary uses internal/localdb, which never
// installs anything (cmd's TestNoTestPackages checks).
package dbtest

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/localdb"
)

// Kind is a database server the harness can run.
type Kind = localdb.Kind

// Conn is what a client needs to reach one database as one user.
type Conn = localdb.Conn

// The kinds of server.
const (
	PostgreSQL = localdb.PostgreSQL
	MariaDB    = localdb.MariaDB
)

// ErrNotInstalled is wrapped by Start's error when the server's binaries
// are missing and hack/deps.sh could not install them.
var ErrNotInstalled = localdb.ErrNotInstalled

// Server is a running database server (see localdb.Server).
type Server struct {
	*localdb.Server
}

// NewDatabase creates a user with a fresh random password and a database
// that it owns and that only it (and the superuser) may connect to.
func (s *Server) NewDatabase(tb testing.TB) Conn {
	tb.Helper()
	c, err := s.Server.NewDatabase()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Start starts a server of kind, installing its binaries with hack/deps.sh
// when they are missing. The caller stops it with Stop.
func Start(kind Kind) (*Server, error) {
	s, err := localdb.Start(kind)
	if errors.Is(err, localdb.ErrNotInstalled) {
		if ierr := install(depOf(kind)); ierr != nil {
			return nil, fmt.Errorf("%w; %v", err, ierr)
		}
		s, err = localdb.Start(kind)
	}
	if err != nil {
		return nil, err
	}
	return &Server{Server: s}, nil
}

// New starts a server of kind for tb alone and stops it when tb ends.
func New(tb testing.TB, kind Kind) *Server {
	tb.Helper()
	s, err := Start(kind)
	if err != nil {
		unavailable(tb, kind, err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Errorf("cannot stop %s: %v", kind, err)
		}
	})
	return s
}

// inCI reports whether the tests run in CI, where a missing server fails.
func inCI() bool { return os.Getenv("CI") == "true" }

// unavailable ends tb for a server that could not start: a skip when it is
// not installed and cannot be here, a failure otherwise and always in CI.
func unavailable(tb testing.TB, kind Kind, err error) {
	tb.Helper()
	if errors.Is(err, ErrNotInstalled) && !inCI() {
		tb.Skipf("%s is not available, skipping (set CI=true to fail instead): %v", kind, err)
	}
	tb.Fatalf("cannot start %s for the tests: %v", kind, err)
}

// fuzzing reports whether the test binary fuzzes (go test -fuzz): then its
// every worker runs TestMain, and servers start only for tests that ask.
func fuzzing() bool {
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return true
		}
	}
	return false
}

// shared holds the servers Shared hands out, one per kind per test binary.
var shared = struct {
	sync.Mutex
	servers map[Kind]*sharedServer
}{servers: map[Kind]*sharedServer{}}

type sharedServer struct {
	once   sync.Once
	server *Server
	err    error
}

func sharedOf(kind Kind) *sharedServer {
	shared.Lock()
	defer shared.Unlock()
	s := shared.servers[kind]
	if s == nil {
		s = &sharedServer{}
		shared.servers[kind] = s
	}
	return s
}

func (s *sharedServer) get(kind Kind) (*Server, error) {
	s.once.Do(func() { s.server, s.err = Start(kind) })
	return s.server, s.err
}

// Shared returns the server of kind that the tests of the package share,
// starting it on first use. Tests should not change what other tests use:
// take a database of the test's own with NewDatabase. Call Run from TestMain
// so that the servers stop when the tests end.
func Shared(tb testing.TB, kind Kind) *Server {
	tb.Helper()
	s, err := sharedOf(kind).get(kind)
	if err != nil {
		unavailable(tb, kind, err)
	}
	return s
}

// Run runs the tests of a package with m and then stops the servers Shared
// started. The kinds given start at once, in the background and in
// parallel, so that the first tests do not wait for them one after the
// other (but not when fuzzing). It returns the exit code for os.Exit.
func Run(m *testing.M, kinds ...Kind) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	StartShared(kinds...)
	return StopShared(m.Run())
}

// StartShared starts the shared servers of kinds in the background, for a
// TestMain that cannot use Run (because another harness runs m); call
// StopShared after the tests.
func StartShared(kinds ...Kind) {
	if fuzzing() {
		return
	}
	for _, k := range kinds {
		go func() { _, _ = sharedOf(k).get(k) }()
	}
}

// StopShared stops the servers Shared started, waiting for those still
// starting, and returns code, or 1 when a server did not stop cleanly.
func StopShared(code int) int {
	shared.Lock()
	servers := shared.servers
	shared.Unlock()
	for kind, s := range servers {
		srv, err := s.get(kind) // waits for a start still under way
		if err != nil {
			continue
		}
		if err := srv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "cannot stop the shared %s: %v\n", kind, err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}
