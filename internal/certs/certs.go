// Package certs keeps the webhook server's certificate when no cert-manager
// provides one: a self-signed CA and a serving certificate, stored in one
// Secret so that every replica serves the same one, written to the webhook
// server's certificate directory (controller-runtime reloads it on change),
// and the CA put into the caBundle of Gatehouse's
// ValidatingWebhookConfiguration. It renews them before they expire.
//
// It is kept rather than replaced by github.com/open-policy-agent/cert-controller:
// v0.16.0 (the newest the module proxy serves) builds with Go 1.26,
// controller-runtime v0.25.2 and k8s.io/* v0.37.2, but it never writes the
// serving certificate to the certificate directory (it waits for the kubelet
// to mount the Secret, so `gatehouse dev` and the e2e tests, which run the
// manager as a local process, would never get one), it watches every Secret
// of the namespace and every webhook configuration (RBAC this package does
// not need), and it does not make the certificate current before the
// webhook server starts.
package certs

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The Secret's keys.
const (
	KeyCACert = "ca.crt"
	KeyCAKey  = "ca.key"
	KeyCert   = corev1.TLSCertKey
	KeyKey    = corev1.TLSPrivateKeyKey
)

// RBAC of this component (a package-level marker block, so controller-gen reads it).
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create;update,namespace=gatehouse-system
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,verbs=get;list;watch;patch

// Rotator keeps the certificate current. Its Client must not be a cached
// one (it reads one Secret and one webhook configuration).
type Rotator struct {
	Client client.Client
	// Secret holds the CA and the serving certificate.
	Secret client.ObjectKey
	// Dir is the webhook server's certificate directory.
	Dir string
	// DNSNames the serving certificate is valid for (the webhook Service's
	// names).
	DNSNames []string
	// WebhookConfiguration is the ValidatingWebhookConfiguration whose
	// caBundle is kept current.
	WebhookConfiguration string
	// Validity of a new certificate (default one year) and how long before
	// its end it is renewed (default 30 days); CheckEvery is how often
	// (default one hour).
	Validity, RenewBefore, CheckEvery time.Duration
	// Clock is the rotator's time (the real clock when nil).
	Clock clock.PassiveClock
	Log   logr.Logger
}

func (r *Rotator) now() time.Time {
	if r.Clock != nil {
		return r.Clock.Now()
	}
	return time.Now()
}

func (r *Rotator) defaults() {
	if r.Validity == 0 {
		r.Validity = 365 * 24 * time.Hour
	}
	if r.RenewBefore == 0 {
		r.RenewBefore = 30 * 24 * time.Hour
	}
	if r.CheckEvery == 0 {
		r.CheckEvery = time.Hour
	}
}

// Ensure makes the Secret, the files and the caBundle current: it creates
// or renews the certificate when missing or within RenewBefore of its end.
// Replicas racing to create it agree on the first one written.
func (r *Rotator) Ensure(ctx context.Context) error {
	r.defaults()
	for attempt := 0; ; attempt++ {
		err := r.ensureSecret(ctx)
		if err == nil {
			break
		}
		if attempt < 3 && (apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)) {
			continue // another replica wrote it first: use theirs
		}
		return err
	}
	var s corev1.Secret
	if err := r.Client.Get(ctx, r.Secret, &s); err != nil {
		return fmt.Errorf("cannot read the webhook certificate Secret %s: %w", r.Secret, err)
	}
	if err := r.writeFiles(s.Data); err != nil {
		return err
	}
	return r.patchCABundle(ctx, s.Data[KeyCACert])
}

// ensureSecret creates or renews the certificate in the Secret.
func (r *Rotator) ensureSecret(ctx context.Context) error {
	var s corev1.Secret
	err := r.Client.Get(ctx, r.Secret, &s)
	switch {
	case apierrors.IsNotFound(err):
		data, err := r.generate()
		if err != nil {
			return err
		}
		s = corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: r.Secret.Name, Namespace: r.Secret.Namespace,
			Labels: map[string]string{"app.kubernetes.io/name": "gatehouse", "app.kubernetes.io/component": "webhook"}},
			Type: corev1.SecretTypeTLS, Data: data}
		if err := r.Client.Create(ctx, &s); err != nil {
			return fmt.Errorf("cannot create the webhook certificate Secret %s: %w", r.Secret, err)
		}
		r.Log.Info("created the webhook certificate", "secret", r.Secret.String())
		return nil
	case err != nil:
		return fmt.Errorf("cannot read the webhook certificate Secret %s: %w", r.Secret, err)
	}
	if reason := r.needsRenewal(s.Data); reason != "" {
		data, err := r.generate()
		if err != nil {
			return err
		}
		s.Data = data
		if err := r.Client.Update(ctx, &s); err != nil {
			return fmt.Errorf("cannot renew the webhook certificate in Secret %s: %w", r.Secret, err)
		}
		r.Log.Info("renewed the webhook certificate", "secret", r.Secret.String(), "reason", reason)
	}
	return nil
}

