package access

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

func TestLookups(t *testing.T) {
	ann, bob, eve := user("ann", "full", "analysts"), user("bob", "full"), user("eve", "full")
	bob.Spec.KubernetesUsername = "ann" // claims ann's identity: a conflict
	eve.Spec.Login = "ann"              // holds ann's login: a conflict
	ix := NewIndex(Snapshot{Now: genEpoch, License: license(),
		Users:          []iamv1alpha1.User{ann, bob, eve},
		Groups:         []iamv1alpha1.Group{group("analysts")},
		Shares:         []iamv1alpha1.Share{share("s1", "dataset/sales", to("Group", "analysts", "Reader")), share("s0", "dataset/hr", to("Group", "analysts", "Reader"), to("User", "ann", "Owner"))},
		ResourceGrants: []iamv1alpha1.ResourceGrant{grant("g1", "project/churn", []iamv1alpha1.Subject{{Kind: "Group", Name: "analysts"}}, "read")},
	})
	tests := map[string]struct {
		got, want any
	}{
		"login held twice":         {ix.UsersWithLogin("ann"), []string{"ann", "eve"}},
		"login held by nobody":     {ix.UsersWithLogin("zed"), []string(nil)},
		"identity claimed thrice":  {ix.UsersClaiming("ann"), []string{"ann", "bob", "eve"}}, // eve by its login
		"identity of its login":    {ix.UsersClaiming("eve"), []string(nil)},
		"kubernetesUsername set":   {ix.SetsKubernetesUsername("bob"), true},
		"kubernetesUsername unset": {ix.SetsKubernetesUsername("ann"), false},
	}
	shares, grants := ix.GroupNamers("analysts")
	tests["Shares naming a group"] = struct{ got, want any }{shares, []string{"s0", "s1"}}
	tests["ResourceGrants naming a group"] = struct{ got, want any }{grants, []string{"g1"}}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestSeatsLost: the users a License change takes seats from are the last
// in seat order (creation, then name), inactive users hold none, and a
// removed profile loses every seat.
func TestSeatsLost(t *testing.T) {
	var users []iamv1alpha1.User
	for i, n := range []string{"a", "b", "c", "d"} {
		u := user(n, "full")
		u.CreationTimestamp = metav1.NewTime(genEpoch.Add(time.Duration(i) * time.Second))
		users = append(users, u)
	}
	off := user("off", "full")
	off.Spec.Active = new(bool)
	users = append(users, off, user("r", "reader"))
	before := license()
	before.Spec.Profiles[0].Seats = 3
	ix := NewIndex(Snapshot{Now: genEpoch, License: before, Users: users})
	tests := map[string]struct {
		change func(l *iamv1alpha1.License)
		want   []SeatLoss
	}{
		"a profile shrinks": {func(l *iamv1alpha1.License) { l.Spec.Profiles[0].Seats = 1 },
			[]SeatLoss{{Profile: "full", Seats: 1, Active: 4, Losing: []string{"b", "c"}}}},
		"a profile grows":        {func(l *iamv1alpha1.License) { l.Spec.Profiles[0].Seats = 5 }, nil},
		"a profile shrinks idle": {func(l *iamv1alpha1.License) { l.Spec.Profiles[2].Seats = 0 }, nil},
		"a profile goes": {func(l *iamv1alpha1.License) { l.Spec.Profiles = l.Spec.Profiles[1:] },
			[]SeatLoss{{Profile: "full", Removed: true, Active: 4, Losing: []string{"a", "b", "c"}}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			after := before.DeepCopy()
			tc.change(after)
			if diff := cmp.Diff(tc.want, ix.SeatsLost(before, after)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
