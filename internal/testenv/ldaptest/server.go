// Package ldaptest runs a real OpenLDAP slapd for tests: its own process
// from a generated slapd.conf in a temporary directory, on free loopback
// ports (ldap:// with StartTLS, and ldaps://), with a CA and server
// certificate made for the test, seeded from generated LDIF with slapadd.
//
// A test starts one with Start(t, tree); t.Cleanup stops it. Stop and
// Restart simulate an outage on the same port and data; Proxy injects
// connection faults; Add, Modify and Delete change the directory at run
// time, as the rootdn. The trees of trees.go are the data: RFC 2307,
// groupOfNames, nested groups with a cycle, big directories, and the public
// Planet Express test directory.
//
// slapd comes from Debian's slapd package. When /usr/sbin/slapd is missing,
// Start runs hack/deps.sh ldap to install it; when that is impossible it
// skips the test, or fails it when the environment variable CI is true.
package ldaptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// Paths of the Debian OpenLDAP installation.
const (
	SlapdPath  = "/usr/sbin/slapd"
	SlapaddDir = "/usr/sbin"
	SchemaDir  = "/etc/ldap/schema"
	ModuleDir  = "/usr/lib/ldap"
)

// The defaults of a Tree.
const (
	DefaultSuffix        = "dc=example,dc=org"
	DefaultAdminPassword = "admin-secret-7Qx" //nolint:gosec // G101: the throwaway rootdn password of a test server
)

// startTimeout bounds how long slapd may take to listen.
const startTimeout = 15 * time.Second

// Server is one slapd process of a test.
type Server struct {
	// URL is the plain listener: ldap://127.0.0.1:PORT (StartTLS works on it).
	URL string
	// LDAPSURL is the TLS listener: ldaps://127.0.0.1:PORT.
	LDAPSURL string
	// Addr is host:port of URL, for a Proxy.
	Addr string
	// Suffix is the database suffix.
	Suffix string
	// AdminDN is the rootdn; AdminPassword its password.
	AdminDN, AdminPassword string
	// CA signed the server certificate; CA.CertPEM is the bundle to trust.
	CA *CA

	t    testing.TB
	dir  string
	conf string

	slapd Daemon
}

// writeFiles writes the server's files into s.dir: a new test CA and the
// server's certificate and key, the database directory and slapd.conf.
func (s *Server) writeFiles(tree *Tree) error {
	ca, err := NewCA("Gatehouse test CA " + s.t.Name())
	if err != nil {
		return err
	}
	s.CA = ca
	certPEM, keyPEM, err := ca.Issue()
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{"ca.pem": ca.CertPEM, "server.pem": certPEM, "server.key": keyPEM} {
		if err := os.WriteFile(filepath.Join(s.dir, name), data, 0o600); err != nil {
			return err
		}
	}
	if err := os.Mkdir(filepath.Join(s.dir, "db"), 0o700); err != nil {
		return err
	}
	s.conf = filepath.Join(s.dir, "slapd.conf")
	return os.WriteFile(s.conf, []byte(tree.slapdConf(s.dir)), 0o600)
}

// Start starts a slapd serving tree (nil: an empty tree with
// DefaultSuffix) and stops it when the test ends. It fails the test when
// slapd does not start.
func Start(t testing.TB, tree *Tree) *Server {
	t.Helper()
	requireSlapd(t)
	if tree == nil {
		tree = &Tree{}
	}
	tree = tree.withDefaults()

	s := &Server{
		Suffix:        tree.Suffix,
		AdminDN:       tree.AdminDN,
		AdminPassword: tree.AdminPassword,
		t:             t,
		dir:           t.TempDir(),
	}
	if err := s.writeFiles(tree); err != nil {
		t.Fatalf("ldaptest: %v", err)
	}

	// slapadd is fast but bypasses overlays; an Online tree is added
	// through LDAP after start so that memberOf and refint see it.
	offline, online := tree.Entries, []Entry(nil)
	if tree.Online && len(tree.Entries) > 0 {
		offline, online = tree.Entries[:1], tree.Entries[1:]
	}
	if len(offline) > 0 {
		if err := s.slapadd(offline); err != nil {
			t.Fatalf("ldaptest: %v", err)
		}
	}

	t.Cleanup(s.Stop)
	// A free port can be taken by someone else before slapd binds it; slapd
	// then exits at once, and another pair of ports is tried.
	for attempt := 1; ; attempt++ {
		s.setPorts(t)
		err := s.Restart()
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("ldaptest: %v", err)
		}
	}
	if len(online) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.AddAll(ctx, online); err != nil {
			t.Fatalf("ldaptest: loading the tree: %v", err)
		}
	}
	return s
}

