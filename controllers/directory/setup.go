package directory

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/secretnames"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/wiring"
	"github.com/gatehouse-dev/gatehouse/internal/ldap"
	"github.com/gatehouse-dev/gatehouse/internal/statusowner"
)

// Setup creates the Directory controller, tuned by o, on the manager.
func (o Options) Setup(ctx context.Context, mgr ctrl.Manager, d wiring.Deps) error {
	registerMetrics()
	if o.Dialer == nil {
		o.Dialer = ldap.DefaultDialer
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.Writers <= 0 {
		o.Writers = DefaultWriters
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &iamv1alpha1.Directory{}, secretIndex, func(o client.Object) []string {
		return o.(*iamv1alpha1.Directory).Spec.SecretNames()
	}); err != nil {
		return fmt.Errorf("cannot index Directories by Secret: %w", err)
	}
	// The bind password and CA Secrets carry no Gatehouse label, so the
	// manager's cache does not hold them: they are read live, by name,
	// and their changes seen through the cache of Secret names.
	names, err := secretnames.For(mgr, d.Namespaces)
	if err != nil {
		return err
	}
	r := &Reconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder("gatehouse-directory"),
		Options:   o,
		memory:    map[types.NamespacedName]*memo{},
	}
	backoff := func(co *controller.Options) {
		co.RateLimiter = workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](o.BackoffBase, o.BackoffMax)
	}
	err = d.Controller(mgr, "directory", backoff).
		For(&iamv1alpha1.Directory{}, builder.WithPredicates(predicate.Or[client.Object](
			predicate.GenerationChangedPredicate{}, annotationChanged(iamv1alpha1.AnnotationSyncNow, iamv1alpha1.AnnotationAllowMassRemoval),
			statusowner.Written()))).
		WatchesRawSource(source.Kind(names, secretnames.Object(), handler.EnqueueRequestsFromMapFunc(r.directoriesOfSecret))).
		Watches(&iamv1alpha1.User{}, handler.EnqueueRequestsFromMapFunc(directoryOfUser), builder.WithPredicates(pendingUser())).
		Complete(r)
	if err != nil {
		return fmt.Errorf("cannot create the directory controller: %w", err)
	}
	return nil
}
