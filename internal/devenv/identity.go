package devenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatehouse-dev/gatehouse/config/rbac"
)

// InstallRBAC server-side applies the ClusterRoles for people and, when
// manager is set, the manager's ServiceAccount, generated ClusterRole and
// Role and their bindings (with the namespace they live in).
func InstallRBAC(ctx context.Context, c client.Client, manager bool) error {
	objs, err := rbac.UserRoles()
	if err != nil {
		return err
	}
	if manager {
		ns := &unstructured.Unstructured{}
		ns.SetAPIVersion("v1")
		ns.SetKind("Namespace")
		ns.SetName(rbac.Namespace)
		m, err := rbac.Manager()
		if err != nil {
			return err
		}
		objs = append(append([]*unstructured.Unstructured{ns}, objs...), m...)
	}
	for _, o := range objs {
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("cannot install %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	return nil
}

// managerKubeconfig writes, at path, a kubeconfig that authenticates as the
// manager's ServiceAccount (a token the API server issues for it), so that
// the manager runs with exactly the rights of its generated ClusterRole, as
// in a cluster, and never as the control plane's administrator.
func managerKubeconfig(ctx context.Context, c client.Client, cfg *rest.Config, path string) error {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: rbac.Namespace, Name: rbac.ServiceAccount}}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](7 * 24 * 3600)}}
	if err := c.SubResource("token").Create(ctx, sa, tr); err != nil {
		return fmt.Errorf("cannot get a token for ServiceAccount %s/%s, the manager's identity: %w", rbac.Namespace, rbac.ServiceAccount, err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["gatehouse-manager"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	kc.Contexts["gatehouse-manager"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "gatehouse-manager"}
	kc.CurrentContext = "gatehouse-manager"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("cannot create the directory of %s: %w", path, err)
	}
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("cannot write the manager's kubeconfig %s: %w", path, err)
	}
	return nil
}
