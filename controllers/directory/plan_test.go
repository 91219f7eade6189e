package directory

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/ldap"
)

func TestUserName(t *testing.T) {
	tests := map[string]struct {
		login string
		want  string // "" means hashed with wantPrefix
		pref  string
	}{
		"plain":                {login: "fry", want: "fry"},
		"dots and dashes":      {login: "john.smith-2", want: "john.smith-2"},
		"upper case":           {login: "Fry", pref: "fry-h"},
		"mail":                 {login: "john.smith@example.org", pref: "john-smith-example-org-h"},
		"injection":            {login: "*)(uid=*", pref: "uid-h"},
		"only symbols":         {login: "***", pref: "user-h"},
		"looks hashed":         {login: "fry-h0123456789", pref: "fry-h0123456789-h"},
		"too long":             {login: strings.Repeat("a", 254), pref: strings.Repeat("a", 40) + "-h"},
		"active directory":     {login: `CORP\jdoe`, pref: "corp-jdoe-h"},
		"leading dash invalid": {login: "-x", pref: "x-h"},
	}
	seen := map[string]string{}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := UserName(tc.login)
			if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 {
				t.Fatalf("UserName(%q) = %q, not a valid name: %v", tc.login, got, errs)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("UserName(%q) = %q, want %q", tc.login, got, tc.want)
			}
			if tc.pref != "" && (!strings.HasPrefix(got, tc.pref) || len(got) != len(tc.pref)+10) {
				t.Errorf("UserName(%q) = %q, want %q and 10 hex digits", tc.login, got, tc.pref)
			}
			if UserName(tc.login) != got {
				t.Errorf("UserName(%q) is not stable", tc.login)
			}
		})
		seen[UserName(tc.login)] = tc.login
	}
	if len(seen) != len(tests) {
		t.Errorf("two logins share a name: %v", seen)
	}
	if UserName("Fry") == UserName("FRY") {
		t.Errorf("Fry and FRY share a name")
	}
}

