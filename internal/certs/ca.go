package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"time"
)

// Issued is a certificate and its private key: a CA (NewCA) or a serving
// certificate it signed (Issue). It is the one certificate generator of
// the module: the Rotator's webhook certificate, the TLS of the local
// databases of `gatehouse dev` and the test servers' certificates are all
// made here.
type Issued struct {
	// Cert is the parsed certificate.
	Cert *x509.Certificate
	// Key is its private key (ECDSA P-256).
	Key *ecdsa.PrivateKey
}

// Leaf describes a serving certificate to issue.
type Leaf struct {
	// CommonName is the subject's common name.
	CommonName string
	// DNSNames and IPAddresses are the names the certificate is valid for.
	DNSNames    []string
	IPAddresses []net.IP
	// NotBefore and NotAfter bound its validity.
	NotBefore, NotAfter time.Time
}

// NewCA makes a self-signed CA named commonName, valid from notBefore to
// notAfter.
func NewCA(commonName string, notBefore, notAfter time.Time) (*Issued, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("cannot generate the CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: commonName},
		NotBefore: notBefore, NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	return sign(tmpl, tmpl, key, key, "CA")
}

// Issue makes a serving certificate for leaf, signed by i (a CA).
func (i *Issued) Issue(leaf Leaf) (*Issued, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("cannot generate the serving key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: leaf.CommonName},
		DNSNames: leaf.DNSNames, IPAddresses: leaf.IPAddresses,
		NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	return sign(tmpl, i.Cert, key, i.Key, "serving certificate")
}

// sign signs tmpl, whose key is key, with parent's key signer.
func sign(tmpl, parent *x509.Certificate, key, signer *ecdsa.PrivateKey, what string) (*Issued, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("cannot sign the %s: %w", what, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("cannot read back the %s: %w", what, err)
	}
	return &Issued{Cert: cert, Key: key}, nil
}

// CertPEM is the certificate in PEM.
func (i *Issued) CertPEM() []byte { return pemBlock("CERTIFICATE", i.Cert.Raw) }

// KeyPEM is the private key in PEM, PKCS #8 ("PRIVATE KEY").
func (i *Issued) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(i.Key)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the private key: %w", err)
	}
	return pemBlock("PRIVATE KEY", der), nil
}

// ECKeyPEM is the private key in PEM, SEC 1 ("EC PRIVATE KEY").
func (i *Issued) ECKeyPEM() ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(i.Key)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the private key: %w", err)
	}
	return pemBlock("EC PRIVATE KEY", der), nil
}
