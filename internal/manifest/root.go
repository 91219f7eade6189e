package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Limits bound what one Read may take in. Each is named by the gatehouse
// flag that raises it, and an error that hits one says which. Zero values
// take the defaults (DefaultLimits).
type Limits struct {
	// InputBytes is the most bytes read in all, over every file, the
	// kustomizations' files and standard input (--max-input-bytes).
	InputBytes int64
	// YAMLAliasNodes is the most nodes one file may reach through YAML
	// aliases, counted as expanded (--max-yaml-aliases): a few hundred
	// bytes of nested aliases stand for gigabytes once expanded.
	YAMLAliasNodes int
	// YAMLDepth is the deepest nesting of one file, aliases expanded
	// (--max-yaml-depth).
	YAMLDepth int
	// Objects is the most objects after expansion: lists unpacked,
	// kustomizations built, each base counted as often as it is included
	// (--max-objects).
	Objects int
}

// DefaultLimits are the limits of a Read that sets none: far above any
// GitOps repository's, far below what exhausts a CI runner.
var DefaultLimits = Limits{
	InputBytes:     256 << 20,
	YAMLAliasNodes: 100_000,
	YAMLDepth:      200,
	Objects:        100_000,
}

func (l Limits) withDefaults() Limits {
	if l.InputBytes <= 0 {
		l.InputBytes = DefaultLimits.InputBytes
	}
	if l.YAMLAliasNodes <= 0 {
		l.YAMLAliasNodes = DefaultLimits.YAMLAliasNodes
	}
	if l.YAMLDepth <= 0 {
		l.YAMLDepth = DefaultLimits.YAMLDepth
	}
	if l.Objects <= 0 {
		l.Objects = DefaultLimits.Objects
	}
	return l
}

// root is the input root of one Read: the one directory that every file
// read lies in, whatever path, symbolic link or kustomization leads to it.
// Files are read through an os.Root as well, so that a link that the checks
// below would miss still cannot leave it.
type root struct {
	dir    string // absolute, symbolic links resolved
	fs     *os.Root
	limits Limits
	read   int64             // bytes read so far
	files  map[string][]byte // each file read, by its real path: read once, counted once
}

func openRoot(dir string, limits Limits) (*root, error) {
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot find the input root %s: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("cannot open the input root %s: %w", dir, err)
	}
	rfs, err := os.OpenRoot(real)
	if err != nil {
		return nil, fmt.Errorf("cannot open the input root %s: %w", dir, err)
	}
	return &root{dir: real, fs: rfs, limits: limits.withDefaults(), files: map[string][]byte{}}, nil
}

func (r *root) close() { _ = r.fs.Close() }

// contains reports whether the absolute, link-free path p is the root or
// lies below it.
func (r *root) contains(p string) bool {
	if r.dir == string(filepath.Separator) {
		return true
	}
	return p == r.dir || strings.HasPrefix(p, r.dir+string(filepath.Separator))
}

// errOutside is the refusal of a path that is, or leads, outside the root.
var errOutside = errors.New("outside the input root")

// resolve returns the absolute path of p (relative to the working
// directory) with every symbolic link resolved; the error names p and
// wraps errOutside when p is or leads outside the root, or fs.ErrNotExist
// when it does not exist (then the path returned is p made absolute, for a
// caller that only needs to know it is not outside).
func (r *root) resolve(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", p, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if errors.Is(err, fs.ErrNotExist) {
		if !r.contains(filepath.Clean(abs)) && !r.contains(r.nearestReal(abs)) {
			return "", r.outside(p, abs)
		}
		return abs, fmt.Errorf("cannot read %s: %w", p, fs.ErrNotExist)
	}
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", p, err)
	}
	if !r.contains(real) {
		return "", r.outside(p, abs)
	}
	return real, nil
}

// nearestReal resolves the longest existing prefix of abs.
func (r *root) nearestReal(abs string) string {
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		if real, err := filepath.EvalSymlinks(d); err == nil {
			return real
		}
		if d == filepath.Dir(d) {
			return d
		}
	}
}

func (r *root) outside(p, abs string) error {
	if r.contains(filepath.Clean(abs)) {
		return fmt.Errorf("%s is a symbolic link, or lies under one, that leads %w %s: gatehouse reads no file outside it, since the files of a pull request may link anywhere on the machine", p, errOutside, r.dir)
	}
	return fmt.Errorf("%s is %w %s: run gatehouse from a directory that holds every manifest, or name one with --root", p, errOutside, r.dir)
}

// readFile reads the file at p (relative to the working directory), which
// must lie in the root, within the byte budget, and judges it as YAML
// (checkYAML). name is how errors name the file.
func (r *root) readFile(p, name string) ([]byte, error) {
	real, err := r.resolve(p)
	if err != nil {
		return nil, err
	}
	if data, ok := r.files[real]; ok {
		return data, nil
	}
	rel, err := filepath.Rel(r.dir, real)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if info, err := r.fs.Stat(rel); err != nil || !info.Mode().IsRegular() {
		// A FIFO would block (its open first), a device never end.
		return nil, fmt.Errorf("cannot read %s: not a regular file", name)
	}
	f, err := r.fs.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	defer f.Close() //nolint:errcheck // read only
	data, err := r.take(f, name)
	if err != nil {
		return nil, err
	}
	if err := checkYAML(name, data, r.limits); err != nil {
		return nil, err
	}
	r.files[real] = data
	return data, nil
}

// countObjects refuses n objects read when they are over the limit.
func (r *root) countObjects(n int) error {
	if n > r.limits.Objects {
		return fmt.Errorf("the manifests hold more than %d objects (--max-objects raises the limit)", r.limits.Objects)
	}
	return nil
}

// take reads rd whole within what is left of the byte budget.
func (r *root) take(rd io.Reader, name string) ([]byte, error) {
	left := r.limits.InputBytes - r.read
	data, err := io.ReadAll(io.LimitReader(rd, left+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	r.read += int64(len(data))
	if int64(len(data)) > left {
		return nil, fmt.Errorf("the input exceeds %d bytes when reading %s (--max-input-bytes raises the limit)", r.limits.InputBytes, name)
	}
	return data, nil
}
