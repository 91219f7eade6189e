package status

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/applytest"
)

// The writers of the golden test, under the controllers' field managers.
var (
	goldenGrants      = NewWriter("gatehouse-resourcegrant", "ResourceGrant")
	goldenShares      = NewWriter("gatehouse-share", "Share")
	goldenUsers       = NewWriter("gatehouse-user", "User", "observedGeneration", "groups", "seat", "globalPermissions", "resources", "resourceCount", "resourcesTruncated", "conditions")
	goldenCredentials = NewWriter("gatehouse-connection", "User", "credentials")
)

// grantStatus is the status the ResourceGrant controller applies.
func grantStatus(generation int64, users int32, conds ...metav1.Condition) any {
	return &iamv1alpha1.ResourceGrantStatus{ObservedGeneration: generation, Users: users, Conditions: conds}
}

// The status applies as the API server receives them (path with the status
// subresource, field manager, force, and the body with the UID
// precondition): server-side apply removes whatever a manager stops
// applying, so a change of how the writer builds the apply must send the
// same bodies (testdata/status-applies.json, JSON with sorted keys). Zero
// counts and generations are left out, as the status structs' omitempty
// leaves them out.
func TestStatusAppliesGolden(t *testing.T) {
	c, rec := applytest.New(t)
	at := metav1.NewTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	ready := Condition(iamv1alpha1.ConditionReady, true, "Reconciled", "Reaches 2 active users.")
	ready.ObservedGeneration, ready.LastTransitionTime = 3, at
	broken := Condition(iamv1alpha1.ConditionReady, false, "UnknownGrantee", "Group ghosts does not exist.")
	broken.LastTransitionTime = at
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: "acme", Name: name, UID: types.UID("uid-" + name)}
	}
	ctx := context.Background()
	for _, s := range []struct {
		w      *Writer
		obj    client.Object
		status any
	}{
		{goldenGrants, &iamv1alpha1.ResourceGrant{ObjectMeta: meta("g1")}, grantStatus(3, 2, ready)},
		{goldenGrants, &iamv1alpha1.ResourceGrant{ObjectMeta: meta("g0")}, grantStatus(0, 0, broken)},
		{goldenShares, &iamv1alpha1.Share{ObjectMeta: meta("s1")}, &iamv1alpha1.ShareStatus{
			ObservedGeneration: 3, Users: 2, Conditions: []metav1.Condition{ready},
			NotifiedUsers: []string{"alice", "bob"}, NotifiedGeneration: 3}},
		{goldenShares, &iamv1alpha1.Share{ObjectMeta: meta("s0")}, &iamv1alpha1.ShareStatus{Conditions: []metav1.Condition{broken}}},
		{goldenUsers, &iamv1alpha1.User{ObjectMeta: meta("alice")}, &iamv1alpha1.UserStatus{
			ObservedGeneration: 4, Groups: []string{"analysts"}, Seat: iamv1alpha1.SeatGranted,
			GlobalPermissions: []iamv1alpha1.GlobalPermission{iamv1alpha1.GlobalAdmin},
			Resources:         []iamv1alpha1.ResourceAccess{{Type: "project", Name: "p1", Role: "Reader", Permissions: []iamv1alpha1.Permission{"read"}}},
			ResourceCount:     1, Conditions: []metav1.Condition{ready}}},
		{goldenCredentials, &iamv1alpha1.User{ObjectMeta: meta("bob")}, &iamv1alpha1.UserStatus{
			Credentials: []iamv1alpha1.CredentialStatus{{Connection: "warehouse", Ready: false, Reason: "Missing"}, {Connection: "lake", Ready: true}}}},
	} {
		if err := s.w.apply(ctx, c, s.obj, s.status); err != nil {
			t.Fatalf("%s %s: %v", s.w.Kind(), s.obj.GetName(), err)
		}
	}
	rec.Golden(t, "testdata/status-applies.json")
}
