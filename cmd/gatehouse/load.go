package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	sigsjson "sigs.k8s.io/json"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/manifest"
)

// now is the clock the offline commands judge licence expiry by; tests set
// it.
var now = time.Now

// loaded is one namespace read from manifests.
type loaded struct {
	namespace string
	snap      access.Snapshot
}

// gatehouseKinds are the kinds of iam.gatehouse.dev the CLI reads.
var gatehouseKinds = []string{"Connection", "Directory", "Group", "License", "ResourceGrant", "Share", "User"}

// loadManifests reads the Gatehouse objects of one namespace from files and
// directories, as `kubectl apply -f` would read them, decoding strictly and
// validating roles and permissions against the catalogue. Every error names
// the file and the object, and is a usage error (exit code 2).
func loadManifests(paths []string, ns string) (*loaded, error) {
	if len(paths) == 0 {
		return nil, usageError(errors.New("no manifests: give files or directories with -f"))
	}
	docs, err := manifest.ReadPaths(paths...)
	if err != nil {
		return nil, usageError(err)
	}
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
			return nil, usageError(fmt.Errorf("%s: unknown version %s of %s: gatehouse reads %s", d.Source(), gvk.Version, gvk.Group, iamv1alpha1.GroupVersion))
		}
		if i := sort.SearchStrings(gatehouseKinds, gvk.Kind); i == len(gatehouseKinds) || gatehouseKinds[i] != gvk.Kind {
			return nil, usageError(fmt.Errorf("%s: unknown kind %s in %s: valid are %s", d.Source(), gvk.Kind, iamv1alpha1.GroupVersion, strings.Join(gatehouseKinds, ", ")))
		}
		objNS := d.Object.GetNamespace()
		if objNS == "" {
			objNS = d.Namespace // set by a kustomization, as kubectl apply -k would
		}
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
			return nil, usageError(fmt.Errorf("the manifests hold several namespaces (%s): choose one with -n", strings.Join(list, ", ")))
		}
	}

	l := &loaded{namespace: target, snap: access.Snapshot{Now: now()}}
	seen := map[string]string{}
	for _, e := range ours {
		if e.ns != target {
			continue
		}
		d := e.doc
		key := d.Object.GetKind() + "/" + d.Object.GetName()
		if prev, dup := seen[key]; dup {
			return nil, usageError(fmt.Errorf("%s: %s is defined twice, also in %s", d.Source(), key, prev))
		}
		seen[key] = d.Source()
		if err := l.add(d); err != nil {
			return nil, usageError(fmt.Errorf("%s: %w", d.Source(), err))
		}
	}
	return l, nil
}

// decodeStrict decodes an object into a typed value; unknown or duplicate
// fields are errors.
func decodeStrict(d manifest.Document, into any) error {
	data, err := d.Object.MarshalJSON()
	if err != nil {
		return fmt.Errorf("cannot re-encode: %w", err)
	}
	strict, err := sigsjson.UnmarshalStrict(data, into)
	if err != nil {
		return fmt.Errorf("does not decode as %s: %w", d.Object.GetKind(), err)
	}
	if len(strict) > 0 {
		msgs := make([]string, len(strict))
		for i, e := range strict {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("does not decode as %s: %s", d.Object.GetKind(), strings.Join(msgs, "; "))
	}
	return nil
}

// add decodes one object into the snapshot and checks what the API server's
// enums would (roles, permissions, types) against the catalogue.
func (l *loaded) add(d manifest.Document) error {
	switch d.Object.GetKind() {
	case "License":
		var o iamv1alpha1.License
		if err := decodeStrict(d, &o); err != nil {
			return err
		}
		if l.snap.License != nil {
			return fmt.Errorf("a second License (%s): a namespace has one License", l.snap.License.Name)
		}
		for _, p := range o.Spec.Profiles {
			if p.MaxRole != "" && !access.RoleAtLeast(p.MaxRole, iamv1alpha1.RoleConsumer) {
				return fmt.Errorf("profile %s: unknown maxRole %q: valid are Consumer, Editor, Owner", p.Name, p.MaxRole)
			}
			if _, err := access.ParseGlobal(p.GlobalPermissions); err != nil {
				return fmt.Errorf("profile %s: %w", p.Name, err)
			}
		}
		l.snap.License = &o
	case "User":
		var o iamv1alpha1.User
		if err := decodeStrict(d, &o); err != nil {
			return err
		}
		l.snap.Users = append(l.snap.Users, o)
	case "Group":
		var o iamv1alpha1.Group
		if err := decodeStrict(d, &o); err != nil {
			return err
		}
		if _, err := access.ParseGlobal(o.Spec.GlobalPermissions); err != nil {
			return err
		}
		l.snap.Groups = append(l.snap.Groups, o)
	case "Connection":
		var o iamv1alpha1.Connection
		if err := decodeStrict(d, &o); err != nil {
			return err
		}
		l.snap.Connections = append(l.snap.Connections, o)
	case "ResourceGrant":
		var o iamv1alpha1.ResourceGrant
		if err := decodeStrict(d, &o); err != nil {
			return err
		}
		if _, err := access.ParsePermissions(o.Spec.Resource.Type, o.Spec.Permissions); err != nil {
			return err
		}
		l.snap.ResourceGrants = append(l.snap.ResourceGrants, o)
	case "Share":
		var o iamv1alpha1.Share
		if err := decodeStrict(d, &o); err != nil {
			return err
		}
		for _, g := range o.Spec.Grantees {
			if err := access.ValidRole(o.Spec.Resource.Type, g.Role); err != nil {
				return fmt.Errorf("grantee %s %s: %w", g.Kind, g.Name, err)
			}
		}
		l.snap.Shares = append(l.snap.Shares, o)
	case "Directory":
		var o iamv1alpha1.Directory
		return decodeStrict(d, &o) // checked, not needed to compute access
	}
	return nil
}

// parseRef parses TYPE/NAME.
func parseRef(s string) (iamv1alpha1.ResourceRef, error) {
	t, n, ok := strings.Cut(s, "/")
	if !ok || n == "" {
		return iamv1alpha1.ResourceRef{}, usageError(fmt.Errorf("%q is not TYPE/NAME, e.g. dataset/sales", s))
	}
	ref := iamv1alpha1.ResourceRef{Type: iamv1alpha1.ResourceType(t), Name: n}
	if !access.ValidType(ref.Type) {
		_, err := access.PermissionsOf(ref.Type)
		return ref, usageError(err)
	}
	return ref, nil
}

// findUser returns the result of the user with a login (or object name).
func findUser(res *access.Result, login string) (*access.UserResult, error) {
	for _, n := range res.UserNames() {
		if u := res.Users[n]; u.Login == login {
			return u, nil
		}
	}
	if u := res.Users[login]; u != nil {
		return u, nil
	}
	return nil, usageError(fmt.Errorf("no User with login %q in the manifests", login))
}

// usersByLogin returns the users sorted by login.
func usersByLogin(res *access.Result) []*access.UserResult {
	out := make([]*access.UserResult, 0, len(res.Users))
	for _, u := range res.Users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Login != out[j].Login {
			return out[i].Login < out[j].Login
		}
		return out[i].Name < out[j].Name
	})
	return out
}
