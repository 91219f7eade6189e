package input

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// TestCredentialOfCluster: read from a cluster, a user's own credential is
// what the operator wrote in the User's status.credentials, and unknown
// when it wrote nothing of the Connection yet. (Read from manifests, the
// golden tests of who-can and explain judge the Secrets.)
func TestCredentialOfCluster(t *testing.T) {
	warehouse := &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Name: "warehouse"}}
	ready := iamv1alpha1.CredentialStatus{Connection: "warehouse", Ready: true}
	l := &Loaded{FromCluster: true, Snap: access.Snapshot{Users: []iamv1alpha1.User{
		{ObjectMeta: metav1.ObjectMeta{Name: "kim"}, Status: iamv1alpha1.UserStatus{Credentials: []iamv1alpha1.CredentialStatus{
			{Connection: "lake", Reason: iamv1alpha1.CredentialMissing}, ready}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "lee"}, Status: iamv1alpha1.UserStatus{Credentials: []iamv1alpha1.CredentialStatus{
			{Connection: "lake", Ready: true}}}},
	}}}
	tests := map[string]struct {
		user      string
		want      iamv1alpha1.CredentialStatus
		wantKnown bool
	}{
		"written":                      {user: "kim", want: ready, wantKnown: true},
		"written for another":          {user: "lee", want: iamv1alpha1.CredentialStatus{Connection: "warehouse"}},
		"no such User":                 {user: "max", want: iamv1alpha1.CredentialStatus{Connection: "warehouse"}},
		"asked again, from the lookup": {user: "kim", want: ready, wantKnown: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, known := l.CredentialOf(warehouse, tc.user)
			if diff := cmp.Diff(tc.want, got); diff != "" || known != tc.wantKnown {
				t.Errorf("CredentialOf(warehouse, %s) = known %v, want %v; status (-want +got):\n%s", tc.user, known, tc.wantKnown, diff)
			}
		})
	}
	if got := l.Source(); got != "cluster" {
		t.Errorf("Source() = %q, want cluster", got)
	}
	if got := (&Loaded{}).Source(); got != "manifests" {
		t.Errorf("Source() of manifests = %q", got)
	}
}