func TestProfileChooser(t *testing.T) {
	spec := &iamv1alpha1.DirectorySpec{
		ProfileMappings: []iamv1alpha1.ProfileMapping{
			{Group: "staff", Profile: "reader"},
			{Group: "CN=Admins,OU=Groups,DC=Example,DC=Org", Profile: "admin"},
			{Group: "devs", Profile: "designer"},
			{Group: "odd", Profile: "not-licensed"},
		},
		DefaultProfile: "guest",
	}
	license := &iamv1alpha1.License{Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{{Name: "admin"}, {Name: "designer"}, {Name: "reader"}}}}
	g := func(name string) ldap.GroupRef {
		return ldap.GroupRef{Name: name, DN: "cn=" + name + ",ou=groups,dc=example,dc=org"}
	}
	tests := map[string]struct {
		groups []ldap.GroupRef
		want   string
	}{
		"no group: default":                     {want: "guest"},
		"one mapping":                           {groups: []ldap.GroupRef{g("staff")}, want: "reader"},
		"License order wins over mapping order": {groups: []ldap.GroupRef{g("staff"), g("devs")}, want: "designer"},
		"DN compared normalised":                {groups: []ldap.GroupRef{g("staff"), g("admins")}, want: "admin"},
		"name compared case-insensitively":      {groups: []ldap.GroupRef{g("DEVS")}, want: "designer"},
		"unlicensed profile after licensed":     {groups: []ldap.GroupRef{g("odd"), g("staff")}, want: "reader"},
		"unlicensed profile alone still given":  {groups: []ldap.GroupRef{g("odd")}, want: "not-licensed"},
		"unmapped group: default":               {groups: []ldap.GroupRef{g("other")}, want: "guest"},
	}
	c := newProfileChooser(spec, license)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := c.choose(tc.groups); got != tc.want {
				t.Errorf("choose = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOwnershipOf(t *testing.T) {
	entry := func(manager string, op metav1.ManagedFieldsOperationType, sub, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, Subresource: sub, FieldsV1: metav1.NewFieldsV1(fields)}
	}
	dir := func(fields string) metav1.ManagedFieldsEntry {
		return entry(iamv1alpha1.FieldManagerDirectory, metav1.ManagedFieldsOperationApply, "", fields)
	}
	tests := map[string]struct {
		entries []metav1.ManagedFieldsEntry
		want    ownership
	}{
		"directory owns profile":  {entries: []metav1.ManagedFieldsEntry{dir(`{"f:spec":{"f:profile":{}}}`)}, want: ownership{OwnsProfile: true}},
		"directory owns active":   {entries: []metav1.ManagedFieldsEntry{dir(`{"f:spec":{"f:active":{}}}`)}, want: ownership{OwnsActive: true}},
		"admin override":          {entries: []metav1.ManagedFieldsEntry{dir(`{"f:spec":{"f:login":{}}}`), entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, "", `{"f:spec":{"f:profile":{}}}`)}, want: ownership{ProfileOverridden: true}},
		"shared is not override":  {entries: []metav1.ManagedFieldsEntry{dir(`{"f:spec":{"f:profile":{}}}`), entry("kubectl", metav1.ManagedFieldsOperationApply, "", `{"f:spec":{"f:profile":{}}}`)}, want: ownership{OwnsProfile: true}},
		"status entries ignored":  {entries: []metav1.ManagedFieldsEntry{entry("gatehouse-user", metav1.ManagedFieldsOperationApply, "status", `{"f:spec":{"f:profile":{}}}`)}, want: ownership{}},
		"admin's active: true":    {entries: []metav1.ManagedFieldsEntry{dir(`{"f:spec":{"f:login":{}}}`), entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, "", `{"f:spec":{"f:active":{}}}`)}, want: ownership{ActiveManager: "kubectl-edit"}},
		"directory update is not": {entries: []metav1.ManagedFieldsEntry{entry(iamv1alpha1.FieldManagerDirectory, metav1.ManagedFieldsOperationUpdate, "", `{"f:spec":{"f:active":{}}}`)}, want: ownership{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ownershipOf(tc.entries); got != tc.want {
				t.Errorf("ownershipOf = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// planUser is a User of the directory "d" as a sync wrote it.
func planUser(name string, mutate ...func(*iamv1alpha1.User)) iamv1alpha1.User {
	u := iamv1alpha1.User{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{iamv1alpha1.LabelDirectory: "d"}},
		Spec: iamv1alpha1.UserSpec{Login: name, DisplayName: strings.ToUpper(name), Profile: "reader", Source: iamv1alpha1.UserSourceLDAP,
			Directory: "d", Active: ptr.To(true)},
	}
	for _, m := range mutate {
		m(&u)
	}
	return u
}

func planEntry(login string) entry {
	return entry{Login: login, DisplayName: strings.ToUpper(login), Profile: "reader"}
}

func TestMakePlan(t *testing.T) {
	inactive := func(u *iamv1alpha1.User) { u.Spec.Active = ptr.To(false) }
	local := func(u *iamv1alpha1.User) {
		u.Spec.Source, u.Spec.Directory, u.Labels = iamv1alpha1.UserSourceLocal, "", nil
	}
	unsynced := func(u *iamv1alpha1.User) { u.Labels = nil; u.Spec.DisplayName = "" }
	type want struct {
		Creates, Updates, Deactivates, Deletes []string
		Conflicts, Unknown                     int
		Active, Removals                       int
	}
	tests := map[string]struct {
		mode     iamv1alpha1.Provisioning
		removal  iamv1alpha1.RemovalPolicy
		entries  []entry
		notFound map[string]string
		users    []iamv1alpha1.User
		own      ownership
		want     want
	}{
		"in step: nothing": {
			entries: []entry{planEntry("a"), planEntry("b")}, users: []iamv1alpha1.User{planUser("a"), planUser("b")},
			want: want{Active: 2},
		},
		"new entry created, changed name updated": {
			entries: []entry{planEntry("a"), {Login: "b", DisplayName: "Bee", Profile: "reader"}, planEntry("c")},
			users:   []iamv1alpha1.User{planUser("a"), planUser("b")},
			want:    want{Creates: []string{"c"}, Updates: []string{"b"}, Active: 2},
		},
		"left: deactivated": {
			entries: []entry{planEntry("a")}, users: []iamv1alpha1.User{planUser("a"), planUser("b")},
			want: want{Deactivates: []string{"b"}, Active: 2, Removals: 1},
		},
		"left and already inactive: nothing": {
			entries: []entry{planEntry("a")}, users: []iamv1alpha1.User{planUser("a"), planUser("b", inactive)},
			want: want{Active: 1},
		},
		"left, Delete": {
			removal: iamv1alpha1.RemovalDelete, entries: []entry{planEntry("a")}, users: []iamv1alpha1.User{planUser("a"), planUser("b")},
			want: want{Deletes: []string{"b"}, Active: 2, Removals: 1},
		},
		"left, Keep": {
			removal: iamv1alpha1.RemovalKeep, entries: []entry{planEntry("a")}, users: []iamv1alpha1.User{planUser("a"), planUser("b")},
			want: want{Active: 2},
		},
		"back, deactivated by the directory: reactivated": {
			entries: []entry{planEntry("a")}, users: []iamv1alpha1.User{planUser("a", inactive)}, own: ownership{OwnsActive: true},
			want: want{Updates: []string{"a"}},
		},
		"back, deactivated by an administrator: left": {
			entries: []entry{planEntry("a")}, users: []iamv1alpha1.User{planUser("a", inactive)},
		},
		"profile overridden: left": {
			entries: []entry{{Login: "a", DisplayName: "A", Profile: "designer"}}, users: []iamv1alpha1.User{planUser("a")},
			own: ownership{ProfileOverridden: true}, want: want{Active: 1},
		},
		"profile owned: updated": {
			entries: []entry{{Login: "a", DisplayName: "A", Profile: "designer"}}, users: []iamv1alpha1.User{planUser("a")},
			own: ownership{OwnsProfile: true}, want: want{Updates: []string{"a"}, Active: 1},
		},
		"hand-made user with the login: conflict": {
			entries: []entry{planEntry("a")}, users: []iamv1alpha1.User{planUser("a", local)},
			want: want{Conflicts: 1},
		},
		"name taken by another login: conflict": {
			entries: []entry{planEntry("a")}, users: []iamv1alpha1.User{planUser("a", local, func(u *iamv1alpha1.User) { u.Spec.Login = "zed" })},
			want: want{Conflicts: 1},
		},
		"pre-created LDAP user filled in": {
			entries: []entry{planEntry("a")}, users: []iamv1alpha1.User{planUser("x", unsynced, func(u *iamv1alpha1.User) { u.Spec.Login = "A" })},
			want: want{Updates: []string{"x"}},
		},
		"pre-created LDAP user unknown: reported, not removed": {
			entries: []entry{planEntry("a")}, users: []iamv1alpha1.User{planUser("a"), planUser("ghost", unsynced)},
			want: want{Unknown: 1, Active: 1},
		},
		"OnDemand: not found but synced before: removed": {
			mode: iamv1alpha1.ProvisioningOnDemand, entries: []entry{planEntry("a")}, notFound: map[string]string{"b": notFound},
			users: []iamv1alpha1.User{planUser("a"), planUser("b")}, want: want{Deactivates: []string{"b"}, Active: 2, Removals: 1},
		},
		"OnDemand: ambiguous: reported, not removed": {
			mode: iamv1alpha1.ProvisioningOnDemand, entries: []entry{planEntry("a")}, notFound: map[string]string{"b": "two entries"},
			users: []iamv1alpha1.User{planUser("a"), planUser("b")}, want: want{Unknown: 1, Active: 1},
		},
		"OnDemand: entries without a User are not created": {
			mode: iamv1alpha1.ProvisioningOnDemand, entries: []entry{planEntry("a"), planEntry("b")},
			users: []iamv1alpha1.User{planUser("a")}, want: want{Active: 1},
		},
		"another directory's users are not touched": {
			entries: []entry{planEntry("a")}, users: []iamv1alpha1.User{planUser("a"), planUser("o", func(u *iamv1alpha1.User) { u.Spec.Directory = "other" })},
			want: want{Active: 1},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := &iamv1alpha1.Directory{ObjectMeta: metav1.ObjectMeta{Name: "d"}, Spec: iamv1alpha1.DirectorySpec{
				Provisioning: tc.mode, OnRemoval: tc.removal}}
			if dir.Spec.Provisioning == "" {
				dir.Spec.Provisioning = iamv1alpha1.ProvisioningAll
			}
			in := planInput{Directory: dir, Entries: map[string]entry{}, NotFound: tc.notFound, Users: tc.users,
				Ownership: func(context.Context, *iamv1alpha1.User) (ownership, error) { return tc.own, nil }}
			for _, e := range tc.entries {
				in.Entries[strings.ToLower(e.Login)] = e
			}
			p, err := makePlan(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			names := func(ops []op) []string {
				var out []string
				for _, o := range ops {
					out = append(out, o.Name)
				}
				return out
			}
			got := want{Creates: names(p.Creates), Updates: names(p.Updates), Deactivates: names(p.Deactivates), Deletes: names(p.Deletes),
				Conflicts: len(p.Conflicts), Unknown: len(p.Unknown), Active: p.Active, Removals: p.Removals}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckBound(t *testing.T) {
	tests := map[string]struct {
		pct                     *int32
		found, active, removals int
		want                    string
	}{
		"nothing removed":               {found: 10, active: 10, want: ""},
		"20% of 10 with the default":    {found: 8, active: 10, removals: 2, want: ""},
		"30% of 10 with the default":    {found: 7, active: 10, removals: 3, want: iamv1alpha1.ReasonDeactivationLimit},
		"1 of 4 is 25%":                 {found: 3, active: 4, removals: 1, want: iamv1alpha1.ReasonDeactivationLimit},
		"0% never removes":              {pct: ptr.To[int32](0), found: 99, active: 100, removals: 1, want: iamv1alpha1.ReasonDeactivationLimit},
		"100% removes all but empty":    {pct: ptr.To[int32](100), found: 1, active: 5, removals: 4, want: ""},
		"empty directory stops":         {pct: ptr.To[int32](100), found: 0, active: 5, removals: 5, want: iamv1alpha1.ReasonEmptyDirectory},
		"empty directory, no users":     {found: 0, active: 0, want: ""},
		"first sync creates, removes 0": {found: 50, active: 0, want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := &iamv1alpha1.Directory{ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns"}, Spec: iamv1alpha1.DirectorySpec{MaxDeactivationPercent: tc.pct}}
			b := checkBound(dir, &plan{Found: tc.found, Active: tc.active, Removals: tc.removals})
			if b.Reason != tc.want {
				t.Errorf("reason %q, want %q (%s)", b.Reason, tc.want, b.Message)
			}
			if b.Reason != "" && !strings.Contains(b.Message, "kubectl annotate directory d -n ns "+iamv1alpha1.AnnotationAllowMassRemoval) {
				t.Errorf("message does not say how to proceed: %s", b.Message)
			}
		})
	}
}

func TestToEntryBounds(t *testing.T) {
	u := &ldap.User{Login: "a", DisplayName: strings.Repeat("é", 200), Email: "not an address"}
	for i := range 600 {
		u.Groups = append(u.Groups, ldap.GroupRef{DN: "cn=g" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + ",dc=x" + strings.Repeat("y", i), Name: "g" + strings.Repeat("z", i)})
	}
	e, why := toEntry(u, profileChooser{})
	if why != "" {
		t.Fatal(why)
	}
	if len(e.DisplayName) > maxDisplayName || !strings.HasPrefix(u.DisplayName, e.DisplayName) || e.Email != "" {
		t.Errorf("entry %q %q", e.DisplayName, e.Email)
	}
	if len(e.Groups) != maxDirectoryGroups || !e.Truncated {
		t.Errorf("%d groups, truncated %t", len(e.Groups), e.Truncated)
	}
	if _, why := toEntry(&ldap.User{Login: strings.Repeat("a", 257)}, profileChooser{}); why == "" {
		t.Errorf("a 257-byte login was accepted")
	}
}

// The safety bound is decided on a draft, from the cached Users alone: an
// empty directory or a mass removal stops with no ownership read; past the
// bound, resolve reads the candidates and (not in a dry run) the
// deactivations, and nothing else.
func TestDraftPlanReadsNothing(t *testing.T) {
	dir := &iamv1alpha1.Directory{ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns"}, Spec: iamv1alpha1.DirectorySpec{
		Provisioning: iamv1alpha1.ProvisioningAll}}
	var users []iamv1alpha1.User
	for i := range 1000 {
		users = append(users, planUser(fmt.Sprintf("u%04d", i)))
	}
	var reads atomic.Int64
	count := func(context.Context, *iamv1alpha1.User) (ownership, error) {
		reads.Add(1)
		return ownership{OwnsProfile: true}, nil
	}
	// Empty, then 300 of 1000 gone (more than 20 %).
	for name, keep := range map[string]int{"empty directory": 0, "mass removal": 700} {
		in := planInput{Directory: dir, Entries: map[string]entry{}, Users: users, Ownership: count}
		for i := range keep {
			in.Entries[fmt.Sprintf("u%04d", i)] = planEntry(fmt.Sprintf("u%04d", i))
		}
		p := draftPlan(in)
		if b := checkBound(dir, p); b.Reason == "" {
			t.Fatalf("%s: the bound let %d removals of %d through", name, p.Removals, p.Active)
		}
		if n := reads.Load(); n != 0 {
			t.Fatalf("%s: the draft read %d Users", name, n)
		}
	}
	// Past the bound: 2 changed Users and 3 gone.
	in := planInput{Directory: dir, Entries: map[string]entry{}, Users: users[:100], Ownership: count}
	for i := range 97 {
		in.Entries[fmt.Sprintf("u%04d", i)] = planEntry(fmt.Sprintf("u%04d", i))
	}
	in.Entries["u0000"] = entry{Login: "u0000", DisplayName: "Renamed", Profile: "reader"}
	in.Entries["u0001"] = entry{Login: "u0001", DisplayName: "Renamed", Profile: "reader"}
	p := draftPlan(in)
	if err := p.resolve(context.Background(), count, 4, false); err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n != 2 || len(p.Updates) != 2 || p.Deactivates[0].SetProfile {
		t.Errorf("a dry run's resolve read %d Users (want the 2 candidates), updates %d", n, len(p.Updates))
	}
	if err := p.resolve(context.Background(), count, 4, true); err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n != 5 || len(p.Updates) != 2 || len(p.Deactivates) != 3 || !p.Deactivates[0].SetProfile {
		t.Errorf("after resolving the deactivations: %d reads (want 5), %d updates, %d deactivations", n, len(p.Updates), len(p.Deactivates))
	}
}

// The counts of removals follow spec.onRemoval.
func TestRemovalWords(t *testing.T) {
	w := writes{deactivated: 2, deleted: 3}
	for policy, want := range map[iamv1alpha1.RemovalPolicy]string{
		"": "deactivated: 2", iamv1alpha1.RemovalDeactivate: "deactivated: 2",
		iamv1alpha1.RemovalDelete: "deleted: 3", iamv1alpha1.RemovalKeep: "none removed (spec.onRemoval: Keep)",
	} {
		if got := removalWords(&iamv1alpha1.DirectorySpec{OnRemoval: policy}, w); got != want {
			t.Errorf("onRemoval %q: %q, want %q", policy, got, want)
		}
	}
}
