package connection

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/secretnames"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/wiring"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
)

// Options tune the Connection controllers; what every controller shares
// (workers, namespaces, the engine) comes in wiring.Deps.
type Options struct {
	// TestTimeout bounds one connection test (probe.DefaultTimeout when
	// 0).
	TestTimeout time.Duration
	// TestInterval is how often a Connection is tested again while nothing
	// changes (DefaultTestInterval when 0).
	TestInterval time.Duration
	// ConcurrentTests is how many connection tests may run at once
	// (DefaultConcurrentTests when 0).
	ConcurrentTests int
	// TestAllowedCIDRs (--connection-test-allowed-cidrs) are the loopback,
	// link-local or metadata ranges personal connections may be tested
	// against.
	TestAllowedCIDRs []netip.Prefix
}

// Field indexes on Connections.
const (
	// indexSecretRef indexes Connections by the names of the Secrets they
	// reference (global credential, OAuth2 client secret).
	indexSecretRef = "gatehouse.connection.secretRef"
)

// CacheByObject is the cache restriction the manager must be created with
// (cache.Options.ByObject): it caches only the Secrets labelled
// iam.gatehouse.dev/connection (per-user credentials), and only the Roles
// and RoleBindings this package writes, never every one of the cluster.
// Secrets a Connection references by name are read live instead.
func CacheByObject() map[client.Object]cache.ByObject {
	hasConnection, err := labels.NewRequirement(iamv1alpha1.LabelConnection, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant label key
	}
	managed := labels.SelectorFromSet(labels.Set{LabelManagedBy: ManagedBy})
	return map[client.Object]cache.ByObject{
		&corev1.Secret{}:      {Label: labels.NewSelector().Add(*hasConnection), Transform: stripSecret},
		&rbacv1.Role{}:        {Label: managed},
		&rbacv1.RoleBinding{}: {Label: managed},
	}
}

// stripSecret drops what nothing reads from a cached Secret: managedFields
// and kubectl's last-applied-configuration (a second copy of the data).
func stripSecret(in any) (any, error) {
	if s, ok := in.(*corev1.Secret); ok {
		s.ManagedFields = nil
		delete(s.Annotations, corev1.LastAppliedConfigAnnotation)
	}
	return in, nil
}

// Setup registers the field indexes and creates the Connection,
// connection-test and credential controllers, tuned by o, on the manager.
// The manager must have been created with CacheByObject.
func (o Options) Setup(ctx context.Context, mgr ctrl.Manager, d wiring.Deps) error {
	if err := indexFields(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	names, err := secretnames.For(mgr, d.Namespaces)
	if err != nil {
		return fmt.Errorf("cannot create the cache of Secret names: %w", err)
	}
	tests := NewTests(probe.Tester{Timeout: o.TestTimeout}, o.TestInterval, 0, o.ConcurrentTests)
	if err := setupConnection(mgr, d, names, tests); err != nil {
		return err
	}
	if err := o.setupTest(mgr, d, tests); err != nil {
		return err
	}
	return setupCredential(mgr, d)
}

// indexFields registers the field indexes on Connections.
func indexFields(ctx context.Context, fi client.FieldIndexer) error {
	if err := fi.IndexField(ctx, &iamv1alpha1.Connection{}, indexSecretRef, func(obj client.Object) []string {
		return secretRefs(obj.(*iamv1alpha1.Connection))
	}); err != nil {
		return fmt.Errorf("cannot index Connections by Secret: %w", err)
	}
	return nil
}

// setupConnection creates the Connection controller, fed by the engine:
// a Connection is reconciled once the Index holds a change that touches it
// (access.Affected: its own spec or status, the Users and Groups of its
// audience, seats), and when its own Roles and RoleBindings change, its
// Secrets change (per-user ones from the cache, referenced ones through the
// cache of names) or its test has a new verdict.
func setupConnection(mgr ctrl.Manager, d wiring.Deps, names cache.Cache, tests *Tests) error {
	c := mgr.GetClient()
	rec := &Reconciler{
		Client:   c,
		Live:     mgr.GetAPIReader(),
		Recorder: mgr.GetEventRecorder("gatehouse-connection"),
		Tests:    tests,
		Engine:   d.Engine,
	}
	owner := handler.EnqueueRequestForOwner(mgr.GetScheme(), mgr.GetRESTMapper(), &iamv1alpha1.Connection{}, handler.OnlyControllerOwner())
	err := d.EngineFed(mgr, "connection", access.KindConnection).
		Watches(&rbacv1.Role{}, owner).
		Watches(&rbacv1.RoleBinding{}, owner).
		Watches(&corev1.Secret{}, wiring.OldAndNew(func(_ context.Context, obj client.Object) []reconcile.Request {
			if name := obj.GetLabels()[iamv1alpha1.LabelConnection]; name != "" {
				return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: obj.GetNamespace(), Name: name}}}
			}
			return nil
		})).
		WatchesRawSource(source.Kind(names, secretnames.Object(), handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
			return connectionsBy(ctx, c, obj.GetNamespace(), indexSecretRef, obj.GetName())
		}))).
		// A new verdict of the test controller.
		WatchesRawSource(source.Channel(tests.done, &handler.EnqueueRequestForObject{})).
		Complete(rec)
	if err != nil {
		return fmt.Errorf("cannot create the connection controller: %w", err)
	}
	return nil
}

