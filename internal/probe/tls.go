package probe

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
)

// tlsConfig returns the TLS configuration of in's sslMode when TLS is tried
// (nil for disable), with libpq's meaning of each mode: allow, prefer and
// require encrypt without verifying the certificate; verify-ca verifies it
// against RootCAs (the system's when nil) for any host name; verify-full
// verifies the host name too.
func tlsConfig(in Input) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if net.ParseIP(in.Host) == nil {
		cfg.ServerName = in.Host // SNI, and the name verify-full checks
	}
	switch in.sslMode() {
	case SSLModeDisable:
		return nil
	case SSLModeVerifyFull:
		cfg.RootCAs = in.RootCAs
		cfg.ServerName = in.Host
	case SSLModeVerifyCA:
		roots := in.RootCAs
		// Verified below, without the host name, as libpq's verify-ca does.
		// VerifyConnection, unlike VerifyPeerCertificate, also runs on
		// resumed sessions.
		cfg.InsecureSkipVerify = true // VerifyConnection verifies the chain
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyChain(cs.PeerCertificates, roots)
		}
	default: // allow, prefer, require
		cfg.InsecureSkipVerify = true // sslMode require encrypts without verifying, as libpq's does
	}
	return cfg
}

// verifyChain verifies that the server's certificate chains to roots (the
// system's when nil), whatever its host names.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool) error {
	if len(certs) == 0 {
		return errors.New("the server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
	for _, cert := range certs[1:] {
		opts.Intermediates.AddCert(cert)
	}
	_, err := certs[0].Verify(opts)
	return err
}
