// Package input is the one way the commands of gatehouse read their input:
// one namespace read from manifests (files, directories, kustomizations,
// standard input, a git revision) or from a cluster, into an
// access.Snapshot, and the arguments that name a resource.
package input

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	sigsjson "sigs.k8s.io/json"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/config/crd"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/crdvalidate"
	"github.com/gatehouse-dev/gatehouse/internal/manifest"
	"github.com/gatehouse-dev/gatehouse/internal/outbound"
)

// Now is the clock the offline commands judge licence expiry by; tests set
// it.
var Now = time.Now

// Loaded is one namespace read from manifests or from a cluster.
type Loaded struct {
	Namespace string
	Snap      access.Snapshot
	// credentials are the per-user credential Secrets of the namespace
	// found in the manifests, by the connection and user they name (never
	// read from a cluster: there the Users' status.credentials say what the
	// operator found).
	credentials map[outbound.UserKey][]*corev1.Secret
	// users indexes snap.Users by name, made on first use.
	users map[string]*iamv1alpha1.User
	// FromCluster is set when the namespace was read from a cluster.
	FromCluster bool
	// asStored reads manifests as the API server reads stored objects
	// (see AsStored).
	asStored bool
	// warn is told what is left out (WarnWith).
	warn func(string)
}

// gatehouseKinds are the kinds of iam.gatehouse.dev the CLI reads.
var gatehouseKinds = []string{"Connection", "Directory", "Group", "License", "ResourceGrant", "Share", "User"}

// LoadDocuments reads the Gatehouse objects of one namespace from docs,
// decoding strictly and validating roles and permissions against the
// catalogue. Every error names the file and the object, and is a usage
// error (exit code 2).
func LoadDocuments(docs []manifest.Document, ns string, opts ...LoadOption) (_ *Loaded, err error) {
	type entry struct {
		doc manifest.Document
		ns  string
	}
	var ours []entry
	namespaces := map[string]bool{}
	for _, d := range docs {
		gvk := d.Object.GroupVersionKind()
		if gvk.Group != iamv1alpha1.GroupVersion.Group {
			continue // Secrets, Namespaces, Kustomizations and others are not ours
		}
		if gvk.Version != iamv1alpha1.GroupVersion.Version {
			return nil, cli.UsageError(fmt.Errorf("%s: unknown version %s of %s: gatehouse reads %s", d.Source(), gvk.Version, gvk.Group, iamv1alpha1.GroupVersion))
		}
		if i := sort.SearchStrings(gatehouseKinds, gvk.Kind); i == len(gatehouseKinds) || gatehouseKinds[i] != gvk.Kind {
			return nil, cli.UsageError(fmt.Errorf("%s: unknown kind %s in %s: valid are %s", d.Source(), gvk.Kind, iamv1alpha1.GroupVersion, strings.Join(gatehouseKinds, ", ")))
		}
		objNS := d.Object.GetNamespace()
		if objNS == "" {
			objNS = ns
		}
		if objNS == "" {
			objNS = "default"
		}
		namespaces[objNS] = true
		ours = append(ours, entry{d, objNS})
	}
	target := ns
	if target == "" {
		switch len(namespaces) {
		case 0:
			target = "default"
		case 1:
			for n := range namespaces {
				target = n
			}
		default:
			var list []string
			for n := range namespaces {
				list = append(list, n)
			}
			sort.Strings(list)
			return nil, cli.UsageError(fmt.Errorf("the manifests hold several namespaces (%s): choose one with -n", strings.Join(list, ", ")))
		}
	}

	l := &Loaded{Namespace: target, Snap: access.Snapshot{Now: Now()}}
	for _, o := range opts {
		o(l)
	}
	if l.credentials, err = perUserSecrets(docs, target); err != nil {
		return nil, cli.UsageError(err)
	}
	seen := map[string]string{}
	elsewhere := map[string]int{}
	for _, e := range ours {
		if e.ns != target {
			elsewhere[e.ns]++
			continue
		}
		d := e.doc
		key := d.Object.GetKind() + "/" + d.Object.GetName()
		if prev, dup := seen[key]; dup {
			return nil, cli.UsageError(fmt.Errorf("%s: %s is defined twice, also in %s", d.Source(), key, prev))
		}
		seen[key] = d.Source()
		if err := l.add(d); err != nil {
			return nil, cli.UsageError(fmt.Errorf("%s: %w", d.Source(), err))
		}
	}
	if len(elsewhere) > 0 && len(seen) == 0 {
		// Nothing of the namespace asked for: a check of it would pass on
		// nothing, and a table say "0 users", for a mistyped -n.
		return nil, cli.UsageError(fmt.Errorf("the manifests hold no Gatehouse object of namespace %s; %s", target, otherNamespaces(target, elsewhere)))
	}
	if len(elsewhere) > 0 && l.warn != nil {
		l.warn(otherNamespaces(target, elsewhere))
	}
	return l, nil
}

