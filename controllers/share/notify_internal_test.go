package share

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

func grantee(kind iamv1alpha1.GranteeKind, name string, role iamv1alpha1.Role) iamv1alpha1.Grantee {
	return iamv1alpha1.Grantee{Kind: kind, Name: name, Role: role}
}

func TestNewGrantees(t *testing.T) {
	existing := func(names ...string) func(string) bool {
		return func(n string) bool { return slices.Contains(names, n) }
	}
	spec := iamv1alpha1.ShareSpec{Resource: iamv1alpha1.ResourceRef{Type: "environment", Name: "py"},
		Grantees: []iamv1alpha1.Grantee{
			grantee("User", "ann", "Owner"), grantee("User", "bob", "Consumer"), grantee("Group", "data", "Consumer"),
			grantee("Organization", "acme", "Consumer"), grantee("User", "zoe", "Consumer"),
			grantee("User", "eve", "Editor"), // environments have no Editor: she gets nothing
		}}
	tests := map[string]struct {
		told       []string
		known      bool
		exists     func(string) bool
		wantNotify []string
		wantRecord []string
	}{
		"a new Share tells every User grantee whose User exists": {nil, true, existing("ann", "bob", "eve", "data"),
			[]string{"ann", "bob"}, []string{"ann", "bob"}},
		"those told are not told again": {[]string{"ann"}, true, existing("ann", "bob"),
			[]string{"bob"}, []string{"ann", "bob"}},
		"a grantee removed leaves the record": {[]string{"ann", "bob", "gone"}, true, existing("ann", "bob"),
			nil, []string{"ann", "bob"}},
		"a User that appears is told": {[]string{"ann", "bob"}, true, existing("ann", "bob", "zoe"),
			[]string{"zoe"}, []string{"ann", "bob", "zoe"}},
		"a told User deleted stays told": {[]string{"ann", "bob"}, true, existing("bob"),
			nil, []string{"ann", "bob"}},
		"unknown record: existing grantees taken as told": {nil, false, existing("ann", "bob"),
			nil, []string{"ann", "bob"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			notify, record := newGrantees(&spec, tc.told, tc.known, tc.exists)
			var got []string
			for _, g := range notify {
				got = append(got, g.Name)
			}
			if diff := cmp.Diff(tc.wantNotify, got); diff != "" {
				t.Errorf("notified (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantRecord, record); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMemory(t *testing.T) {
	sh := func(uid string, observed, notified int64, users ...string) *iamv1alpha1.Share {
		return &iamv1alpha1.Share{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s", UID: types.UID("uid-" + uid)},
			Status: iamv1alpha1.ShareStatus{ObservedGeneration: observed, NotifiedGeneration: notified, NotifiedUsers: users}}
	}
	tests := map[string]struct {
		wrote    *iamv1alpha1.Share // what the reconciler last wrote, if anything
		read     *iamv1alpha1.Share
		repaired []string
		want     []string
		known    bool
	}{
		"a new Share: nobody told":                    {nil, sh("a", 0, 0), nil, nil, true},
		"the record read":                             {nil, sh("a", 3, 3, "bob"), nil, []string{"bob"}, true},
		"an operator without notifications was last":  {nil, sh("a", 3, 0), nil, nil, false},
		"a stale cache: the last write counts":        {sh("a", 4, 4, "ann", "bob"), sh("a", 3, 3, "bob"), nil, []string{"ann", "bob"}, true},
		"a forged record is no history":               {nil, sh("a", 3, 3, "bob", "eve"), []string{"notifiedUsers"}, nil, false},
		"a forged record: the last write counts":      {sh("a", 3, 3, "bob"), sh("a", 3, 3, "bob", "eve"), []string{"notifiedUsers"}, []string{"bob"}, true},
		"another repaired field leaves the record":    {nil, sh("a", 3, 3, "bob"), []string{"users"}, []string{"bob"}, true},
		"a Share recreated under the name is another": {sh("a", 4, 4, "ann"), sh("b", 1, 1, "bob"), nil, []string{"bob"}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var m memory
			if tc.wrote != nil {
				m.wrote(tc.wrote, tc.wrote.Status.NotifiedGeneration, tc.wrote.Status.NotifiedUsers)
			}
			got, known := m.told(tc.read, tc.repaired)
			if known != tc.known || !slices.Equal(got, tc.want) {
				t.Errorf("told = %v, %v; want %v, %v", got, known, tc.want, tc.known)
			}
		})
	}
	// The memory is forgotten once the cache shows the write.
	var m memory
	w := sh("a", 4, 4, "ann")
	m.wrote(w, 4, w.Status.NotifiedUsers)
	m.told(w, nil)
	if len(m.m) != 0 {
		t.Errorf("memory kept after the cache caught up: %v", m.m)
	}
}

func TestSharedMessage(t *testing.T) {
	s := &iamv1alpha1.Share{ObjectMeta: metav1.ObjectMeta{Name: "sales"},
		Spec: iamv1alpha1.ShareSpec{Resource: iamv1alpha1.ResourceRef{Type: "dataset", Name: "sales"}}}
	bob := grantee("User", "bob", "Editor")
	if got, want := sharedMessage(s, bob), "Share sales gives you Editor on dataset/sales."; got != want {
		t.Errorf("without a note: %q, want %q", got, want)
	}
	s.Spec.Note = "line one\nline two \u202eevil"
	if got, want := sharedMessage(s, bob), `Share sales gives you Editor on dataset/sales: "line one\nline two \u202eevil"`; got != want {
		t.Errorf("with a note: %q, want %q", got, want)
	}
	// 500 characters of three bytes each, and the longest names: the note
	// is shortened to keep the Event under the API server's 1 kB, on a
	// character boundary, and says so.
	s.Name, s.Spec.Resource.Name = strings.Repeat("n", 253), strings.Repeat("r", 253)
	s.Spec.Note = strings.Repeat("€", 500)
	got := sharedMessage(s, bob)
	if len(got) > noteLimit || !utf8.ValidString(got) || !strings.HasSuffix(got, `€…"`) {
		t.Errorf("long note: %d bytes, valid UTF-8 %v, ends %q", len(got), utf8.ValidString(got), got[len(got)-10:])
	}
}
