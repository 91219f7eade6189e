package ldaptest

import (
	"fmt"
	"net"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/certs"
)

// ServerName is the DNS name, besides localhost and 127.0.0.1, that the
// server certificates of this package are valid for: a test that dials
// 127.0.0.1 and sets it as the server name exercises the override.
const ServerName = "ldap.gatehouse.test"

// CA is a certificate authority made for one test, valid for a day: the
// test servers' side of internal/certs, the module's one certificate
// generator.
type CA struct {
	// CertPEM is the CA certificate in PEM form: the bundle a client trusts.
	CertPEM []byte
	ca      *certs.Issued
}

// NewCA makes a self-signed CA valid for a day.
func NewCA(name string) (*CA, error) {
	ca, err := certs.NewCA(name, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("cannot make test CA %s: %w", name, err)
	}
	return &CA{CertPEM: ca.CertPEM(), ca: ca}, nil
}

// Issue makes a server certificate for 127.0.0.1, localhost and ServerName
// and returns it and its key in PEM form.
func (ca *CA) Issue() (certPEM, keyPEM []byte, err error) {
	return ca.IssueFor(net.IPv4(127, 0, 0, 1))
}

// IssueFor makes a server certificate for the addresses ips, localhost and
// ServerName and returns it and its key in PEM form.
func (ca *CA) IssueFor(ips ...net.IP) (certPEM, keyPEM []byte, err error) {
	leaf, err := ca.ca.Issue(certs.Leaf{CommonName: ServerName, DNSNames: []string{"localhost", ServerName}, IPAddresses: ips,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)})
	if err != nil {
		return nil, nil, fmt.Errorf("cannot issue a test server certificate: %w", err)
	}
	keyPEM, err = leaf.KeyPEM()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot issue a test server certificate: %w", err)
	}
	return leaf.CertPEM(), keyPEM, nil
}
