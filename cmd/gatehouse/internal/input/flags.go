package input

import (
	"io"

	"github.com/spf13/cobra"
)

// ManifestFlags are the flags of the commands that read a Namespace: from
// manifests (-f), or else from the cluster.
type ManifestFlags struct {
	files      []string
	namespace  string
	kubeconfig string
	context    string
	// stdin is the command's standard input, read for -f -.
	stdin func() io.Reader
}

// FilenameUsage is the help of -f and of diff's --before and --after.
const FilenameUsage = "manifest file, directory (recursive; one holding a kustomization is built with kustomize, as kubectl apply -k does) or - for standard input; repeatable"

// Register adds the flags to cmd, whose standard input -f - reads.
func (m *ManifestFlags) Register(cmd *cobra.Command) {
	m.stdin = cmd.InOrStdin
	cmd.Flags().StringArrayVarP(&m.files, "filename", "f", nil, FilenameUsage+". Without -f, the namespace is read from the cluster")
	cmd.Flags().StringVarP(&m.namespace, "namespace", "n", "", `the Namespace: of manifests without one (default "default"; required when they hold several), or in the cluster (default: the kubeconfig context's)`)
	cmd.Flags().StringVar(&m.kubeconfig, "kubeconfig", "", "the kubeconfig of the cluster to read (default: KUBECONFIG, ~/.kube/config)")
	cmd.Flags().StringVar(&m.context, "context", "", "the kubeconfig context to use")
}
