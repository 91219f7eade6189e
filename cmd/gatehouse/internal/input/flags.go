package input

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/internal/manifest"
)

// ManifestFlags are the flags of the commands that read a Namespace: from
// manifests (-f), or else from the cluster.
type ManifestFlags struct {
	Bounds
	files      []string
	namespace  string
	kubeconfig string
	context    string
}

// FilenameUsage is the help of -f and of diff's --before and --after.
const FilenameUsage = "manifest file, directory (its .json, .yaml and .yml files, as kubectl apply -f reads them; with -R its subdirectories too; one holding a kustomization is built with kustomize, as kubectl apply -k builds it), glob pattern, or - for standard input; repeatable"

// Register adds the flags to cmd, whose standard input -f - reads.
func (m *ManifestFlags) Register(cmd *cobra.Command) {
	m.Bounds.Register(cmd)
	cmd.Flags().StringArrayVarP(&m.files, "filename", "f", nil, FilenameUsage+". Without -f, the namespace is read from the cluster")
	cmd.Flags().StringVarP(&m.namespace, "namespace", "n", "", `the Namespace: of manifests without one (default "default"; required when they hold several), or in the cluster (default: the kubeconfig context's)`)
	cmd.Flags().StringVar(&m.kubeconfig, "kubeconfig", "", "the kubeconfig of the cluster to read (default: KUBECONFIG, ~/.kube/config)")
	cmd.Flags().StringVar(&m.context, "context", "", "the kubeconfig context to use")
}

// Bounds are the flags that say where the manifests of a command may be
// read from and bound what it reads, how long it runs and what it prints:
// the manifests of a pull request are hostile input.
type Bounds struct {
	root      string
	recursive bool
	limits    manifest.Limits
	timeout   time.Duration
	maxOutput int64
	cmd       *cobra.Command
}

// DefaultTimeout and DefaultMaxOutput are the defaults of --timeout and
// --max-output-bytes.
const (
	DefaultTimeout   = 3 * time.Minute
	DefaultMaxOutput = 64 << 20
)

// Register adds the flags to cmd and guards its RunE (Guard).
func (b *Bounds) Register(cmd *cobra.Command) {
	b.cmd = cmd
	f := cmd.Flags()
	f.StringVar(&b.root, "root", "", "the input root: every manifest, and every file a link or kustomization leads to, must lie in it (default: the working directory)")
	f.BoolVarP(&b.recursive, "recursive", "R", false, "read the subdirectories of directories too, as kubectl apply -R does")
	d := manifest.DefaultLimits
	f.Int64Var(&b.limits.InputBytes, "max-input-bytes", d.InputBytes, "the most bytes read from files and standard input in all")
	f.IntVar(&b.limits.YAMLAliasNodes, "max-yaml-aliases", d.YAMLAliasNodes, "the most YAML nodes one file may reach through aliases, counted as expanded")
	f.IntVar(&b.limits.YAMLDepth, "max-yaml-depth", d.YAMLDepth, "the deepest nesting of one file")
	f.IntVar(&b.limits.Objects, "max-objects", d.Objects, "the most objects after lists are unpacked and kustomizations built")
	f.DurationVar(&b.timeout, "timeout", DefaultTimeout, "give up after this long")
	f.Int64Var(&b.maxOutput, "max-output-bytes", DefaultMaxOutput, "the most bytes printed")
	b.guard(cmd)
}

// Read reads paths as `kubectl apply -f` (or -k, -R) would, within the
// bounds; standard input is the command's, and warnings go to its standard
// error. Every error is a usage error (exit code 2).
func (b *Bounds) Read(paths []string) ([]manifest.Document, error) {
	if len(paths) == 0 {
		return nil, cli.UsageError(errors.New("no manifests: give files or directories with -f"))
	}
	docs, err := manifest.Read(b.Options(b.root), paths...)
	if err != nil {
		return nil, cli.UsageError(err)
	}
	return docs, nil
}

// Options are the manifest.Options of the bounds, rooted at root.
func (b *Bounds) Options(root string) manifest.Options {
	return manifest.Options{
		Root:      root,
		Recursive: b.recursive,
		Stdin:     b.cmd.InOrStdin(),
		Limits:    b.limits,
		Warn:      b.Warn,
	}
}

// Warn tells the person running the command something on standard error.
func (b *Bounds) Warn(msg string) {
	cli.Fprintf(b.cmd.ErrOrStderr(), "Warning: %s\n", msg)
}

// guard wraps cmd's RunE: it gives up after the timeout, and fails once the
// output exceeds its limit (what was printed until then stands; a command
// that ignores the write error still fails).
func (b *Bounds) guard(cmd *cobra.Command) {
	run := cmd.RunE
	if run == nil {
		panic("input: Register before the command's RunE is set")
	}
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if err := b.validate(); err != nil {
			return err
		}
		out := &limitWriter{w: c.OutOrStdout(), left: b.maxOutput, limit: b.maxOutput}
		c.SetOut(out)
		done := make(chan error, 1)
		go func() { done <- run(c, args) }()
		timer := time.NewTimer(b.timeout)
		defer timer.Stop()
		select {
		case err := <-done:
			if out.exceeded() {
				return cli.UsageError(out.err())
			}
			return err
		case <-timer.C:
			return cli.UsageError(fmt.Errorf("gave up after %s (--timeout raises the limit)", b.timeout))
		}
	}
}

// validate refuses a limit that is not positive.
func (b *Bounds) validate() error {
	for _, l := range []struct {
		flag string
		v    int64
	}{
		{"--max-input-bytes", b.limits.InputBytes}, {"--max-yaml-aliases", int64(b.limits.YAMLAliasNodes)},
		{"--max-yaml-depth", int64(b.limits.YAMLDepth)}, {"--max-objects", int64(b.limits.Objects)},
		{"--timeout", int64(b.timeout)}, {"--max-output-bytes", b.maxOutput},
	} {
		if l.v <= 0 {
			return cli.UsageError(fmt.Errorf("%s must be positive: it bounds what a pull request may make gatehouse do (see %s --help for the default)", l.flag, b.cmd.CommandPath()))
		}
	}
	return nil
}

// DefaultRoot makes dir the input root when --root is not given.
func (b *Bounds) DefaultRoot(dir string) {
	if b.root == "" {
		b.root = dir
	}
}

// limitWriter passes at most limit bytes to w.
type limitWriter struct {
	mu          sync.Mutex
	w           io.Writer
	left, limit int64
	over        bool
}

func (l *limitWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if int64(len(p)) > l.left {
		l.over = true
		return 0, l.err()
	}
	l.left -= int64(len(p))
	return l.w.Write(p)
}

func (l *limitWriter) exceeded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.over
}

func (l *limitWriter) err() error {
	return fmt.Errorf("the output exceeds %d bytes (--max-output-bytes raises the limit)", l.limit)
}
