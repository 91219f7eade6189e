package connection

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/outbound"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// Event reasons on a per-user credential Secret.
const (
	// EventInvalidLabels: the Secret carries one label of a per-user
	// credential but not both, or a value that cannot name an object.
	EventInvalidLabels = "InvalidLabels"
	// EventUnknownConnection: the Connection the Secret names does not exist
	// or does not take per-user credentials.
	EventUnknownConnection = "UnknownConnection"
	// EventUnknownUser: the User the Secret names does not exist.
	EventUnknownUser = "UnknownUser"
	// EventOwnedElsewhere: another controller owns the Secret.
	EventOwnedElsewhere = "OwnedElsewhere"
	// EventSuperseded (on the User): a newer credential Secret for the same
	// connection replaced an older one, which the operator deleted.
	EventSuperseded = "CredentialSuperseded"
	// EventInUse: an older credential Secret is marked for, or named by, a
	// Connection or Directory, so superseding it does not delete it.
	EventInUse = "CredentialInUse"
)

// CredentialReconciler makes each per-user credential Secret owned by its
// User, so that deleting the User garbage-collects it, and warns with an
// Event about a Secret that names an unknown user or connection (which it
// leaves alone).
type CredentialReconciler struct {
	// Client reads from the cache, which holds only labelled Secrets.
	Client client.Client
	// Live reads the Connections and Directories that may name a Secret
	// about to be superseded, from the API server: a cache a moment behind
	// would let a Secret named a moment ago go.
	Live     client.Reader
	Recorder events.EventRecorder
}

// Reconcile looks at one labelled Secret.
func (r *CredentialReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var secret corev1.Secret
	if err := r.Client.Get(ctx, req.NamespacedName, &secret); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if secret.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	key, err := outbound.ParseUserKey(secret.Labels)
	if errors.Is(err, outbound.ErrNotUserSecret) {
		return ctrl.Result{}, nil
	}
	if err != nil {
		r.warn(&secret, EventInvalidLabels, words.FullStop(err.Error()))
		return ctrl.Result{}, nil
	}
	var conn iamv1alpha1.Connection
	switch err := r.Client.Get(ctx, client.ObjectKey{Namespace: secret.Namespace, Name: key.Connection}, &conn); {
	case apierrors.IsNotFound(err):
		r.warn(&secret, EventUnknownConnection, fmt.Sprintf("Label %s names Connection %s, which does not exist in namespace %s: fix the label or create the Connection. The Secret is left alone.",
			iamv1alpha1.LabelConnection, key.Connection, secret.Namespace))
		return ctrl.Result{}, nil
	case err != nil:
		return ctrl.Result{}, err
	case conn.Spec.Credentials.Mode != iamv1alpha1.CredentialModePerUser:
		r.warn(&secret, EventUnknownConnection, fmt.Sprintf("Label %s names Connection %s, whose credentials are not per-user (mode %s): the Secret is not used and left alone.",
			iamv1alpha1.LabelConnection, key.Connection, conn.Spec.Credentials.Mode))
		return ctrl.Result{}, nil
	}
	var user iamv1alpha1.User
	switch err := r.Client.Get(ctx, client.ObjectKey{Namespace: secret.Namespace, Name: key.User}, &user); {
	case apierrors.IsNotFound(err):
		r.warn(&secret, EventUnknownUser, fmt.Sprintf("Label %s names User %s, which does not exist in namespace %s: fix the label or create the User. The Secret is left alone.",
			iamv1alpha1.LabelUser, key.User, secret.Namespace))
		return ctrl.Result{}, nil
	case err != nil:
		return ctrl.Result{}, err
	}
	if user.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	if superseded, err := r.supersede(ctx, &secret, key, &user); superseded || err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, r.own(ctx, &secret, &user)
}

