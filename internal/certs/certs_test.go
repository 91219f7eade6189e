package certs_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatehouse-dev/gatehouse/config/webhook"
	"github.com/gatehouse-dev/gatehouse/internal/certs"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env)) }

func rotator(ns, dir string, clk clock.PassiveClock) *certs.Rotator {
	return &certs.Rotator{Client: env.Client, Secret: client.ObjectKey{Namespace: ns, Name: "gatehouse-webhook-tls"}, Dir: dir,
		DNSNames: []string{"gatehouse-webhook." + ns + ".svc"}, WebhookConfiguration: webhook.Name, Clock: clk, Log: logr.Discard()}
}

func TestRotator(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	cfg, err := webhook.Load(webhook.DefaultBreakGlassGroup)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Webhooks {
		cfg.Webhooks[i].ClientConfig.Service.Namespace = ns
	}
	if err := env.Client.Create(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, cfg) })

	// Two replicas start at once: they agree on one certificate.
	dirs := []string{t.TempDir(), t.TempDir()}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = rotator(ns, dirs[i], nil).Ensure(ctx) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dirs[0], "tls.crt"))
	b, _ := os.ReadFile(filepath.Join(dirs[1], "tls.crt"))
	if len(a) == 0 || string(a) != string(b) {
		t.Fatal("the two replicas serve different certificates")
	}
	var s corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "gatehouse-webhook-tls"}, &s); err != nil {
		t.Fatal(err)
	}
	var got admissionregistrationv1.ValidatingWebhookConfiguration
	if err := env.Client.Get(ctx, client.ObjectKey{Name: webhook.Name}, &got); err != nil {
		t.Fatal(err)
	}
	for _, w := range got.Webhooks {
		if string(w.ClientConfig.CABundle) != string(s.Data["ca.crt"]) {
			t.Fatalf("webhook %s has caBundle %q, want the Secret's CA", w.Name, w.ClientConfig.CABundle)
		}
	}
	// The served pair verifies against the CA for the Service's name.
	pair, err := tls.LoadX509KeyPair(filepath.Join(dirs[0], "tls.crt"), filepath.Join(dirs[0], "tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(s.Data["ca.crt"])
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "gatehouse-webhook." + ns + ".svc"}); err != nil {
		t.Fatalf("the served certificate does not verify: %v", err)
	}

	// Nothing to do: no write.
	rv := s.ResourceVersion
	if err := rotator(ns, dirs[0], nil).Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	_ = env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "gatehouse-webhook-tls"}, &s)
	if s.ResourceVersion != rv {
		t.Error("a current certificate was rewritten")
	}

	// 340 days later it is within 30 days of its end: renewed, files and
	// caBundle follow.
	later := clocktesting.NewFakePassiveClock(time.Now().Add(340 * 24 * time.Hour))
	if err := rotator(ns, dirs[0], later).Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	c, _ := os.ReadFile(filepath.Join(dirs[0], "tls.crt"))
	if string(c) == string(a) {
		t.Error("an expiring certificate was not renewed")
	}
	_ = env.Client.Get(ctx, client.ObjectKey{Name: webhook.Name}, &got)
	_ = env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "gatehouse-webhook-tls"}, &s)
	if string(got.Webhooks[0].ClientConfig.CABundle) != string(s.Data["ca.crt"]) {
		t.Error("the caBundle does not follow the renewal")
	}
}
