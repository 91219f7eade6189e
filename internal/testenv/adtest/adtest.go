// Package adtest runs a real Active Directory domain controller for tests:
// Samba's AD DC from Debian, provisioned with samba-tool into a directory
// of its own (--server-role=dc --dns-backend=NONE --use-rfc2307), seeded
// with the fixture of fixture.go by ldbadd while it is stopped, and served
// by `samba -M single` with only its LDAP service, over LDAPS on port 636 of
// a loopback address of its own (127.x.y.z: Samba's LDAP ports are fixed,
// so parallel servers differ by address). Its certificate is issued by a CA
// made for the test with the address in its SANs: the certificate Samba
// makes for itself has no SAN, and Go refuses it.
//
// Provisioning takes seconds, so the provisioned and seeded domain is kept
// as a template in $GATEHOUSE_CACHE (default ~/.cache/gatehouse) under
// samba-ad/, keyed by the Samba version and the fixture's version, and
// every Start copies it.
//
// Samba runs as root. Without /usr/sbin/samba, Start runs hack/deps.sh
// samba; when Samba cannot be installed or started it skips the test, or
// fails it when the environment variable CI is true.
package adtest

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-dev/gatehouse/internal/testenv/ldaptest"
)

// Paths of the Debian Samba installation.
const (
	SambaPath     = "/usr/sbin/samba"
	SambaToolPath = "/usr/bin/samba-tool"
	LdbaddPath    = "/usr/bin/ldbadd"
)

// startTimeout bounds how long samba may take to listen.
const startTimeout = 30 * time.Second

// Server is one Samba AD DC of a test.
type Server struct {
	// URL is ldaps://ADDRESS:636.
	URL string
	// Address is the loopback address the server listens on.
	Address string
	// CA signed the server certificate; CA.CertPEM is the bundle to trust.
	CA *ldaptest.CA

	t     testing.TB
	dir   string
	samba ldaptest.Daemon
}

// Start starts a domain controller serving the fixture and stops it when
// the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	requireSamba(t)
	tmpl, err := template()
	if err != nil {
		t.Fatalf("adtest: provisioning the Samba domain: %v", err)
	}
	s := &Server{t: t, dir: filepath.Join(t.TempDir(), "dc")}
	// #nosec G204 -- copying the test's own template.
	if out, err := exec.Command("cp", "-a", tmpl, s.dir).CombinedOutput(); err != nil {
		t.Fatalf("adtest: copying the domain template %s: %v %s", tmpl, err, out)
	}
	t.Cleanup(s.Stop)
	var last error
	for range 3 {
		if last = s.start(); last == nil {
			return s
		}
	}
	t.Fatalf("adtest: %v", last)
	return nil
}

