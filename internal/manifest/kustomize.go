package manifest

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// build builds the kustomization in dir (inside the root) as `kubectl
// apply -k` does, with kustomize's default options (files only from within
// each kustomization's root or its bases, no plugins, no Helm), after
// judging every kustomization it reaches (vet): nothing remote, nothing
// outside the root, no more objects than the limit. The build reads its
// files through the root (rootFS), and runs sealed.
func (r *root) build(dir string) ([]Document, error) {
	real, err := r.resolve(dir)
	if err != nil {
		return nil, err
	}
	v := vetter{root: r, cost: map[string]int{}, busy: map[string]bool{}}
	n, err := v.kustomization(real, dir)
	if err != nil {
		return nil, err
	}
	if n > r.limits.Objects {
		return nil, fmt.Errorf("the kustomization in %s includes more than %d objects, counting each base as often as it is included (--max-objects raises the limit)", dir, r.limits.Objects)
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy // as kubectl apply -k
	var yml []byte
	err = sealed(func() error {
		m, err := krusty.MakeKustomizer(opts).Run(rootFS{r}, real)
		if err != nil {
			return err
		}
		yml, err = m.AsYaml()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("kustomize cannot build the kustomization in %s: %w", dir, err)
	}
	docs, err := Parse(dir, yml)
	if err != nil {
		return nil, err
	}
	for i := range docs {
		docs[i].Built = true
	}
	return docs, nil
}

// vetter judges the kustomizations a build reaches before kustomize runs.
type vetter struct {
	root *root
	cost map[string]int // objects each kustomization directory includes
	busy map[string]bool
}

// kustomization vets the kustomization in the directory real (named name
// in errors) and the ones it includes, and returns how many objects it
// includes, each base counted as often as it is included.
func (v *vetter) kustomization(real, name string) (int, error) {
	if n, done := v.cost[real]; done {
		return n, nil
	}
	if v.busy[real] {
		return 0, nil // a cycle, which kustomize refuses with its own message
	}
	v.busy[real] = true
	defer delete(v.busy, real)
	file := kustomizationFile(real)
	if file == "" {
		return 0, nil // kustomize says there is none
	}
	data, err := v.root.readFile(file, filepath.Join(name, filepath.Base(file)))
	if err != nil {
		return 0, err
	}
	var k kustypes.Kustomization
	if err := k.Unmarshal(data); err != nil {
		return 0, nil //nolint:nilerr // kustomize refuses it with its own message
	}
	paths := loadedPaths(&k) // before FixKustomization moves fields kustomize still reads
	k.FixKustomization()
	at := filepath.Join(name, filepath.Base(file))
	if len(k.HelmCharts) > 0 || len(k.HelmChartInflationGenerator) > 0 || k.HelmGlobals != nil {
		return 0, fmt.Errorf("%s: helmCharts are not read: render the chart into the repository, or give `helm template` to standard input", at)
	}
	var n int
	for _, list := range [][]string{k.Resources, k.Components, k.Generators, k.Transformers, k.Validators} {
		for _, entry := range list {
			c, err := v.entry(real, at, entry)
			if err != nil {
				return 0, err
			}
			n += c
			if n > v.root.limits.Objects {
				return n, nil
			}
		}
	}
	for _, p := range append(paths, loadedPaths(&k)...) {
		if err := refuseRemote(at, p); err != nil {
			return 0, err
		}
	}
	v.cost[real] = n
	return n, nil
}

// entry vets one entry of resources, components, generators, transformers
// or validators: an inline object, or a file or directory in the root.
// Kustomize would fetch anything else, or run git for it.
func (v *vetter) entry(dir, at, entry string) (int, error) {
	if inline(entry) {
		return 1, nil
	}
	if err := refuseRemote(at, entry); err != nil {
		return 0, err
	}
	p := filepath.Join(dir, entry)
	real, err := v.root.resolve(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%s: %q is not a file or directory in the repository: kustomize would fetch it, and gatehouse reads nothing remote (a reviewed change must not change after review): vendor it into the repository", at, entry)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %q: %w", at, entry, err)
	}
	info, err := os.Stat(real)
	if err != nil {
		return 0, fmt.Errorf("%s: %q: %w", at, entry, err)
	}
	if info.IsDir() {
		return v.kustomization(real, filepath.Join(filepath.Dir(at), entry))
	}
	data, err := v.root.readFile(real, filepath.Join(filepath.Dir(at), entry))
	if err != nil {
		return 0, err
	}
	return documents(data), nil
}

// inline reports whether an entry of generators, transformers or
// validators is an object written in place (kustomize takes any entry that
// decodes as objects), on several lines or in one flow mapping.
func inline(entry string) bool {
	var m map[string]any
	return kyaml.Unmarshal([]byte(entry), &m) == nil && m["kind"] != nil
}

// documents counts the documents of a file, as an upper bound of the
// objects it holds before lists are unpacked (those are counted after the
// build).
func documents(data []byte) int {
	return 1 + strings.Count(string(data), "\n---")
}

// refuseRemote refuses a path that names a remote place: a URL of any
// scheme, go-getter's forms (git::, gh:), a query (?ref=), a repository as
// kustomize reads one (github.com/org/repo), or an absolute path.
func refuseRemote(at, p string) error {
	if u, err := url.Parse(p); err == nil && u.Scheme != "" {
		return remoteError(at, p)
	}
	if strings.Contains(p, "::") || strings.Contains(p, "?") || strings.HasPrefix(p, "gh:") || strings.HasPrefix(p, "git@") {
		return remoteError(at, p)
	}
	if (&resource.Origin{}).Append(p).Repo != "" { // kustomize's own reading: it would clone
		return remoteError(at, p)
	}
	if filepath.IsAbs(p) {
		return fmt.Errorf("%s: %q is an absolute path: name files relative to the kustomization", at, p)
	}
	return nil
}

func remoteError(at, p string) error {
	return fmt.Errorf("%s: %q is remote: gatehouse fetches nothing and runs no command (a reviewed change must not change after review): vendor it into the repository", at, p)
}

// loadedPaths are the paths of a kustomization that kustomize loads as
// files: patches, replacements, OpenAPI schemas, CRDs, configurations and
// generators' files (key=path or path).
func loadedPaths(k *kustypes.Kustomization) []string {
	var ps []string
	for _, p := range k.Patches {
		ps = append(ps, p.Path)
		if !strings.Contains(p.Patch, "\n") {
			ps = append(ps, p.Patch) // one line: a path, as a patchesStrategicMerge entry may be
		}
	}
	// kustomize builds still read the deprecated patch fields themselves.
	for _, p := range k.PatchesJson6902 { //nolint:staticcheck // see above
		ps = append(ps, p.Path)
	}
	for _, p := range k.PatchesStrategicMerge { //nolint:staticcheck // see above
		if !strings.Contains(string(p), "\n") {
			ps = append(ps, string(p))
		}
	}
	for _, r := range k.Replacements {
		ps = append(ps, r.Path)
	}
	ps = append(ps, k.OpenAPI["path"])
	ps = append(ps, k.Crds...)
	ps = append(ps, k.Configurations...)
	gen := func(a kustypes.GeneratorArgs) {
		for _, f := range a.FileSources {
			ps = append(ps, f)
			if _, p, ok := strings.Cut(f, "="); ok {
				ps = append(ps, p)
			}
		}
		ps = append(ps, a.EnvSources...)
	}
	for _, g := range k.ConfigMapGenerator {
		gen(g.GeneratorArgs)
	}
	for _, g := range k.SecretGenerator {
		gen(g.GeneratorArgs)
	}
	out := ps[:0]
	for _, p := range ps {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// kustomizationFile returns the kustomization file of dir, or "".
func kustomizationFile(dir string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); err == nil {
			return p
		}
	}
	return ""
}

// sealMu makes sealed builds one at a time: they change the process's PATH
// and HTTP transport.
var sealMu sync.Mutex

// sealed runs f, a kustomize build, with no way to run a command or reach
// the network, should vetting ever miss a remote form: kustomize finds git
// through PATH, which is empty meanwhile, and fetches through
// http.DefaultTransport, which refuses every request meanwhile.
func sealed(f func() error) error {
	sealMu.Lock()
	defer sealMu.Unlock()
	path, had := os.LookupEnv("PATH")
	transport := http.DefaultTransport
	_ = os.Setenv("PATH", "")
	http.DefaultTransport = refuseTransport{}
	defer func() {
		http.DefaultTransport = transport
		if had {
			_ = os.Setenv("PATH", path)
		} else {
			_ = os.Unsetenv("PATH")
		}
	}()
	return f()
}

type refuseTransport struct{}

func (refuseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("gatehouse reads nothing remote (%s): vendor it into the repository", req.URL.Redacted())
}

// rootFS is the file system kustomize builds from: the disk, read through
// the root. Every path outside it is refused, each file read counts against
// the byte limit and is judged as YAML first, and nothing is written.
type rootFS struct{ r *root }

var _ filesys.FileSystem = rootFS{}

var disk = filesys.MakeFsOnDisk()

var errReadOnly = errors.New("gatehouse writes no file while reading manifests")

func (rootFS) Create(string) (filesys.File, error) { return nil, errReadOnly }
func (rootFS) Mkdir(string) error                  { return errReadOnly }
func (rootFS) MkdirAll(string) error               { return errReadOnly }
func (rootFS) RemoveAll(string) error              { return errReadOnly }
func (rootFS) WriteFile(string, []byte) error      { return errReadOnly }

// in returns p resolved, when it lies in the root.
func (f rootFS) in(p string) (string, error) {
	real, err := f.r.resolve(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	return real, nil
}

func (f rootFS) Open(p string) (filesys.File, error) {
	if _, err := f.in(p); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("cannot open %s: gatehouse's kustomize reads files whole", p)
}

func (f rootFS) IsDir(p string) bool {
	real, err := f.in(p)
	return err == nil && disk.IsDir(real)
}

func (f rootFS) ReadDir(p string) ([]string, error) {
	real, err := f.in(p)
	if err != nil {
		return nil, err
	}
	return disk.ReadDir(real)
}

func (f rootFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	real, err := f.r.resolve(p)
	if err != nil {
		return "", "", err
	}
	return disk.CleanedAbs(real)
}

func (f rootFS) Exists(p string) bool {
	real, err := f.in(p)
	return err == nil && disk.Exists(real)
}

func (f rootFS) Glob(pattern string) ([]string, error) {
	matches, err := disk.Glob(pattern)
	if err != nil {
		return nil, err
	}
	out := matches[:0]
	for _, m := range matches {
		if _, err := f.in(m); err == nil {
			out = append(out, m)
		}
	}
	return out, nil
}

func (f rootFS) ReadFile(p string) ([]byte, error) {
	return f.r.readFile(p, p)
}

func (f rootFS) Walk(p string, fn filepath.WalkFunc) error {
	real, err := f.in(p)
	if err != nil {
		return err
	}
	return disk.Walk(real, fn)
}