// otherNamespaces says which Gatehouse objects were left out, being of
// other namespaces than the one read.
func otherNamespaces(target string, counts map[string]int) string {
	names := make([]string, 0, len(counts))
	n := 0
	for ns, c := range counts {
		names = append(names, fmt.Sprintf("%s: %d", ns, c))
		n += c
	}
	sort.Strings(names)
	return fmt.Sprintf("%d Gatehouse objects of other namespaces than %s are not read (%s): give -n to read one of them", n, target, strings.Join(names, ", "))
}

// LoadOption changes how LoadDocuments reads objects.
type LoadOption func(*Loaded)

// WarnWith tells warn what is left out, e.g. the objects of other
// namespaces.
func WarnWith(warn func(string)) LoadOption { return func(l *Loaded) { l.warn = warn } }

// AsStored reads objects as the API server reads the ones it has stored:
// defaulted, not judged as a create. For check, whose objects may predate
// the rules (CEL rules ratchet: an update that leaves such a field alone is
// admitted).
func AsStored(l *Loaded) { l.asStored = true }

// crdValidator judges objects as the API server does with the Gatehouse
// CRDs installed; built on first use.
var crdValidator = sync.OnceValues(func() (*crdvalidate.Validator, error) {
	crds, err := crd.Load()
	if err != nil {
		return nil, err
	}
	return crdvalidate.New(crds), nil
})

// admit judges a Gatehouse object of namespace ns as the API server judges
// its creation, with the CRDs' defaults, OpenAPI schema and CEL rules, and
// returns it as the server would store it (defaulted). A refusal reads as
// the API server's (kubectl create, strict field validation). With stored,
// only unknown fields are refused.
func admit(d manifest.Document, ns string, stored bool) (*unstructured.Unstructured, error) {
	v, err := crdValidator()
	if err != nil {
		return nil, err
	}
	obj := d.Object.DeepCopy()
	obj.SetNamespace(ns)
	res, err := v.Create(obj)
	if err != nil {
		return nil, err
	}
	if stored {
		res.Errors = nil
	}
	if err := res.Err(); err != nil {
		return nil, err
	}
	return res.Object, nil
}