// setPorts picks two free loopback ports for the listeners.
func (s *Server) setPorts(t testing.TB) {
	port, tlsPort := freePort(t), freePort(t)
	for tlsPort == port {
		tlsPort = freePort(t)
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.URL = "ldap://" + s.Addr
	s.LDAPSURL = "ldaps://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort))
}

// slapadd loads entries into the (stopped) database.
func (s *Server) slapadd(entries []Entry) error {
	ldif := filepath.Join(s.dir, "seed.ldif")
	f, err := os.Create(ldif)
	if err != nil {
		return fmt.Errorf("writing the seed LDIF: %w", err)
	}
	if err := WriteLDIF(f, entries); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing the seed LDIF: %w", err)
	}
	cmd := exec.Command(filepath.Join(SlapaddDir, "slapadd"), "-f", s.conf, "-l", ldif, "-q")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("slapadd of %d entries failed: %v\n%s", len(entries), err, out)
	}
	return nil
}

// Restart starts slapd again after Stop, on the same ports with the same
// data (Start calls it the first time). It returns once slapd accepts
// connections.
func (s *Server) Restart() error {
	s.slapd.Name = "slapd"
	_ = os.Remove(filepath.Join(s.dir, "slapd.pid"))
	// #nosec G204 -- the test's own slapd with arguments it generated.
	cmd := exec.Command(SlapdPath, "-f", s.conf, "-h", s.URL+"/ "+s.LDAPSURL+"/", "-d", "0")
	cmd.Dir = s.dir
	// slapd writes its pid file once its listeners are bound: the ports
	// answering are then this slapd's, not someone else's.
	err := s.slapd.Start(cmd, startTimeout, func(pid int) bool {
		return s.pidFileIs(pid) && ready(s.Addr) && ready(strings.TrimPrefix(s.LDAPSURL, "ldaps://"))
	})
	if exitedAtStart(err) {
		return fmt.Errorf("%w\nconfig %s:\n%s", err, s.conf, readFile(s.conf))
	}
	return err
}

func (s *Server) pidFileIs(pid int) bool {
	b, err := os.ReadFile(filepath.Join(s.dir, "slapd.pid"))
	return err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(pid)
}

// Stop stops slapd (SIGTERM, then SIGKILL after 5 s) and waits for it to
// exit. Connections to URL are refused until Restart. Stopping a stopped
// server does nothing.
func (s *Server) Stop() { s.slapd.Stop() }

// Running reports whether slapd runs.
func (s *Server) Running() bool { return s.slapd.Running() }

// Logs returns what slapd printed since its last start.
func (s *Server) Logs() string { return s.slapd.Logs() }

// Admin returns a connection bound as the rootdn. The caller closes it.
func (s *Server) Admin(ctx context.Context) (*goldap.Conn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", s.URL, err)
	}
	c := goldap.NewConn(raw, false)
	c.Start()
	c.SetTimeout(30 * time.Second)
	if err := c.Bind(s.AdminDN, s.AdminPassword); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("binding as %s: %w", s.AdminDN, err)
	}
	return c, nil
}

// Add adds one entry.
func (s *Server) Add(ctx context.Context, e Entry) error {
	return s.AddAll(ctx, []Entry{e})
}

