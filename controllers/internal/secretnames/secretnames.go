// Package secretnames is the manager's second cache: the names (and
// resource versions) of every Secret, never their data. The main cache holds
// only Gatehouse's labelled Secrets; a Connection or Directory that names an
// unlabelled Secret reads it live, by name, and learns that it changed from
// this cache. One per manager, shared by the controllers that need it.
package secretnames

import (
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// namesOnly keeps of a Secret's metadata what tells which one changed.
func namesOnly(in any) (any, error) {
	if m, ok := in.(*metav1.PartialObjectMetadata); ok {
		return &metav1.PartialObjectMetadata{TypeMeta: m.TypeMeta, ObjectMeta: metav1.ObjectMeta{
			Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		}}, nil
	}
	return in, nil
}

// started is the cache of one manager, added to it as a runnable (started
// and synced with the manager's caches).
type started struct{ cache.Cache }

func (s started) GetCache() cache.Cache { return s.Cache }

var (
	mu     sync.Mutex
	caches = map[ctrl.Manager]cache.Cache{}
)

// For returns the manager's cache of Secret names, creating it the first
// time, over the namespaces given (all when empty: the manager's own).
func For(mgr ctrl.Manager, namespaces []string) (cache.Cache, error) {
	mu.Lock()
	defer mu.Unlock()
	if c := caches[mgr]; c != nil {
		return c, nil
	}
	opts := cache.Options{HTTPClient: mgr.GetHTTPClient(), Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(), DefaultTransform: namesOnly}
	if len(namespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range namespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	c, err := cache.New(mgr.GetConfig(), opts)
	if err != nil {
		return nil, fmt.Errorf("cannot create the cache of Secret names: %w", err)
	}
	if err := mgr.Add(started{c}); err != nil {
		return nil, fmt.Errorf("cannot add the cache of Secret names: %w", err)
	}
	caches[mgr] = c
	return c, nil
}

// Object is the metadata-only Secret the cache's sources watch.
func Object() client.Object {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return m
}