// start picks a free loopback address, writes the certificate and
// smb.conf for it and starts samba.
func (s *Server) start() error {
	addr, err := freeAddress()
	if err != nil {
		return err
	}
	ca, err := ldaptest.NewCA("Gatehouse Samba test CA")
	if err != nil {
		return err
	}
	certPEM, keyPEM, err := ca.IssueFor(net.ParseIP(addr))
	if err != nil {
		return err
	}
	tlsDir := filepath.Join(s.dir, "tls")
	if err := os.MkdirAll(tlsDir, 0o700); err != nil {
		return err
	}
	for name, data := range map[string][]byte{"ca.pem": ca.CertPEM, "cert.pem": certPEM, "key.pem": keyPEM} {
		if err := os.WriteFile(filepath.Join(tlsDir, name), data, 0o600); err != nil {
			return err
		}
	}
	conf := filepath.Join(s.dir, "etc", "test.conf")
	if err := os.WriteFile(conf, []byte(smbConf(s.dir, addr)), 0o600); err != nil {
		return err
	}
	s.CA, s.Address, s.URL = ca, addr, "ldaps://"+net.JoinHostPort(addr, "636")

	s.samba.Name = "samba"
	// #nosec G204 -- the test's own samba with the configuration it wrote.
	cmd := exec.Command(SambaPath, "--foreground", "--no-process-group", "-M", "single", "-s", conf, "--debug-stdout")
	cmd.Dir = s.dir
	return s.samba.Start(cmd, startTimeout, func(int) bool {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(addr, "636"), time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
}

// smbConf is the configuration of a server in dir listening on addr: an AD
// DC that runs its LDAP service only.
func smbConf(dir, addr string) string {
	p := func(rel string) string { return filepath.Join(dir, rel) }
	return fmt.Sprintf(`[global]
	netbios name = DC1
	realm = %s
	workgroup = %s
	server role = active directory domain controller
	server services = ldap
	interfaces = %s/8
	bind interfaces only = yes
	private dir = %s
	state directory = %s
	cache directory = %s
	lock directory = %s
	pid directory = %s
	ncalrpc dir = %s
	binddns dir = %s
	log file = %s
	log level = 1
	idmap_ldb:use rfc2307 = yes
	tls enabled = yes
	tls keyfile = %s
	tls certfile = %s
	tls cafile = %s
`, Realm, NetBIOSDomain, addr, p("private"), p("state"), p("cache"), dir, dir, p("ncalrpc"), p("bind-dns"),
		p("samba.log"), p("tls/key.pem"), p("tls/cert.pem"), p("tls/ca.pem"))
}

// freeAddress picks a loopback address whose LDAPS port is free.
func freeAddress() (string, error) {
	for range 20 {
		b := make([]byte, 3)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		addr := fmt.Sprintf("127.%d.%d.%d", 100+int(b[0])%100, b[1], 1+int(b[2])%250)
		l, err := net.Listen("tcp", net.JoinHostPort(addr, "636"))
		if err != nil {
			continue
		}
		_ = l.Close()
		return addr, nil
	}
	return "", errors.New("found no loopback address with port 636 free")
}

// Stop stops samba (SIGTERM, then SIGKILL after 5 s).
func (s *Server) Stop() { s.samba.Stop() }

// Logs returns what samba printed since its start.
func (s *Server) Logs() string { return s.samba.Logs() }

// Admin returns a connection over LDAPS bound as Administrator. The caller
// closes it.
func (s *Server) Admin() (*goldap.Conn, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CA.CertPEM)
	c, err := goldap.DialURL(s.URL, goldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", s.URL, err)
	}
	c.SetTimeout(30 * time.Second)
	if err := c.Bind(AdminDN, AdminPassword); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("binding as %s: %w", AdminDN, err)
	}
	return c, nil
}

// templateMu serialises the provisioning of one process.
var templateMu sync.Mutex

// template returns the directory of the provisioned and seeded domain,
// provisioning it into the cache when it is not there yet.
func template() (string, error) {
	templateMu.Lock()
	defer templateMu.Unlock()
	version, err := sambaVersion()
	if err != nil {
		return "", err
	}
	root := filepath.Join(cacheDir(), "samba-ad")
	final := filepath.Join(root, fmt.Sprintf("%s-fixture%d", version, fixtureVersion))
	if _, err := os.Stat(filepath.Join(final, "complete")); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", err
	}
	// One process provisions, the others (test packages run in parallel)
	// wait for its template instead of provisioning their own.
	lock, err := os.OpenFile(filepath.Join(root, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer func() { _ = lock.Close() }()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("locking %s: %w", lock.Name(), err)
	}
	if _, err := os.Stat(filepath.Join(final, "complete")); err == nil {
		return final, nil
	}
	tmp, err := os.MkdirTemp(root, "provision-")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	dc := filepath.Join(tmp, "dc")
	if err := provision(dc); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dc, "complete"), nil, 0o600); err != nil {
		return "", err
	}
	_ = os.RemoveAll(final) // an incomplete one
	if err := os.Rename(dc, final); err != nil {
		return "", err
	}
	return final, nil
}