// setupTest creates the connection-test controller, apart: as many
// workers as tests may run at once, so that the Connection controller's
// workers never wait for a database.
func (o Options) setupTest(mgr ctrl.Manager, d wiring.Deps, tests *Tests) error {
	workers := func(co *controller.Options) { co.MaxConcurrentReconciles = cap(tests.sem) }
	err := d.Controller(mgr, "connection-test", workers).
		For(&iamv1alpha1.Connection{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// A test the Connection controller found due (a Secret changed).
		WatchesRawSource(source.Channel(tests.due, &handler.EnqueueRequestForObject{})).
		Complete(&TestReconciler{Client: mgr.GetClient(), Secrets: mgr.GetAPIReader(), Tests: tests, TestAllowedCIDRs: o.TestAllowedCIDRs})
	if err != nil {
		return fmt.Errorf("cannot create the connection-test controller: %w", err)
	}
	return nil
}

// setupCredential creates the connection-credential controller: a
// per-user credential Secret's owner changes with the Secret, its
// Connection and its User's creation or deletion.
func setupCredential(mgr ctrl.Manager, d wiring.Deps) error {
	c := mgr.GetClient()
	err := d.Controller(mgr, "connection-credential").
		For(&corev1.Secret{}).
		Watches(&iamv1alpha1.Connection{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
			return secretsLabelled(ctx, c, obj.GetNamespace(), iamv1alpha1.LabelConnection, obj.GetName())
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&iamv1alpha1.User{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
			return secretsLabelled(ctx, c, obj.GetNamespace(), iamv1alpha1.LabelUser, obj.GetName())
		}), builder.WithPredicates(createOrDelete())).
		Complete(&CredentialReconciler{Client: c, Live: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("gatehouse-connection")})
	if err != nil {
		return fmt.Errorf("cannot create the connection-credential controller: %w", err)
	}
	return nil
}

// secretRefs are the names of the Secrets conn references.
func secretRefs(conn *iamv1alpha1.Connection) []string {
	var out []string
	if ref := conn.Spec.Credentials.SecretRef; ref != nil {
		out = append(out, ref.Name)
	}
	if o := conn.Spec.Credentials.OAuth2; o != nil {
		out = append(out, o.ClientSecretRef.Name)
	}
	return out
}

// connectionsBy enqueues the Connections of namespace whose index holds
// value.
func connectionsBy(ctx context.Context, c client.Reader, namespace, index, value string) []reconcile.Request {
	var list iamv1alpha1.ConnectionList
	if err := c.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{index: value}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "cannot list Connections", "index", index)
		return nil
	}
	out := make([]reconcile.Request, len(list.Items))
	for i := range list.Items {
		out[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])}
	}
	return out
}

// secretsLabelled enqueues the cached Secrets of namespace with label=value.
func secretsLabelled(ctx context.Context, c client.Reader, namespace, label, value string) []reconcile.Request {
	var list corev1.SecretList
	if err := c.List(ctx, &list, client.InNamespace(namespace), client.MatchingLabels{label: value}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "cannot list credential Secrets")
		return nil
	}
	out := make([]reconcile.Request, len(list.Items))
	for i := range list.Items {
		out[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])}
	}
	return out
}

// createOrDelete passes only creations and deletions.
func createOrDelete() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(event.UpdateEvent) bool { return false }}
}
