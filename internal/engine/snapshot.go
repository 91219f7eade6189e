package engine

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// ReadSnapshot lists the Gatehouse objects of namespace ns from c as a
// Snapshot judged at now, with the License in force: what the CLI reads of
// a live cluster, and what the tests compare statuses with.
func ReadSnapshot(ctx context.Context, c client.Reader, ns string, now time.Time) (access.Snapshot, error) {
	var (
		ls iamv1alpha1.LicenseList
		us iamv1alpha1.UserList
		gs iamv1alpha1.GroupList
		cs iamv1alpha1.ConnectionList
		ss iamv1alpha1.ShareList
		rs iamv1alpha1.ResourceGrantList
	)
	for _, list := range []client.ObjectList{&ls, &us, &gs, &cs, &ss, &rs} {
		if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
			return access.Snapshot{}, fmt.Errorf("cannot read namespace %s (are the Gatehouse CRDs installed, and may you list them?): %w", ns, err)
		}
	}
	return access.Snapshot{Now: now, License: access.LicenseInForce(ls.Items), Users: us.Items, Groups: gs.Items,
		Connections: cs.Items, Shares: ss.Items, ResourceGrants: rs.Items}, nil
}