// needsRenewal says why the stored certificate must be replaced, "" if not.
func (r *Rotator) needsRenewal(data map[string][]byte) string {
	cert, err := parseCert(data[KeyCert])
	if err != nil {
		return "the stored certificate does not parse"
	}
	if _, err := parseCert(data[KeyCACert]); err != nil {
		return "the stored CA does not parse"
	}
	if len(data[KeyKey]) == 0 {
		return "the stored key is missing"
	}
	if r.now().Add(r.RenewBefore).After(cert.NotAfter) {
		return fmt.Sprintf("it expires at %s", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	for _, n := range r.DNSNames {
		if cert.VerifyHostname(n) != nil {
			return "it does not name " + n
		}
	}
	return ""
}

// generate makes a CA and a serving certificate signed by it.
func (r *Rotator) generate() (map[string][]byte, error) {
	now := r.now()
	ca, err := NewCA("gatehouse-webhook-ca", now.Add(-time.Hour), now.Add(r.Validity+r.RenewBefore))
	if err != nil {
		return nil, err
	}
	cn := "gatehouse-webhook"
	if len(r.DNSNames) > 0 {
		cn = r.DNSNames[0]
	}
	leaf, err := ca.Issue(Leaf{CommonName: cn, DNSNames: r.DNSNames, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(r.Validity)})
	if err != nil {
		return nil, err
	}
	caKey, err := ca.ECKeyPEM()
	if err != nil {
		return nil, err
	}
	key, err := leaf.ECKeyPEM()
	if err != nil {
		return nil, err
	}
	return map[string][]byte{KeyCACert: ca.CertPEM(), KeyCAKey: caKey, KeyCert: leaf.CertPEM(), KeyKey: key}, nil
}

// writeFiles writes tls.crt and tls.key where the webhook server reads
// them, only when they differ (a rewrite makes it reload).
func (r *Rotator) writeFiles(data map[string][]byte) error {
	if err := os.MkdirAll(r.Dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the webhook certificate directory %s: %w", r.Dir, err)
	}
	for _, k := range []string{KeyKey, KeyCert} {
		path := filepath.Join(r.Dir, k)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data[k]) {
			continue
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, data[k], 0o600); err != nil {
			return fmt.Errorf("cannot write %s: %w", path, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("cannot write %s: %w", path, err)
		}
	}
	return nil
}

// patchCABundle puts the CA into every webhook of the configuration,
// retrying when another replica patched it meanwhile.
func (r *Rotator) patchCABundle(ctx context.Context, ca []byte) error {
	if r.WebhookConfiguration == "" {
		return nil
	}
	for attempt := 0; ; attempt++ {
		err := r.patchOnce(ctx, ca)
		if err == nil || attempt >= 4 || !apierrors.IsConflict(errors.Unwrap(err)) {
			return err
		}
	}
}

func (r *Rotator) patchOnce(ctx context.Context, ca []byte) error {
	var cfg admissionregistrationv1.ValidatingWebhookConfiguration
	if err := r.Client.Get(ctx, client.ObjectKey{Name: r.WebhookConfiguration}, &cfg); err != nil {
		return fmt.Errorf("cannot read ValidatingWebhookConfiguration %s to set its caBundle: %w", r.WebhookConfiguration, err)
	}
	base := cfg.DeepCopy()
	changed := false
	for i := range cfg.Webhooks {
		if !bytes.Equal(cfg.Webhooks[i].ClientConfig.CABundle, ca) {
			cfg.Webhooks[i].ClientConfig.CABundle = ca
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if err := r.Client.Patch(ctx, &cfg, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("cannot set the caBundle of ValidatingWebhookConfiguration %s: %w", r.WebhookConfiguration, err)
	}
	r.Log.Info("set the webhook caBundle", "configuration", r.WebhookConfiguration)
	return nil
}

// NeedLeaderElection is false: every replica serves webhooks.
func (r *Rotator) NeedLeaderElection() bool { return false }

// Start checks every CheckEvery until ctx ends; errors are logged and
// retried at the next check.
func (r *Rotator) Start(ctx context.Context) error {
	r.defaults()
	t := time.NewTicker(r.CheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := r.Ensure(ctx); err != nil {
				r.Log.Error(err, "cannot keep the webhook certificate current; retrying", "in", r.CheckEvery.String())
			}
		}
	}
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func parseCert(data []byte) (*x509.Certificate, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("no PEM block")
	}
	return x509.ParseCertificate(b.Bytes)
}
