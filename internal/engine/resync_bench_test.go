package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// listCache is a cache that lists prepared objects as the manager's cache
// does with UnsafeDisableDeepCopy (a shallow copy of each into the list):
// the cost of the resync itself, not of a fake client.
type listCache struct {
	Cache
	objs map[string][]runtime.Object // list type -> items
}

func (c *listCache) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	return meta.SetList(list, c.objs[fmt.Sprintf("%T", list)])
}

// BenchmarkResyncNothingToRepair is one period's resync of a namespace of
// the scale harness's size (10,000 Users, 1,000 Groups, 30,000 Shares,
// 20,000 ResourceGrants) whose Index is current: what the safety net costs.
func BenchmarkResyncNothingToRepair(b *testing.B) {
	c := &listCache{objs: map[string][]runtime.Object{}}
	e := newEngine(c, logr.Discard(), Options{})
	e.store.ready.Store(true)
	add := func(list client.ObjectList, kind access.Kind, o client.Object) {
		o.SetNamespace(ns)
		o.SetUID(types.UID(o.GetName()))
		o.SetGeneration(1)
		o.SetResourceVersion("1")
		k := fmt.Sprintf("%T", list)
		c.objs[k] = append(c.objs[k], o)
		e.store.namespace(ns).setApplied(kind, o)
	}
	for i := range 10000 {
		add(&iamv1alpha1.UserList{}, access.KindUser, user(fmt.Sprintf("u%d", i), "full"))
	}
	for i := range 1000 {
		add(&iamv1alpha1.GroupList{}, access.KindGroup, group(fmt.Sprintf("g%d", i)))
	}
	for i := range 30000 {
		add(&iamv1alpha1.ShareList{}, access.KindShare, share(fmt.Sprintf("s%d", i), to("Group", "g1")))
	}
	for i := range 20000 {
		add(&iamv1alpha1.ResourceGrantList{}, access.KindResourceGrant, grant(fmt.Sprintf("r%d", i), iamv1alpha1.Subject{Kind: "Group", Name: "g1"}))
	}
	b.ReportAllocs()
	for b.Loop() {
		e.resyncNamespaces(context.Background(), "", nil)
	}
	if len(e.retries.byNS) != 0 {
		b.Fatal("the resync failed")
	}
}