// provision provisions the domain into dc and seeds the fixture.
func provision(dc string) error {
	// #nosec G204 -- fixed arguments and a directory of the test's own.
	cmd := exec.Command(SambaToolPath, "domain", "provision", "--targetdir="+dc,
		"--realm="+Realm, "--domain="+NetBIOSDomain, "--server-role=dc", "--dns-backend=NONE",
		"--use-rfc2307", "--adminpass="+AdminPassword, "--host-name=dc1",
		"--option=interfaces=lo", "--option=bind interfaces only=yes")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("samba-tool domain provision failed: %v\n%s", err, out)
	}
	sam := filepath.Join(dc, "private", "sam.ldb")
	var seed strings.Builder
	if err := writeSeed(&seed); err != nil {
		return err
	}
	if err := ldb(LdbaddPath, sam, seed.String()); err != nil {
		return err
	}
	rids, err := groupRIDs(sam)
	if err != nil {
		return err
	}
	changes, err := primaryChanges(rids)
	if err != nil {
		return err
	}
	return ldb(filepath.Join(filepath.Dir(LdbaddPath), "ldbmodify"), sam, changes)
}

// ldb runs ldbadd or ldbmodify on the stopped sam.ldb with the LDIF.
func ldb(tool, sam, ldif string) error {
	cmd := exec.Command(tool, "-H", sam) // #nosec G204 -- the test's own database
	cmd.Stdin = strings.NewReader(ldif)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s on %s failed: %v\n%s", filepath.Base(tool), sam, err, out)
	}
	return nil
}

var sidLine = regexp.MustCompile(`(?m)^dn: CN=([^,]+),` + regexp.QuoteMeta(GroupsOU) + `\n(?:[^\n]+\n)*?objectSid: S-[0-9-]+-([0-9]+)$`)

// groupRIDs reads the RIDs of the fixture's groups by CN.
func groupRIDs(sam string) (map[string]string, error) {
	// #nosec G204 -- the test's own database.
	out, err := exec.Command(filepath.Join(filepath.Dir(LdbaddPath), "ldbsearch"), "-H", sam,
		"-b", GroupsOU, "(objectClass=group)", "objectSid").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ldbsearch of the groups failed: %v\n%s", err, out)
	}
	rids := map[string]string{}
	for _, m := range sidLine.FindAllStringSubmatch(string(out), -1) {
		rids[m[1]] = m[2]
	}
	return rids, nil
}

func sambaVersion() (string, error) {
	out, err := exec.Command(SambaPath, "-V").Output()
	if err != nil {
		return "", fmt.Errorf("samba -V: %w", err)
	}
	v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "Version "))
	return regexp.MustCompile(`[^A-Za-z0-9.+-]`).ReplaceAllString(v, "_"), nil
}

func cacheDir() string {
	if d := os.Getenv("GATEHOUSE_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "gatehouse")
	}
	return os.TempDir()
}

// requireSamba makes sure Samba is installed and can run: it runs
// hack/deps.sh samba when it is not, and skips (or, with CI=true, fails)
// the test when that does not help.
func requireSamba(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		ldaptest.Unavailable(t, "adtest: Samba's AD DC runs as root and this test does not; run it as root (in CI it always is)")
	}
	if reason := ldaptest.Install("samba", haveSamba); reason != "" {
		ldaptest.Unavailable(t, fmt.Sprintf("adtest: Samba's AD DC (%s, %s, %s) is not installed and %s; run hack/deps.sh samba as root",
			SambaPath, SambaToolPath, LdbaddPath, reason))
	}
}

func haveSamba() bool {
	for _, p := range []string{SambaPath, SambaToolPath, LdbaddPath} {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	// Provisioning sets the sysvol ACLs through this VFS module.
	vfs, _ := filepath.Glob("/usr/lib/*/samba/vfs/acl_xattr.so")
	return len(vfs) > 0
}
