package access

import (
	"strings"
	"testing"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// TestWhyNotAUser: the denial of a requester that maps to no User names
// the kubernetesUsername that overrides its login, or the Users that claim
// its identity together, or says no User has it.
func TestWhyNotAUser(t *testing.T) {
	alice := user("alice", "full")
	alice.Spec.KubernetesUsername = "oidc:alice@corp"
	thief := user("mallory", "full")
	thief.Spec.KubernetesUsername = "bob"
	ix := NewIndex(Snapshot{Users: []iamv1alpha1.User{alice, user("bob", "full"), thief}})
	for username, want := range map[string][]string{
		"alice":  {`User alice has login "alice", but its kubernetesUsername "oidc:alice@corp" overrides the login`, "authenticate"},
		"bob":    {`Users bob and mallory claim the identity "bob" together`, "IdentityConflict", "its own kubernetesUsername"},
		"nobody": {`no User has kubernetesUsername or login "nobody"`, "ask an administrator"},
	} {
		got := ix.WhyNotAUser(username)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("WhyNotAUser(%q) = %q, want it to contain %q", username, got, w)
			}
		}
	}
}