// AddAll adds entries in order, parents first, over one connection.
func (s *Server) AddAll(ctx context.Context, entries []Entry) error {
	c, err := s.Admin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	for _, e := range entries {
		req := goldap.NewAddRequest(e.DN, nil)
		for _, a := range e.Attributes {
			req.Attribute(a.Name, a.Values)
		}
		if err := c.Add(req); err != nil {
			return fmt.Errorf("adding %s: %w", e.DN, err)
		}
	}
	return nil
}

// Modify applies a modify request, such as one built with
// goldap.NewModifyRequest and its Add, Replace and Delete methods.
func (s *Server) Modify(ctx context.Context, req *goldap.ModifyRequest) error {
	c, err := s.Admin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	if err := c.Modify(req); err != nil {
		return fmt.Errorf("modifying %s: %w", req.DN, err)
	}
	return nil
}

// Replace sets the values of one attribute of dn (none: removes it).
func (s *Server) Replace(ctx context.Context, dn, attr string, values ...string) error {
	req := goldap.NewModifyRequest(dn, nil)
	req.Replace(attr, values)
	return s.Modify(ctx, req)
}

// AddValues adds values to one attribute of dn.
func (s *Server) AddValues(ctx context.Context, dn, attr string, values ...string) error {
	req := goldap.NewModifyRequest(dn, nil)
	req.Add(attr, values)
	return s.Modify(ctx, req)
}

// DeleteValues removes values from one attribute of dn (none: all of them).
func (s *Server) DeleteValues(ctx context.Context, dn, attr string, values ...string) error {
	req := goldap.NewModifyRequest(dn, nil)
	req.Delete(attr, values)
	return s.Modify(ctx, req)
}

// Delete deletes the leaf entry dn.
func (s *Server) Delete(ctx context.Context, dn string) error {
	c, err := s.Admin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	if err := c.Del(goldap.NewDelRequest(dn, nil)); err != nil {
		return fmt.Errorf("deleting %s: %w", dn, err)
	}
	return nil
}

// requireSlapd makes sure slapd is installed: it runs hack/deps.sh ldap
// when it is not, and skips (or, with CI=true, fails) the test when that
// does not help.
func requireSlapd(t testing.TB) {
	t.Helper()
	if reason := Install("ldap", haveSlapd); reason != "" {
		Unavailable(t, fmt.Sprintf("ldaptest: OpenLDAP's slapd (%s) is not installed and %s; run hack/deps.sh ldap as root (apt-get install slapd ldap-utils)", SlapdPath, reason))
	}
}

// Install makes sure a real server the tests run is installed: when have
// reports false it runs hack/deps.sh dep. It returns "" once have holds,
// else why it does not.
func Install(dep string, have func() bool) string {
	if have() {
		return ""
	}
	root, err := RepoRoot()
	if err != nil {
		return err.Error()
	}
	// #nosec G204 -- the repository's own script with a fixed argument.
	out, err := exec.Command("bash", filepath.Join(root, "hack", "deps.sh"), dep).CombinedOutput()
	if err == nil && have() {
		return ""
	}
	return fmt.Sprintf("hack/deps.sh %s did not install it: %v %s", dep, err, out)
}

// Unavailable skips the test for want of a server it needs, or fails it
// when CI is true: in CI a real-server test never skips.
func Unavailable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func haveSlapd() bool {
	_, err1 := os.Stat(SlapdPath)
	_, err2 := os.Stat(filepath.Join(SlapaddDir, "slapadd"))
	return err1 == nil && err2 == nil
}

// RepoRoot finds the repository's root: the nearest directory above the
// working directory with a go.mod of module github.com/gatehouse-dev/gatehouse.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module github.com/gatehouse-dev/gatehouse\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of github.com/gatehouse-dev/gatehouse above the working directory")
		}
		dir = parent
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("ldaptest: finding a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return port
}

func ready(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
