package user

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/wiring"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/statusowner"
)

// Setup creates the User controller, fed by the engine, and the
// user-credentials controller on the manager.
func Setup(_ context.Context, mgr ctrl.Manager, d wiring.Deps) error {
	r := &Reconciler{Client: mgr.GetClient(), Engine: d.Engine, Recorder: mgr.GetEventRecorder("gatehouse-user"), Audit: d.Audit}
	queue := func(o *controller.Options) { o.NewQueue = d.UserQueue }
	if err := d.EngineFed(mgr, "user", access.KindUser, queue).Complete(r); err != nil {
		return fmt.Errorf("cannot create the user controller: %w", err)
	}
	return setupCredentials(mgr, d)
}

// setupCredentials creates the user-credentials controller: a User's
// credentials change with the User's admission and credentials, with its
// namespace's Connections and with its credential Secrets.
func setupCredentials(mgr ctrl.Manager, d wiring.Deps) error {
	c := mgr.GetClient()
	err := d.Controller(mgr, "connection-user-credentials").
		For(&iamv1alpha1.User{}, builder.WithPredicates(predicate.Or[client.Object](userAdmissionChanged(), statusowner.Written()))).
		Watches(&iamv1alpha1.Connection{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
			return usersOf(ctx, c, obj.GetNamespace())
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Secret{}, wiring.OldAndNew(func(_ context.Context, obj client.Object) []reconcile.Request {
			if name := obj.GetLabels()[iamv1alpha1.LabelUser]; name != "" {
				return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: obj.GetNamespace(), Name: name}}}
			}
			return nil
		})).
		Complete(&CredentialsReconciler{Client: c, Recorder: mgr.GetEventRecorder("gatehouse-connection"), Engine: d.Engine})
	if err != nil {
		return fmt.Errorf("cannot create the connection-user-credentials controller: %w", err)
	}
	return nil
}
