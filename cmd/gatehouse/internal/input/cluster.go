package input

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
	"github.com/gatehouse-dev/gatehouse/internal/scheme"
)

// Load reads the namespace from the manifests given with -f (standard input
// for -), or else from the cluster the kubeconfig names (KUBECONFIG,
// --kubeconfig, --context), as kubectl would.
func (m *ManifestFlags) Load(opts ...LoadOption) (*Loaded, error) {
	if len(m.files) > 0 {
		docs, err := m.Read(m.files)
		if err != nil {
			return nil, err
		}
		return LoadDocuments(docs, m.namespace, append(opts, WarnWith(m.Warn))...)
	}
	return loadCluster(m.kubeconfig, m.context, m.namespace)
}

// ClusterClient is a client of the cluster the kubeconfig names (as
// kubectl finds it: KUBECONFIG, --kubeconfig, --context), with the
// impersonation of overrides when given, and the Namespace: ns, else the
// context's, else "default".
func ClusterClient(kubeconfig, kubeContext, ns string, impersonate *clientcmdapi.AuthInfo) (client.Client, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: kubeContext}
	if impersonate != nil {
		overrides.AuthInfo.Impersonate, overrides.AuthInfo.ImpersonateGroups = impersonate.Impersonate, impersonate.ImpersonateGroups
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, "", cli.UsageError(errors.New("no manifests and no cluster: give files or directories with -f, or point KUBECONFIG (or --kubeconfig) at a cluster"))
		}
		return nil, "", cli.UsageError(fmt.Errorf("cannot load the kubeconfig: %w", err))
	}
	if ns == "" {
		if ns, _, err = cc.Namespace(); err != nil || ns == "" {
			ns = "default"
		}
	}
	cfg.UserAgent = "gatehouse-cli"
	c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		return nil, "", fmt.Errorf("cannot create a client for %s: %w", cfg.Host, err)
	}
	return c, ns, nil
}

// loadCluster lists the Gatehouse objects of one namespace from the API
// server. The namespace defaults to the kubeconfig context's.
func loadCluster(kubeconfig, kubeContext, ns string) (*Loaded, error) {
	c, ns, err := ClusterClient(kubeconfig, kubeContext, ns, nil)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	snap, err := engine.ReadSnapshot(ctx, c, ns, Now())
	if err != nil {
		return nil, err
	}
	return &Loaded{Namespace: ns, Snap: snap, FromCluster: true}, nil
}