// supersede keeps one credential per connection and user: the newest
// (creation time, then name). Self-service is create-only — a user stores a
// new credential and never updates or deletes one — so an older Secret of
// the same connection and user is deleted here, and reported on the User.
// It returns whether secret itself was the older one.
func (r *CredentialReconciler) supersede(ctx context.Context, secret *corev1.Secret, key outbound.UserKey, user *iamv1alpha1.User) (bool, error) {
	same, err := outbound.ListUserSecrets(ctx, r.Client, secret.Namespace,
		client.MatchingLabels{iamv1alpha1.LabelConnection: key.Connection, iamv1alpha1.LabelUser: key.User})
	if err != nil || len(same) < 2 {
		return false, err
	}
	newest := slices.MaxFunc(same, func(a, b *corev1.Secret) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	named, err := r.namedSecrets(ctx, secret.Namespace)
	if err != nil {
		return false, err
	}
	for _, old := range same {
		if old.Name == newest.Name {
			continue
		}
		if why := inUse(old, named); why != "" {
			r.warn(old, EventInUse, fmt.Sprintf("A newer credential of User %s for Connection %s is in Secret %s, but this one is not deleted: %s.", key.User, key.Connection, newest.Name, why))
			continue
		}
		// Quiet: the response holds the Secret's data (outbound.Quiet).
		err := r.Client.Delete(outbound.Quiet(ctx), old, client.Preconditions{UID: &old.UID, ResourceVersion: &old.ResourceVersion})
		switch {
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
			continue // gone, or changed: its own event brings it back
		case err != nil:
			return false, fmt.Errorf("cannot delete the superseded credential Secret %s/%s: %w", old.Namespace, old.Name, err)
		}
		r.Recorder.Eventf(user, nil, corev1.EventTypeNormal, EventSuperseded, "Supersede",
			"The credential for Connection %s in Secret %s replaces the one in Secret %s, which was deleted.", key.Connection, newest.Name, old.Name)
	}
	return newest.Name != secret.Name, nil
}

// inUse says why a Secret is not only a per-user credential, so that
// superseding it must not delete it: it is marked for a Connection or
// Directory, or one of them names it (named: namedSecrets); "" when
// neither.
func inUse(s *corev1.Secret, named map[string]string) string {
	if m := s.Labels[iamv1alpha1.LabelCredentialFor]; m != "" {
		return fmt.Sprintf("it is marked for %s (label %s)", m, iamv1alpha1.LabelCredentialFor)
	}
	if by := named[s.Name]; by != "" {
		return by + " names it"
	}
	return ""
}

// namedSecrets are the Secrets the Connections and Directories of
// namespace ns name, by Secret name, each with the first object that names
// it ("Connection x"), read live: a cache a moment behind would let a
// Secret named a moment ago go.
func (r *CredentialReconciler) namedSecrets(ctx context.Context, ns string) (map[string]string, error) {
	in := client.InNamespace(ns)
	var conns iamv1alpha1.ConnectionList
	if err := r.Live.List(ctx, &conns, in); err != nil {
		return nil, fmt.Errorf("cannot list the Connections of namespace %s: %w", ns, err)
	}
	var dirs iamv1alpha1.DirectoryList
	if err := r.Live.List(ctx, &dirs, in); err != nil {
		return nil, fmt.Errorf("cannot list the Directories of namespace %s: %w", ns, err)
	}
	named := map[string]string{}
	add := func(by string, names []string) {
		for _, n := range names {
			if named[n] == "" {
				named[n] = by
			}
		}
	}
	for i := range conns.Items {
		add("Connection "+conns.Items[i].Name, secretRefs(&conns.Items[i]))
	}
	for i := range dirs.Items {
		add("Directory "+dirs.Items[i].Name, dirs.Items[i].Spec.SecretNames())
	}
	return named, nil
}

// own makes user the controller of secret, dropping owner references to
// other Users (a Secret relabelled to another user must not go with the
// first one). blockOwnerDeletion stays unset: deleting a User need not wait
// for its credentials, and the operator needs no right on users/finalizers.
func (r *CredentialReconciler) own(ctx context.Context, secret *corev1.Secret, user *iamv1alpha1.User) error {
	userKind := iamv1alpha1.GroupVersion.WithKind("User")
	if c := metav1.GetControllerOf(secret); c != nil && (c.APIVersion != userKind.GroupVersion().String() || c.Kind != userKind.Kind) {
		r.warn(secret, EventOwnedElsewhere, fmt.Sprintf("The Secret is controlled by %s %s, so it cannot be made owned by User %s: it is not deleted with the user.",
			c.Kind, c.Name, user.Name))
		return nil
	}
	want := metav1.OwnerReference{APIVersion: userKind.GroupVersion().String(), Kind: userKind.Kind, Name: user.Name, UID: user.UID, Controller: ptr.To(true)}
	refs := []metav1.OwnerReference{want}
	for _, ref := range secret.OwnerReferences {
		if ref.APIVersion == want.APIVersion && ref.Kind == want.Kind {
			continue
		}
		refs = append(refs, ref)
	}
	if status.Equal(refs, secret.OwnerReferences) {
		return nil
	}
	patch := client.MergeFromWithOptions(secret.DeepCopy(), client.MergeFromWithOptimisticLock{})
	secret.OwnerReferences = refs
	// Quiet: the response holds the Secret's data (outbound.Quiet).
	if err := r.Client.Patch(outbound.Quiet(ctx), secret, patch); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return nil // its update brings it back
		}
		return fmt.Errorf("cannot make User %s the owner of Secret %s/%s: %w", user.Name, secret.Namespace, secret.Name, err)
	}
	return nil
}

func (r *CredentialReconciler) warn(secret *corev1.Secret, reason, msg string) {
	r.Recorder.Eventf(secret, nil, corev1.EventTypeWarning, reason, "Validate", "%s", msg)
}
