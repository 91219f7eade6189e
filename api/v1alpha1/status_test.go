package v1alpha1_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// statusKind adapts one kind for TestStatusSubresource.
type statusKind struct {
	newObj func() client.Object
	// changeSpec makes a valid change to the spec.
	changeSpec func(client.Object)
	// setStatus writes a recognisable status, marked with gen.
	setStatus func(obj client.Object, gen int64)
	spec      func(client.Object) any
	status    func(client.Object) any
}

// kindOf builds a statusKind from functions on the concrete type.
func kindOf[T client.Object](newObj func() T, changeSpec func(T), setStatus func(T, int64), spec, status func(T) any) statusKind {
	return statusKind{
		newObj:     func() client.Object { return newObj() },
		changeSpec: func(o client.Object) { changeSpec(o.(T)) },
		setStatus:  func(o client.Object, gen int64) { setStatus(o.(T), gen) },
		spec:       func(o client.Object) any { return spec(o.(T)) },
		status:     func(o client.Object) any { return status(o.(T)) },
	}
}

var someTime = metav1.NewTime(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))

func readyCondition(gen int64) []metav1.Condition {
	return []metav1.Condition{{
		Type:               iamv1alpha1.ConditionReady,
		Status:             metav1.ConditionTrue,
		ObservedGeneration: gen,
		LastTransitionTime: someTime,
		Reason:             iamv1alpha1.ReasonReconciled,
		Message:            "reconciled",
	}}
}

var statusKinds = map[string]statusKind{
	"User": kindOf(validUser,
		func(u *iamv1alpha1.User) { u.Spec.DisplayName = "changed" },
		func(u *iamv1alpha1.User, gen int64) {
			u.Status = iamv1alpha1.UserStatus{
				ObservedGeneration: gen,
				Groups:             []string{"administrators", "data-team"},
				Seat:               iamv1alpha1.SeatGranted,
				GlobalPermissions:  []iamv1alpha1.GlobalPermission{iamv1alpha1.GlobalAdmin},
				Resources: []iamv1alpha1.ResourceAccess{{
					Type: iamv1alpha1.ResourceDataset, Name: "sales", Role: iamv1alpha1.RoleOwner,
					Permissions: []iamv1alpha1.Permission{"deleteDataset"},
					Via:         []iamv1alpha1.AccessVia{{Kind: iamv1alpha1.ViaShare, Name: "sales", Subject: "user", Role: iamv1alpha1.RoleOwner}},
				}},
				ResourceCount: 1,
				Credentials:   []iamv1alpha1.CredentialStatus{{Connection: "lake", Ready: true, Reason: "Configured"}},
				Conditions:    readyCondition(gen),
			}
		},
		func(u *iamv1alpha1.User) any { return u.Spec },
		func(u *iamv1alpha1.User) any { return u.Status }),
	"Group": kindOf(validGroup,
		func(g *iamv1alpha1.Group) { g.Spec.Description = "changed" },
		func(g *iamv1alpha1.Group, gen int64) {
			g.Status = iamv1alpha1.GroupStatus{ObservedGeneration: gen, Members: 3, Conditions: readyCondition(gen)}
		},
		func(g *iamv1alpha1.Group) any { return g.Spec },
		func(g *iamv1alpha1.Group) any { return g.Status }),
	"License": kindOf(validLicense,
		func(l *iamv1alpha1.License) { l.Spec.Profiles[0].Seats = 10 },
		func(l *iamv1alpha1.License, gen int64) {
			l.Status = iamv1alpha1.LicenseStatus{
				ObservedGeneration: gen,
				Profiles:           []iamv1alpha1.ProfileStatus{{Name: "designer", Seats: 3, Used: 3, Pending: 1}},
				Conditions:         readyCondition(gen),
			}
		},
		func(l *iamv1alpha1.License) any { return l.Spec },
		func(l *iamv1alpha1.License) any { return l.Status }),
	"Directory": kindOf(validDirectory,
		func(d *iamv1alpha1.Directory) { d.Spec.PageSize = 100 },
		func(d *iamv1alpha1.Directory, gen int64) {
			d.Status = iamv1alpha1.DirectoryStatus{
				ObservedGeneration: gen,
				LastAttemptTime:    &someTime,
				LastSuccessTime:    &someTime,
				LastSyncDuration:   &metav1.Duration{Duration: 1500 * time.Millisecond},
				UsersFound:         7, GroupsFound: 2, Created: 1, Updated: 2, Deactivated: 1,
				Conditions: readyCondition(gen),
			}
		},
		func(d *iamv1alpha1.Directory) any { return d.Spec },
		func(d *iamv1alpha1.Directory) any { return d.Status }),
	"Connection": kindOf(validConnection,
		func(c *iamv1alpha1.Connection) { c.Spec.Parameters["database"] = "analytics" },
		func(c *iamv1alpha1.Connection, gen int64) {
			c.Status = iamv1alpha1.ConnectionStatus{ObservedGeneration: gen, UsersConfigured: 2, UsersMissing: 1, UsersInvalid: 1, Conditions: readyCondition(gen)}
		},
		func(c *iamv1alpha1.Connection) any { return c.Spec },
		func(c *iamv1alpha1.Connection) any { return c.Status }),
	"ResourceGrant": kindOf(validGrant,
		func(g *iamv1alpha1.ResourceGrant) {
			g.Spec.Permissions = []iamv1alpha1.Permission{"readProjectContent"}
		},
		func(g *iamv1alpha1.ResourceGrant, gen int64) {
			g.Status = iamv1alpha1.ResourceGrantStatus{ObservedGeneration: gen, Users: 4, Conditions: readyCondition(gen)}
		},
		func(g *iamv1alpha1.ResourceGrant) any { return g.Spec },
		func(g *iamv1alpha1.ResourceGrant) any { return g.Status }),
	"Share": kindOf(validShare,
		func(s *iamv1alpha1.Share) { s.Spec.Note = "changed" },
		func(s *iamv1alpha1.Share, gen int64) {
			s.Status = iamv1alpha1.ShareStatus{ObservedGeneration: gen, Users: 5, Conditions: readyCondition(gen)}
		},
		func(s *iamv1alpha1.Share) any { return s.Spec },
		func(s *iamv1alpha1.Share) any { return s.Status }),
}

