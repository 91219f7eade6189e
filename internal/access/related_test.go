package access

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// relatedView is what the controllers other than the User controller read
// of an Index, by kind and name: a Group's report, a Share's and a
// ResourceGrant's report, and what a Connection's status and RBAC read
// (who may read its details, who may use it, the identities and activity
// of the users its per-user bindings name, which of its groups exist), and
// the License's profiles. checkRelated holds Affected to it: whatever
// differs after a change must be named by the change.
type relatedView struct {
	groups, shares, grants, conns map[string]string
	profiles                      string
}

func viewOf(ix *Index, w *world) relatedView {
	v := relatedView{groups: map[string]string{}, shares: map[string]string{}, grants: map[string]string{}, conns: map[string]string{}}
	for name := range w.objs[KindGroup] {
		v.groups[name] = fmt.Sprintf("%+v", ix.GroupReport(name))
	}
	for name := range w.objs[KindShare] {
		v.shares[name] = fmt.Sprintf("%+v", ix.ShareReport(name))
	}
	for name := range w.objs[KindResourceGrant] {
		v.grants[name] = fmt.Sprintf("%+v", ix.GrantReport(name))
	}
	users := sortedKeys(w.objs[KindUser])
	for name, obj := range w.objs[KindConnection] {
		c := obj.(*iamv1alpha1.Connection)
		var b strings.Builder
		fmt.Fprintf(&b, "details=%v", ix.DetailReaders(name))
		if c.Spec.Credentials.Mode == iamv1alpha1.CredentialModePerUser {
			// The per-user counts read who may use it.
			b.WriteString(" use=")
			for _, u := range users {
				if ix.MayUse(name, u) {
					fmt.Fprintf(&b, "%s,", u)
				}
			}
			b.WriteString(" peruser=")
			for _, u := range users {
				id, _ := ix.KubernetesIdentity(u)
				fmt.Fprintf(&b, "%s:%s:%v,", u, id, w.objs[KindUser][u].(*iamv1alpha1.User).Spec.IsActive())
			}
		}
		if d := c.Spec.DetailsReadableBy; d != nil {
			b.WriteString(" groups=")
			for _, g := range d.Groups {
				_, ok := w.objs[KindGroup][g]
				fmt.Fprintf(&b, "%s:%v,", g, ok)
			}
		}
		v.conns[name] = b.String()
	}
	v.profiles = fmt.Sprintf("%+v", ix.Profiles())
	return v
}

// checkRelated fails when an object whose view changed from before to
// after is not in aff.
func checkRelated(t *testing.T, step int, what string, before, after relatedView, aff Affected) {
	t.Helper()
	for _, k := range []struct {
		kind    Kind
		was, is map[string]string
		named   []string
	}{
		{KindGroup, before.groups, after.groups, aff.Groups},
		{KindShare, before.shares, after.shares, aff.Shares},
		{KindResourceGrant, before.grants, after.grants, aff.ResourceGrants},
		{KindConnection, before.conns, after.conns, aff.Connections},
	} {
		for name, is := range k.is {
			was, existed := k.was[name]
			if existed && was != is && !slices.Contains(k.named, name) {
				t.Fatalf("step %d (%s): %s %s changed but is not in Affected %v:\n%s", step, what, k.kind, name, k.named, cmp.Diff(was, is))
			}
		}
	}
	if before.profiles != after.profiles && !aff.Licenses {
		t.Fatalf("step %d (%s): the License's profiles changed but Affected.Licenses is false:\n%s", step, what, cmp.Diff(before.profiles, after.profiles))
	}
}
