package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	iamv1alpha1ac "github.com/gatehouse-dev/gatehouse/api/v1alpha1/applyconfiguration/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/provision"
)

// ownershipReader reads a User's managed fields with an uncached client (the
// manager's cache drops them: cmd/manager strips managedFields from every
// cached object) and says who owns spec.profile and spec.active. The sync
// calls it only after the safety bound let it through (plan.resolve), and
// only for the Users it may write.
func ownershipReader(reader client.Reader) ownershipFunc {
	return func(ctx context.Context, u *iamv1alpha1.User) (ownership, error) {
		var fresh iamv1alpha1.User
		if err := reader.Get(ctx, client.ObjectKeyFromObject(u), &fresh); err != nil {
			return ownership{}, fmt.Errorf("cannot read the managed fields of User %s/%s: %w", u.Namespace, u.Name, err)
		}
		return ownershipOf(fresh.ManagedFields), nil
	}
}

// ownershipOf reads managed fields: the directory's apply entry, and every
// other manager's entries of the main resource.
func ownershipOf(entries []metav1.ManagedFieldsEntry) ownership {
	var own ownership
	otherProfile := false
	for _, e := range entries {
		if e.Subresource != "" || e.FieldsV1 == nil {
			continue
		}
		var fields map[string]any
		if json.Unmarshal(e.FieldsV1.GetRawBytes(), &fields) != nil {
			continue
		}
		spec, _ := fields["f:spec"].(map[string]any)
		_, profile := spec["f:profile"]
		_, active := spec["f:active"]
		if e.Manager == iamv1alpha1.FieldManagerDirectory && e.Operation == metav1.ManagedFieldsOperationApply {
			own.OwnsProfile = own.OwnsProfile || profile
			own.OwnsActive = own.OwnsActive || active
			continue
		}
		otherProfile = otherProfile || profile
		if active && own.ActiveManager == "" && e.Manager != iamv1alpha1.FieldManagerDirectory {
			own.ActiveManager = e.Manager
		}
	}
	own.ProfileOverridden = otherProfile && !own.OwnsProfile
	return own
}

// applyConfig is the server-side apply configuration of a User with exactly
// the fields the directory owns (provision.Apply): the label, login,
// source, directory, displayName, email and directoryGroups; profile when
// the directory gives it; active only to deactivate. An administrator's
// profile override, local groups, organization, authMethod,
// kubernetesUsername and active are never in it, so they are never
// overwritten. An update carries the UID the plan read: it fails rather
// than write into a new object of the same name created since the read.
func applyConfig(dir *iamv1alpha1.Directory, o op) *iamv1alpha1ac.UserApplyConfiguration {
	u := provision.User{
		Namespace: dir.Namespace, Name: o.Name,
		Source: iamv1alpha1.UserSourceLDAP, Directory: dir.Name,
		Login: o.Want.Login, DisplayName: o.Want.DisplayName, Email: o.Want.Email,
		DirectoryGroups: o.Want.Groups,
	}
	if o.Current != nil {
		u.UID = o.Current.UID
	}
	if o.SetProfile {
		u.Profile = o.Want.Profile
	}
	if o.Deactivate {
		u.Active = ptr.To(false)
	}
	return provision.Apply(u)
}

// writer makes a plan's writes, a few at a time.
type writer struct {
	client   client.Client
	recorder events.EventRecorder
	dir      *iamv1alpha1.Directory
	parallel int
	count    func(operation string)
}

// writes counts the writes of a sync that succeeded.
type writes struct {
	created, updated, deactivated, deleted int
	// activeDelta is how many more Users of the directory are active
	// after the writes than before.
	activeDelta int
	// overridden are the Users deactivated although an administrator had
	// set spec.active (sorted names).
	overridden []string
}

// removed is how many Users the writes deactivated or deleted.
func (w writes) removed() int { return w.deactivated + w.deleted }

// write makes every write of p and returns the counts of those that
// succeeded and the errors of the others.
func (w *writer) write(ctx context.Context, p *plan) (writes, error) {
	type job struct {
		op   op
		kind string
	}
	var jobs []job
	for _, o := range p.Creates {
		jobs = append(jobs, job{o, opCreate})
	}
	for _, o := range p.Updates {
		jobs = append(jobs, job{o, opUpdate})
	}
	for _, o := range p.Deactivates {
		jobs = append(jobs, job{o, opDeactivate})
	}
	for _, o := range p.Deletes {
		jobs = append(jobs, job{o, opDelete})
	}
	// Every write is tried, whatever the others do: the errors are collected
	// and joined, so the group's functions never fail (and no context is
	// cancelled by a first error).
	var (
		mu   sync.Mutex
		errs []error
		out  writes
		g    errgroup.Group
	)
	g.SetLimit(max(1, w.parallel))
	for _, j := range jobs {
		g.Go(func() error {
			err := w.one(ctx, j.op, j.kind)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			out.count(j.op, j.kind)
			return nil
		})
	}
	_ = g.Wait() // the functions return nil
	sort.Strings(out.overridden)
	return out, errors.Join(errs...)
}

// count adds one successful write.
func (w *writes) count(o op, kind string) {
	wasActive := o.Current != nil && o.Current.Spec.IsActive()
	switch kind {
	case opCreate:
		w.created++
		w.activeDelta++
	case opUpdate:
		w.updated++
		if !wasActive {
			w.activeDelta++ // a reactivation
		}
	case opDeactivate:
		w.deactivated++
		w.activeDelta--
		if o.ActiveManager != "" {
			w.overridden = append(w.overridden, o.Name)
		}
	case opDelete:
		w.deleted++
		if wasActive {
			w.activeDelta--
		}
	}
}

// The write operations, as metrics label values.
const (
	opCreate     = "create"
	opUpdate     = "update"
	opDeactivate = "deactivate"
	opDelete     = "delete"
)

func (w *writer) one(ctx context.Context, o op, kind string) error {
	if kind == opDelete {
		err := w.client.Delete(ctx, o.Current, client.Preconditions{UID: &o.Current.UID})
		if err := client.IgnoreNotFound(err); err != nil {
			return fmt.Errorf("cannot delete User %s: %w", o.Name, err)
		}
		w.count(kind)
		return nil
	}
	u := applyConfig(w.dir, o)
	if err := w.client.Apply(ctx, u,
		client.FieldOwner(iamv1alpha1.FieldManagerDirectory), client.ForceOwnership); err != nil {
		return fmt.Errorf("cannot %s User %s: %w", kind, o.Name, err)
	}
	w.count(kind)
	if kind == opDeactivate && o.ActiveManager != "" && w.recorder != nil {
		// The directory is the source of truth for its Users: an
		// administrator's active: true does not hold, and says so.
		w.recorder.Eventf(o.Current, w.dir, corev1.EventTypeWarning, EventDeactivatedByDirectory, "Sync",
			"Directory %s deactivated this User again: it has no entry with the login %q (spec.onRemoval: Deactivate), and the directory decides whether its Users are active; "+
				"spec.active: true (set by %s) lasts only until the next sync. To restore the User, put it back into the directory, or change the Directory's users baseDN or filter so that they match it.",
			w.dir.Name, o.Login, o.ActiveManager)
	}
	return nil
}
