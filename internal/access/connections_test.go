package access

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

func TestConnectionUsers(t *testing.T) {
	inactive := user("ivan", "full", "data")
	inactive.Spec.Active = ptr.To(false)
	leaving := user("lea", "full", "data")
	leaving.DeletionTimestamp = ptr.To(metav1.NewTime(genEpoch))
	named := user("kim", "full", "data")
	named.Spec.KubernetesUsername = "kim@example.com"
	named.UID, named.Generation = "kim-uid", 3
	admin := user("root", "full", "admins")
	unseated := user("zoe", "reader", "data") // the reader profile has no seat left
	lic := license()
	lic.Spec.Profiles[1].Seats = 0
	users := []iamv1alpha1.User{user("alice", "full", "data"), user("bob", "full"), inactive, leaving, named, admin, unseated}
	groups := []iamv1alpha1.Group{group("data"), group("admins", iamv1alpha1.GlobalAdmin)}
	tests := map[string]struct {
		reason string
		conn   iamv1alpha1.Connection
		name   string
		also   []string
		want   []ConnectionUser
	}{
		"groups": {
			reason: "the active, seated members of its groups and the administrators may use it; the others appear only when named",
			conn:   conn("lake", iamv1alpha1.AudienceGroups, "data"),
			also:   []string{"bob", "ivan", "ghost"},
			want: []ConnectionUser{
				{Name: "alice", Identity: "alice", Active: true, MayUse: true},
				{Name: "bob", Identity: "bob", Active: true},
				{Name: "ivan", Identity: "ivan"},
				{Name: "kim", Identity: "kim@example.com", Active: true, MayUse: true, UID: "kim-uid", Generation: 3},
				{Name: "lea", Identity: "lea", Active: true, Deleting: true, MayUse: true},
				{Name: "root", Identity: "root", Active: true, MayUse: true},
			},
		},
		"all": {
			reason: "every active, seated User may use it; an unseated User appears only when named",
			conn:   conn("lake", iamv1alpha1.AudienceAll),
			also:   []string{"zoe"},
			want: []ConnectionUser{
				{Name: "alice", Identity: "alice", Active: true, MayUse: true},
				{Name: "bob", Identity: "bob", Active: true, MayUse: true},
				{Name: "kim", Identity: "kim@example.com", Active: true, MayUse: true, UID: "kim-uid", Generation: 3},
				{Name: "lea", Identity: "lea", Active: true, Deleting: true, MayUse: true},
				{Name: "root", Identity: "root", Active: true, MayUse: true},
				{Name: "zoe", Identity: "zoe", Active: true},
			},
		},
		"none": {
			reason: "only the administrators may use it",
			conn:   conn("lake", iamv1alpha1.AudienceNone),
			want:   []ConnectionUser{{Name: "root", Identity: "root", Active: true, MayUse: true}},
		},
		"unknown connection": {
			reason: "a Connection the Index does not hold has no users, named or not",
			conn:   conn("lake", iamv1alpha1.AudienceAll),
			name:   "sea",
			also:   []string{"alice"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ix := NewIndex(Snapshot{Now: genEpoch, License: lic, Users: users, Groups: groups, Connections: []iamv1alpha1.Connection{tc.conn}})
			asked := tc.name
			if asked == "" {
				asked = tc.conn.Name
			}
			if diff := cmp.Diff(tc.want, ix.ConnectionUsers(asked, tc.also)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestUnknownGroups(t *testing.T) {
	ix := NewIndex(Snapshot{Now: genEpoch, License: license(), Groups: []iamv1alpha1.Group{group("data"), group("ops")}})
	tests := map[string]struct {
		names []string
		want  []string
	}{
		"all known":          {names: []string{"data", "ops"}},
		"none":               {},
		"unknown, in order":  {names: []string{"zeta", "data", "alpha"}, want: []string{"zeta", "alpha"}},
		"repeated as given":  {names: []string{"ghost", "ops", "ghost"}, want: []string{"ghost", "ghost"}},
		"a user is no group": {names: []string{"alice"}, want: []string{"alice"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ix.UnknownGroups(tc.names)); diff != "" {
				t.Errorf("UnknownGroups(%q) (-want +got):\n%s", tc.names, diff)
			}
		})
	}
}

// TestConnectionUsersRandomWorlds holds ConnectionUsers equal to asking
// MayUse and KubernetesIdentity User by User, and UnknownGroups to the
// Snapshot's Groups, in random worlds.
func TestConnectionUsersRandomWorlds(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 2))
	for range 300 {
		data := make([]byte, 256)
		for i := range data {
			data[i] = byte(rng.UintN(256))
		}
		s := genSnapshot(&byteSource{b: data})
		ix := NewIndex(s)
		also := subset(&byteSource{b: data[128:]}, append(slices.Clone(genUsers), "ghost"))
		for _, c := range s.Connections {
			var want []ConnectionUser
			for _, u := range s.Users {
				may := ix.MayUse(c.Name, u.Name)
				if !may && !slices.Contains(also, u.Name) {
					continue
				}
				id, _ := ix.KubernetesIdentity(u.Name)
				want = append(want, ConnectionUser{Name: u.Name, Identity: id, Active: u.Spec.IsActive(), Deleting: u.DeletionTimestamp != nil, MayUse: may,
					UID: u.UID, Generation: u.Generation})
			}
			slices.SortFunc(want, func(a, b ConnectionUser) int { return strings.Compare(a.Name, b.Name) })
			if diff := cmp.Diff(want, ix.ConnectionUsers(c.Name, also)); diff != "" {
				t.Fatalf("ConnectionUsers(%s, %q) differs from MayUse (-want +got):\n%s", c.Name, also, diff)
			}
		}
		var wantUnknown []string
		for _, g := range genGroups {
			if !slices.ContainsFunc(s.Groups, func(have iamv1alpha1.Group) bool { return have.Name == g }) {
				wantUnknown = append(wantUnknown, g)
			}
		}
		if diff := cmp.Diff(wantUnknown, ix.UnknownGroups(genGroups)); diff != "" {
			t.Fatalf("UnknownGroups (-want +got):\n%s", diff)
		}
	}
}