// TestStatusSubresource checks for every kind that status is written only
// through the status subresource and spec only through the main resource, so
// that the operator can never overwrite what a person declared and a person
// can never forge what the operator computed.
func TestStatusSubresource(t *testing.T) {
	if len(statusKinds) != 7 {
		t.Fatalf("the test covers %d kinds, want all 7", len(statusKinds))
	}
	ns := env.Namespace(t)
	for kind, k := range statusKinds {
		t.Run(kind, func(t *testing.T) {
			ctx := ctxFor(t)
			obj := k.newObj()
			obj.SetNamespace(ns)
			obj.SetName("status")
			if err := env.Client.Create(ctx, obj); err != nil {
				t.Fatalf("cannot create: %v", err)
			}
			key := client.ObjectKeyFromObject(obj)
			spec0, gen0 := k.spec(obj), obj.GetGeneration()
			if diff := cmp.Diff(k.status(k.newObj()), k.status(obj)); diff != "" {
				t.Fatalf("status written on create (-want +got):\n%s", diff)
			}

			// Status().Update writes status and ignores a spec change.
			want := obj.DeepCopyObject().(client.Object)
			k.setStatus(want, 1)
			sent := want.DeepCopyObject().(client.Object)
			k.changeSpec(sent)
			if err := env.Client.Status().Update(ctx, sent); err != nil {
				t.Fatalf("cannot update status: %v", err)
			}
			got := k.newObj()
			get(t, ns, key.Name, got)
			if diff := cmp.Diff(k.status(want), k.status(got)); diff != "" {
				t.Errorf("status after Status().Update (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(spec0, k.spec(got)); diff != "" {
				t.Errorf("Status().Update changed spec (-before +after):\n%s", diff)
			}
			if got.GetGeneration() != gen0 {
				t.Errorf("generation after Status().Update = %d, want %d", got.GetGeneration(), gen0)
			}

			// Status().Patch too.
			base := got.DeepCopyObject().(client.Object)
			k.setStatus(got, 2)
			k.changeSpec(got)
			if err := env.Client.Status().Patch(ctx, got, client.MergeFrom(base)); err != nil {
				t.Fatalf("cannot patch status: %v", err)
			}
			k.setStatus(want, 2)
			got = k.newObj()
			get(t, ns, key.Name, got)
			if diff := cmp.Diff(k.status(want), k.status(got)); diff != "" {
				t.Errorf("status after Status().Patch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(spec0, k.spec(got)); diff != "" {
				t.Errorf("Status().Patch changed spec (-before +after):\n%s", diff)
			}

			// An update of the main resource changes spec, not status.
			k.changeSpec(got)
			k.setStatus(got, 99)
			wantSpec := k.spec(got)
			if err := env.Client.Update(ctx, got); err != nil {
				t.Fatalf("cannot update: %v", err)
			}
			got = k.newObj()
			get(t, ns, key.Name, got)
			if diff := cmp.Diff(wantSpec, k.spec(got)); diff != "" {
				t.Errorf("spec after Update (-want +got):\n%s", diff)
			}
			if got.GetGeneration() != gen0+1 {
				t.Errorf("generation after a spec change = %d, want %d", got.GetGeneration(), gen0+1)
			}
			if diff := cmp.Diff(k.status(want), k.status(got)); diff != "" {
				t.Errorf("Update changed status (-want +got):\n%s", diff)
			}
		})
	}
}
