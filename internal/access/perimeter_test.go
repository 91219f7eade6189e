package access

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// TestSelfEditable: the person a User stands for may change its display
// name and e-mail, and nothing else a reader or the operator believes:
// not its groups, profile, activity, source or identity, nor its metadata
// (kubectl's record of the last apply and what the API server keeps
// aside).
func TestSelfEditable(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(*iamv1alpha1.User)
		want bool
	}{
		"nothing":      {func(*iamv1alpha1.User) {}, true},
		"display name": {func(u *iamv1alpha1.User) { u.Spec.DisplayName = "Bob B." }, true},
		"e-mail":       {func(u *iamv1alpha1.User) { u.Spec.Email = "bob@home.example" }, true},
		"kubectl's last apply": {func(u *iamv1alpha1.User) {
			u.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"}
		}, true},
		"server-kept metadata":  {func(u *iamv1alpha1.User) { u.ResourceVersion, u.Generation = "42", 7 }, true},
		"status":                {func(u *iamv1alpha1.User) { u.Status.GlobalPermissions = []iamv1alpha1.GlobalPermission{"admin"} }, true},
		"groups":                {func(u *iamv1alpha1.User) { u.Spec.Groups = append(u.Spec.Groups, "admins") }, false},
		"profile":               {func(u *iamv1alpha1.User) { u.Spec.Profile = "full" }, false},
		"activity":              {func(u *iamv1alpha1.User) { u.Spec.Active = ptr.To(false) }, false},
		"source":                {func(u *iamv1alpha1.User) { u.Spec.Source = iamv1alpha1.UserSourceLDAP }, false},
		"kubernetes identity":   {func(u *iamv1alpha1.User) { u.Spec.KubernetesUsername = "alice" }, false},
		"another annotation":    {func(u *iamv1alpha1.User) { u.Annotations = map[string]string{"example.com/x": "y"} }, false},
		"a label":               {func(u *iamv1alpha1.User) { u.Labels = map[string]string{"example.com/x": "y"} }, false},
		"a finalizer":           {func(u *iamv1alpha1.User) { u.Finalizers = []string{"example.com/hold"} }, false},
		"an owner reference":    {func(u *iamv1alpha1.User) { u.OwnerReferences = []metav1.OwnerReference{{Name: "x"}} }, false},
		"e-mail and the groups": {func(u *iamv1alpha1.User) { u.Spec.Email, u.Spec.Groups = "b@x", nil }, false},
	} {
		t.Run(name, func(t *testing.T) {
			before := user("bob", "small", "data")
			after := before.DeepCopy()
			tc.edit(after)
			if got := SelfEditable(&before, after); got != tc.want {
				t.Errorf("SelfEditable = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestWhyNotPersonal: a personal connection is used and read by groups
// its creator belongs to, or by nobody; never by everyone nor by a group
// the creator is not in. usableBy is judged before detailsReadableBy.
func TestWhyNotPersonal(t *testing.T) {
	groups := func(g ...string) *iamv1alpha1.Audience {
		return &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceGroups, Groups: g}
	}
	all := &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceAll}
	none := &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceNone}
	for name, tc := range map[string]struct {
		usableBy, detailsReadableBy *iamv1alpha1.Audience
		want                        string
	}{
		"no audience":                {nil, nil, ""},
		"an empty mode":              {&iamv1alpha1.Audience{}, &iamv1alpha1.Audience{Groups: []string{"sales"}}, ""},
		"nobody":                     {none, none, ""},
		"nobody, groups left listed": {&iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceNone, Groups: []string{"sales"}}, none, ""},
		"one's own groups":           {groups("data"), groups("data", "ops"), ""},
		"everyone may use it":        {all, nil, "a personal connection may be used and read only by groups you belong to, and spec.usableBy is All; name your groups (data, ops) instead."},
		"everyone may read it":       {groups("ops"), all, "a personal connection may be used and read only by groups you belong to, and spec.detailsReadableBy is All; name your groups (data, ops) instead."},
		"another group uses it":      {groups("data", "sales"), nil, "a personal connection may be used and read only by groups you belong to, and spec.usableBy names Group sales, which bob is not in."},
		"another group reads it":     {none, groups("sales"), "a personal connection may be used and read only by groups you belong to, and spec.detailsReadableBy names Group sales, which bob is not in."},
		"usableBy is judged first":   {groups("hr"), all, "a personal connection may be used and read only by groups you belong to, and spec.usableBy names Group hr, which bob is not in."},
	} {
		t.Run(name, func(t *testing.T) {
			c := &iamv1alpha1.Connection{Spec: iamv1alpha1.ConnectionSpec{UsableBy: tc.usableBy, DetailsReadableBy: tc.detailsReadableBy}}
			if got := WhyNotPersonal(c, "bob", []string{"data", "ops"}); got != tc.want {
				t.Errorf("WhyNotPersonal =\n %q\nwant\n %q", got, tc.want)
			}
		})
	}
}
