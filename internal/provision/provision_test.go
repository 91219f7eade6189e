package provision

import (
	"encoding/json"
	"testing"

	"k8s.io/utils/ptr"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// Apply holds exactly the fields given: an empty one is left out (and so
// given up by the source's field manager), never applied as "".
func TestApply(t *testing.T) {
	tests := map[string]struct {
		reason string
		user   User
		want   string
	}{
		"Minimal": {
			reason: "without a directory there is no label and no spec.directory; no UID for a create",
			user:   User{Namespace: "acme", Name: "erin", Login: "erin", Source: iamv1alpha1.UserSourceLocal},
			want:   `{"kind":"User","apiVersion":"iam.gatehouse.dev/v1alpha1","metadata":{"name":"erin","namespace":"acme"},"spec":{"login":"erin","source":"Local"}}`,
		},
		"Full": {
			reason: "every field given, active false to deactivate, the UID as a precondition",
			user: User{Namespace: "acme", Name: "alice", UID: "u1", Source: iamv1alpha1.UserSourceLDAP, Directory: "corp",
				Login: "alice", DisplayName: "Alice", Email: "alice@example.com", DirectoryGroups: []string{"a", "b"},
				Profile: "Engineer", Active: ptr.To(false)},
			want: `{"kind":"User","apiVersion":"iam.gatehouse.dev/v1alpha1","metadata":{"name":"alice","namespace":"acme","uid":"u1","labels":{"iam.gatehouse.dev/directory":"corp"}},` +
				`"spec":{"login":"alice","displayName":"Alice","email":"alice@example.com","profile":"Engineer","directoryGroups":["a","b"],"active":false,"source":"LDAP","directory":"corp"}}`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := json.Marshal(Apply(tc.user))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("%s\nApply() = %s\nwant      %s", tc.reason, got, tc.want)
			}
		})
	}
}
