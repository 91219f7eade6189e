package devenv

import (
	"context"
	"fmt"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatehouse-dev/gatehouse/internal/manifest"
)

// FieldManager is the server-side-apply field manager of `gatehouse dev`.
const FieldManager = "gatehouse-dev"

// ApplyDocuments server-side applies docs in order. Namespaced objects
// without a namespace (a kustomization's build gives them its own) go into
// namespace, which is created first if needed.
func ApplyDocuments(ctx context.Context, c client.Client, docs []manifest.Document, namespace string) error {
	if namespace != "" {
		ns := &unstructured.Unstructured{}
		ns.SetAPIVersion("v1")
		ns.SetKind("Namespace")
		ns.SetName(namespace)
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(ns), client.FieldOwner(FieldManager)); err != nil {
			return fmt.Errorf("cannot create namespace %s: %w", namespace, err)
		}
	}
	for _, d := range docs {
		obj := d.Object.DeepCopy()
		namespaced, err := c.IsObjectNamespaced(obj)
		if err != nil {
			return fmt.Errorf("%s: the API server does not know this kind (are the CRDs installed?): %w", d.Source(), err)
		}
		if namespaced && obj.GetNamespace() == "" {
			obj.SetNamespace(namespace)
		}
		err = c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(FieldManager), client.ForceOwnership)
		if err != nil {
			return fmt.Errorf("%s was rejected by the API server: %w", d.Source(), err)
		}
	}
	return nil
}

// InstallCRDs server-side applies the CRDs and waits until the API server
// serves them.
func InstallCRDs(ctx context.Context, c client.Client, crds []*apiextensionsv1.CustomResourceDefinition) error {
	for _, crd := range crds {
		u := &unstructured.Unstructured{}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(crd)
		if err != nil {
			return fmt.Errorf("cannot convert CRD %s: %w", crd.Name, err)
		}
		u.SetUnstructuredContent(m)
		u.SetAPIVersion("apiextensions.k8s.io/v1")
		u.SetKind("CustomResourceDefinition")
		unstructured.RemoveNestedField(u.Object, "status")
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("cannot install CRD %s (does your identity may create CRDs?): %w", crd.Name, err)
		}
	}
	for _, crd := range crds {
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			got := &apiextensionsv1.CustomResourceDefinition{}
			if err := c.Get(ctx, client.ObjectKey{Name: crd.Name}, got); err != nil {
				if apierrors.IsNotFound(err) {
					return false, nil
				}
				return false, err
			}
			for _, cond := range got.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s was not established within a minute: %w", crd.Name, err)
		}
	}
	return nil
}
