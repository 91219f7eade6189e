package user

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
	"github.com/gatehouse-dev/gatehouse/internal/outbound"
)

// CredentialsFieldManager owns User.status.credentials. It keeps the name
// "gatehouse-connection" of the package that wrote the field before it
// moved here: the name is stored state. The managedFields of existing
// Users name it as the owner of status.credentials, and
// internal/statusowner counts it among the operator's own managers, so a
// new name would need a migration of both.
const CredentialsFieldManager = "gatehouse-connection"

// credentialsWriter writes User.status.credentials (that field only, and
// repairs that field only) as CredentialsFieldManager.
var credentialsWriter = status.NewWriter(CredentialsFieldManager, "User", "credentials")

// RBAC of the user-credentials controller.
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=connections,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch

// usersOf enqueues every User of namespace.
func usersOf(ctx context.Context, c client.Reader, namespace string) []reconcile.Request {
	var list iamv1alpha1.UserList
	if err := c.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "cannot list Users")
		return nil
	}
	out := make([]reconcile.Request, len(list.Items))
	for i := range list.Items {
		out[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])}
	}
	return out
}

// userAdmissionChanged passes User creations, deletions and changes of
// what usableBy admission reads: active and groups.
func userAdmissionChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, n := e.ObjectOld.(*iamv1alpha1.User), e.ObjectNew.(*iamv1alpha1.User)
		return access.AdmissionChanged(o, n) || !slices.Equal(o.Status.Credentials, n.Status.Credentials)
	}}
}

// CredentialsReconciler writes User.status.credentials: one entry per
// PerUser Connection that admits the user or that the user has a Secret
// for. It applies that field only, as CredentialsFieldManager.
type CredentialsReconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	// Engine says who may use which Connection (required).
	Engine *engine.Engine
}

// Reconcile computes and applies one User's credentials.
func (r *CredentialsReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var u iamv1alpha1.User
	if err := r.Client.Get(ctx, req.NamespacedName, &u); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if u.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	// A failure is not written into the status (its conditions are the
	// User controller's): no failed status, no deferred End.
	x, err := credentialsWriter.Begin(ctx, r.Client, r.Recorder, &u, nil)
	if err != nil {
		return ctrl.Result{}, err
	}
	var conns iamv1alpha1.ConnectionList
	if err := r.Client.List(ctx, &conns, client.InNamespace(u.Namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("cannot list the Connections of namespace %s: %w", u.Namespace, err)
	}
	secrets, err := outbound.ListUserSecrets(ctx, r.Client, u.Namespace, client.MatchingLabels{iamv1alpha1.LabelUser: u.Name})
	if err != nil {
		return ctrl.Result{}, err
	}
	byConn := map[string][]*corev1.Secret{}
	for _, s := range secrets {
		c := s.Labels[iamv1alpha1.LabelConnection]
		byConn[c] = append(byConn[c], s)
	}
	var want []iamv1alpha1.CredentialStatus
	for i := range conns.Items {
		conn := &conns.Items[i]
		if !outbound.IsPerUser(conn) {
			continue
		}
		// Who may use conn is the engine's to say, once its Index holds
		// conn.
		ix := r.Engine.Index(conn.Namespace)
		if ix == nil || !ix.HasConnection(conn.Name) {
			return ctrl.Result{RequeueAfter: time.Second}, nil // who may use it is not known yet
		}
		if st, ok := outbound.UserState(conn, u.Name, byConn[conn.Name], ix.MayUse(conn.Name, u.Name)); ok {
			want = append(want, st)
		}
	}
	slices.SortFunc(want, func(a, b iamv1alpha1.CredentialStatus) int { return strings.Compare(a.Connection, b.Connection) })
	if _, err := x.Apply(ctx, &iamv1alpha1.UserStatus{Credentials: want}, status.Equal(u.Status.Credentials, want)); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}
