package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/certs"
)

// TestIssue: a serving certificate verifies against its CA for each of its
// names and addresses, and for no other name; both key encodings load.
func TestIssue(t *testing.T) {
	now := time.Now()
	ca, err := certs.NewCA("test CA", now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	other, err := certs.NewCA("another CA", now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(certs.Leaf{CommonName: "db", DNSNames: []string{"db.test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	pool := func(ca *certs.Issued) *x509.CertPool {
		p := x509.NewCertPool()
		p.AddCert(ca.Cert)
		return p
	}
	tests := map[string]struct {
		roots *x509.CertPool
		name  string
		ok    bool
	}{
		"its DNS name": {roots: pool(ca), name: "db.test", ok: true},
		"its address":  {roots: pool(ca), name: "127.0.0.1", ok: true},
		"another name": {roots: pool(ca), name: "other.test"},
		"another CA":   {roots: pool(other), name: "db.test"},
		"no roots":     {roots: x509.NewCertPool(), name: "db.test"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: tc.roots, DNSName: tc.name})
			if (err == nil) != tc.ok {
				t.Errorf("Verify(%s) = %v, want ok %v", tc.name, err, tc.ok)
			}
		})
	}
	if !ca.Cert.IsCA || leaf.Cert.IsCA {
		t.Error("the CA is not a CA, or the serving certificate is one")
	}
	for _, encode := range []func() ([]byte, error){leaf.KeyPEM, leaf.ECKeyPEM} {
		key, err := encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tls.X509KeyPair(leaf.CertPEM(), key); err != nil {
			t.Errorf("the certificate and its key do not load: %v", err)
		}
	}
}
