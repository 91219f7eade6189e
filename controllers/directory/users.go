package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// ownershipReader reads a User's managed fields with an uncached client (the
// manager's cache drops them) and says who owns spec.profile and
// spec.active.
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
	}
	own.ProfileOverridden = otherProfile && !own.OwnsProfile
	return own
}

// applyConfig is the server-side apply configuration of a User with exactly
// the fields the directory owns: the label, login, source, directory,
// displayName, email and directoryGroups; profile when the directory gives
// it; active only to deactivate. An administrator's profile override, local
// groups, organization, authMethod, kubernetesUsername and active are never
// in it, so they are never overwritten.
func applyConfig(dir *iamv1alpha1.Directory, o op) *unstructured.Unstructured {
	spec := map[string]any{
		"login":     o.Want.Login,
		"source":    string(iamv1alpha1.UserSourceLDAP),
		"directory": dir.Name,
	}
	if o.Want.DisplayName != "" {
		spec["displayName"] = o.Want.DisplayName
	}
	if o.Want.Email != "" {
		spec["email"] = o.Want.Email
	}
	if len(o.Want.Groups) > 0 {
		groups := make([]any, len(o.Want.Groups))
		for i, g := range o.Want.Groups {
			groups[i] = g
		}
		spec["directoryGroups"] = groups
	}
	if o.SetProfile && o.Want.Profile != "" {
		spec["profile"] = o.Want.Profile
	}
	if o.Deactivate {
		spec["active"] = false
	}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(iamv1alpha1.GroupVersion.WithKind("User"))
	u.SetName(o.Name)
	u.SetNamespace(dir.Namespace)
	u.SetLabels(map[string]string{iamv1alpha1.LabelDirectory: dir.Name})
	if o.Current != nil {
		// The apply fails rather than write into a new object of the same
		// name created since the read.
		u.SetUID(o.Current.UID)
	}
	return u
}

// writer makes a plan's writes, a few at a time.
type writer struct {
	client   client.Client
	dir      *iamv1alpha1.Directory
	parallel int
	count    func(operation string)
}

// write makes every write of p and returns the counts of those that
// succeeded and the errors of the others.
func (w *writer) write(ctx context.Context, p *plan) (created, updated, removed int, err error) {
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
		g    errgroup.Group
	)
	g.SetLimit(max(1, w.parallel))
	for _, j := range jobs {
		g.Go(func() error {
			err := w.one(ctx, j.op, j.kind)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
			case j.kind == opCreate:
				created++
			case j.kind == opUpdate:
				updated++
			default:
				removed++
			}
			return nil
		})
	}
	_ = g.Wait() // the functions return nil
	return created, updated, removed, errors.Join(errs...)
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
	if err := w.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(iamv1alpha1.FieldManagerDirectory), client.ForceOwnership); err != nil {
		return fmt.Errorf("cannot %s User %s: %w", kind, o.Name, err)
	}
	w.count(kind)
	return nil
}
