package admission_test

import (
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// One License per namespace; a shrink is allowed with a warning naming who
// loses a seat.
func TestLicense(t *testing.T) {
	ns := world(t)
	hr := admin(t) // the License is the configured administrators' alone
	second := &iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "second", Namespace: ns},
		Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{{Name: "x", Seats: 1}}}}
	denied(t, hr.Create(bg(), second), "namespace "+ns+" already has License default, and a namespace has one License; edit License default instead")

	// designer: bob, alice, carl, dan are active.
	for {
		var l iamv1alpha1.License
		if err := env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: "default"}, &l); err != nil {
			t.Fatal(err)
		}
		l.Spec.Profiles[0].Seats = 2
		err := hr.Update(bg(), &l)
		if !apierrors.IsConflict(err) {
			allowed(t, err)
			break
		}
	}
	want := "profile designer shrinks to 2 seats for 4 active users: dan and carl will lose their seats (the newest first) and wait Pending"
	if !slices.ContainsFunc(*hr.warnings, func(w string) bool { return strings.Contains(w, want) }) {
		t.Errorf("warnings %q, want one saying %q", *hr.warnings, want)
	}
}
