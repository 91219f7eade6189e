// Command chartgen regenerates the parts of charts/gatehouse that come from
// config/, so that `helm install` and `kubectl apply -k config/default`
// install the same CRDs, RBAC and webhooks, and config/webhook's kustomize
// patch from the webhooks' scoping (config/webhook/scoping.go). `make generate` (and `make
// chart`) runs it after controller-gen, from the repository's root; `make
// verify` fails when its output is not committed. Never edit its output by
// hand:
//
//	templates/crds/<file>.yaml         config/crd/bases/<file>.yaml, inside
//	                                   `if .Values.crds.install`, annotated
//	                                   helm.sh/resource-policy: keep
//	templates/_generated_rbac.tpl      the rules of the ClusterRole and of the
//	                                   Role in config/rbac/role.yaml (markers)
//	templates/_generated_webhooks.tpl  the webhooks of config/webhook/manifests.yaml,
//	                                   scoped by config/webhook's Apply (break-glass
//	                                   group: breakGlass.group), pointed at the
//	                                   release's Service
//	templates/user-roles.yaml          config/rbac/user_roles.yaml (the ClusterRoles
//	                                   for people), inside `if .Values.userRoles.create`
//	config/webhook/matchconditions.yaml  config/webhook's KustomizePatch: the same
//	                                   scoping, for the default break-glass group
//
// The objects around them (names, labels, bindings, annotations) are the
// chart's own templates: rbac.yaml, webhook.yaml.
//
// It works on the lines of controller-gen's CRDs and RBAC, which have one
// layout, rather than on parsed YAML, so that the chart keeps the source's
// order and comments; the webhooks it decodes, scopes and encodes. Every
// input it does not recognise is refused with a sentence naming the file.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

const (
	crdDir       = "config/crd/bases"
	roleFile     = "config/rbac/role.yaml"
	userRoleFile = "config/rbac/user_roles.yaml"
	webhookFile  = "config/webhook/manifests.yaml"
	templates    = "charts/gatehouse/templates"
)

func main() {
	if err := run("."); err != nil {
		fmt.Fprintln(os.Stderr, "chartgen:", err)
		os.Exit(1)
	}
}

// run renders the generated files from the config/ under root.
func run(root string) error {
	files, err := render(os.DirFS(root))
	if err != nil {
		return err
	}
	crds := filepath.Join(root, templates, "crds")
	if err := os.RemoveAll(crds); err != nil {
		return err
	}
	if err := os.MkdirAll(crds, 0o755); err != nil { //nolint:gosec // G301: a directory of the chart, read by everyone
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		dest := filepath.Join(root, filepath.FromSlash(name))
		if err := os.WriteFile(dest+".tmp", files[name], 0o644); err != nil { //nolint:gosec // G306: a generated file, read by everyone
			return err
		}
		if err := os.Rename(dest+".tmp", dest); err != nil {
			return err
		}
	}
	return nil
}
