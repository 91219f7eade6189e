package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
	"github.com/gatehouse-dev/gatehouse/internal/scheme"
)

// load reads the namespace from the manifests given with -f, or else from
// the cluster the kubeconfig names (KUBECONFIG, --kubeconfig, --context),
// as kubectl would.
func (m *manifestFlags) load() (*loaded, error) {
	if len(m.files) > 0 {
		return loadManifests(m.files, m.namespace)
	}
	return loadCluster(m.kubeconfig, m.context, m.namespace)
}

// loadCluster lists the Gatehouse objects of one namespace from the API
// server. The namespace defaults to the kubeconfig context's.
func loadCluster(kubeconfig, kubeContext, ns string) (*loaded, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext})
	cfg, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, usageError(errors.New("no manifests and no cluster: give files or directories with -f, or point KUBECONFIG (or --kubeconfig) at a cluster"))
		}
		return nil, usageError(fmt.Errorf("cannot load the kubeconfig: %w", err))
	}
	if ns == "" {
		if ns, _, err = cc.Namespace(); err != nil || ns == "" {
			ns = "default"
		}
	}
	cfg.UserAgent = "gatehouse-cli"
	c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		return nil, fmt.Errorf("cannot create a client for %s: %w", cfg.Host, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		ls iamv1alpha1.LicenseList
		us iamv1alpha1.UserList
		gs iamv1alpha1.GroupList
		cs iamv1alpha1.ConnectionList
		ss iamv1alpha1.ShareList
		rs iamv1alpha1.ResourceGrantList
	)
	for _, list := range []client.ObjectList{&ls, &us, &gs, &cs, &ss, &rs} {
		if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("cannot read namespace %s from %s (are the Gatehouse CRDs installed, and may you list them?): %w", ns, cfg.Host, err)
		}
	}
	snap := access.Snapshot{Now: now(), Users: us.Items, Groups: gs.Items, Connections: cs.Items, Shares: ss.Items, ResourceGrants: rs.Items}
	snap.License = engine.LicenseInForce(ls.Items)
	return &loaded{namespace: ns, snap: snap}, nil
}
