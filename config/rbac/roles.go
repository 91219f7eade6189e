// Package rbac embeds Gatehouse's RBAC: the manager's own ServiceAccount,
// its generated ClusterRole and Role and their bindings (service_account.yaml,
// role.yaml, role_binding.yaml), and the ClusterRoles for people
// (user_roles.yaml: gatehouse-viewer, gatehouse-user, gatehouse-admin), so
// that `gatehouse dev` and the tests install what kustomize and Helm do and
// run the manager with exactly the rights a cluster gives it.
package rbac

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

var (
	//go:embed user_roles.yaml
	userRoles []byte
	//go:embed service_account.yaml
	serviceAccount []byte
	//go:embed role.yaml
	managerRoles []byte
	//go:embed role_binding.yaml
	managerBindings []byte
)

// Namespace and ServiceAccount are the manager's identity as config/rbac
// declares it: system:serviceaccount:gatehouse-system:gatehouse-manager.
const (
	Namespace      = "gatehouse-system"
	ServiceAccount = "gatehouse-manager"
)

// UserRoles returns the ClusterRoles for people.
func UserRoles() ([]*unstructured.Unstructured, error) { return parse("user_roles.yaml", userRoles) }

// Manager returns the manager's ServiceAccount, ClusterRole, Role and
// bindings.
func Manager() ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, f := range []struct {
		name string
		data []byte
	}{{"service_account.yaml", serviceAccount}, {"role.yaml", managerRoles}, {"role_binding.yaml", managerBindings}} {
		objs, err := parse(f.name, f.data)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

func parse(name string, data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("config/rbac/%s does not parse: %w", name, err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}