// decodeStrict decodes an object into a typed value; unknown or duplicate
// fields are errors.
func decodeStrict(obj *unstructured.Unstructured, into any) error {
	data, err := obj.MarshalJSON()
	if err != nil {
		return fmt.Errorf("cannot re-encode: %w", err)
	}
	strict, err := sigsjson.UnmarshalStrict(data, into)
	if err != nil {
		return fmt.Errorf("does not decode as %s: %w", obj.GetKind(), err)
	}
	if len(strict) > 0 {
		msgs := make([]string, len(strict))
		for i, e := range strict {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("does not decode as %s: %s", obj.GetKind(), strings.Join(msgs, "; "))
	}
	return nil
}

// add judges one object as the API server would (admit), decodes the
// defaulted object into the snapshot, and checks against the catalogue what
// the CRDs cannot express (which permissions and roles a resource type has)
// and, should the CRDs and the catalogue ever disagree, their enums.
func (l *Loaded) add(d manifest.Document) error {
	obj, err := admit(d, l.Namespace, l.asStored)
	if err != nil {
		return err
	}
	switch obj.GetKind() {
	case "License":
		var o iamv1alpha1.License
		if err := decodeStrict(obj, &o); err != nil {
			return err
		}
		if l.Snap.License != nil {
			return fmt.Errorf("a second License (%s): a namespace has one License", l.Snap.License.Name)
		}
		for _, p := range o.Spec.Profiles {
			if p.MaxRole != "" && !access.RoleAtLeast(p.MaxRole, iamv1alpha1.RoleConsumer) {
				return fmt.Errorf("profile %s: unknown maxRole %q: valid are Consumer, Editor, Owner", p.Name, p.MaxRole)
			}
			if _, err := access.ParseGlobal(p.GlobalPermissions); err != nil {
				return fmt.Errorf("profile %s: %w", p.Name, err)
			}
		}
		l.Snap.License = &o
	case "User":
		var o iamv1alpha1.User
		if err := decodeStrict(obj, &o); err != nil {
			return err
		}
		l.Snap.Users = append(l.Snap.Users, o)
	case "Group":
		var o iamv1alpha1.Group
		if err := decodeStrict(obj, &o); err != nil {
			return err
		}
		if _, err := access.ParseGlobal(o.Spec.GlobalPermissions); err != nil {
			return err
		}
		l.Snap.Groups = append(l.Snap.Groups, o)
	case "Connection":
		var o iamv1alpha1.Connection
		if err := decodeStrict(obj, &o); err != nil {
			return err
		}
		l.Snap.Connections = append(l.Snap.Connections, o)
	case "ResourceGrant":
		var o iamv1alpha1.ResourceGrant
		if err := decodeStrict(obj, &o); err != nil {
			return err
		}
		if _, err := access.ParsePermissions(o.Spec.Resource.Type, o.Spec.Permissions); err != nil {
			return err
		}
		l.Snap.ResourceGrants = append(l.Snap.ResourceGrants, o)
	case "Share":
		var o iamv1alpha1.Share
		if err := decodeStrict(obj, &o); err != nil {
			return err
		}
		for _, g := range o.Spec.Grantees {
			if err := access.ValidRole(o.Spec.Resource.Type, g.Role); err != nil {
				return fmt.Errorf("grantee %s %s: %w", g.Kind, g.Name, err)
			}
		}
		l.Snap.Shares = append(l.Snap.Shares, o)
	case "Directory":
		var o iamv1alpha1.Directory
		return decodeStrict(obj, &o) // checked, not needed to compute access
	}
	return nil
}

// ParseRef parses TYPE/NAME.
func ParseRef(s string) (iamv1alpha1.ResourceRef, error) {
	t, n, ok := strings.Cut(s, "/")
	if !ok || n == "" {
		return iamv1alpha1.ResourceRef{}, cli.UsageError(fmt.Errorf("%q is not TYPE/NAME, e.g. dataset/sales", s))
	}
	ref := iamv1alpha1.ResourceRef{Type: iamv1alpha1.ResourceType(t), Name: n}
	if !access.ValidType(ref.Type) {
		_, err := access.PermissionsOf(ref.Type)
		return ref, cli.UsageError(err)
	}
	return ref, nil
}

// FindUser returns the result of the user with a login (or object name).
func FindUser(res *access.Result, login string) (*access.UserResult, error) {
	if u := access.UserByLogin(res, login); u != nil {
		return u, nil
	}
	return nil, cli.UsageError(fmt.Errorf("no User with login %q in the manifests", login))
}
