package localdb

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/certs"
)

// serverTLS is a CA and a server certificate it signed for 127.0.0.1, ::1
// and localhost, in PEM; one per test binary.
type serverTLS struct {
	caCert, cert, key []byte
}

var (
	tlsOnce  sync.Once
	tlsFiles serverTLS
	tlsErr   error
)

// certificates returns the test binary's CA and server certificate, made on
// first use.
func certificates() (serverTLS, error) {
	tlsOnce.Do(func() { tlsFiles, tlsErr = makeCertificates() })
	return tlsFiles, tlsErr
}

// makeCertificates makes the CA and the server certificate (internal/certs,
// the module's one certificate generator).
func makeCertificates() (serverTLS, error) {
	now := time.Now()
	ca, err := certs.NewCA("gatehouse localdb CA", now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		return serverTLS{}, fmt.Errorf("cannot make the localdb CA: %w", err)
	}
	leaf, err := ca.Issue(certs.Leaf{CommonName: "localhost", DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)})
	if err != nil {
		return serverTLS{}, fmt.Errorf("cannot make the localdb server certificate: %w", err)
	}
	key, err := leaf.KeyPEM()
	if err != nil {
		return serverTLS{}, fmt.Errorf("cannot make the localdb server certificate: %w", err)
	}
	return serverTLS{caCert: ca.CertPEM(), cert: leaf.CertPEM(), key: key}, nil
}

// write puts ca.crt, server.crt and server.key into dir and returns their
// paths.
func (t serverTLS) write(dir string) (ca, cert, key string, err error) {
	ca, cert, key = filepath.Join(dir, "ca.crt"), filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	for path, data := range map[string][]byte{ca: t.caCert, cert: t.cert, key: t.key} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return "", "", "", fmt.Errorf("cannot write %s: %w", path, err)
		}
	}
	return ca, cert, key, nil
}
