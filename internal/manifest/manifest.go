// Package manifest reads Kubernetes manifests as kubectl would: files and
// directories as `kubectl apply -f` (and -R) reads them, with kubectl's own
// resource builder (lists unpacked), standard input (`-f -`), and a
// directory holding a kustomization as `kubectl apply -k` reads it: built
// with kustomize itself.
//
// What it reads is hostile: the manifests of a pull request, read in CI.
// So nothing is read outside the input root (links and kustomize bases
// included), nothing remote is fetched and no command runs (every
// kustomization is vetted before kustomize runs, and kustomize runs
// sealed), every file is measured before a YAML decoder expands it, and
// limits bound the bytes, aliases, depth and objects; errors name the file
// and document and never quote the content.
package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/resource"
	"sigs.k8s.io/kustomize/api/konfig"
	kustypes "sigs.k8s.io/kustomize/api/types"
)

// Stdin is the path that stands for standard input, as in `kubectl apply -f -`.
const Stdin = "-"

// StdinName is the File of the documents read from standard input.
const StdinName = "standard input"

// Document is one object read from a manifest.
type Document struct {
	// File is where the object was read from: a file, StdinName, or (when
	// Built) the kustomization directory whose build produced it.
	File string
	// Index is the object's position among the documents of File (among the
	// objects of the build when Built), from 1.
	Index int
	// Item is the object's position, from 1, in the list of items of its
	// document, which kubectl unpacks; 0 when the document is no list.
	Item int
	// Built reports that Object is one of the objects `kustomize build File`
	// outputs, with the kustomization's resources, patches, name changes,
	// namespace and generators applied.
	Built bool
	// Object is the object as written, or as kustomize built it.
	Object *unstructured.Unstructured
}

// Source names the document for messages: "file.yaml (document 2, User
// demo/alice)", "overlays/prod (kustomize build, Share prod/sales)".
func (d Document) Source() string {
	name := d.Object.GetName()
	if ns := d.Object.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	item := ""
	if d.Item > 0 {
		item = fmt.Sprintf("item %d, ", d.Item)
	}
	if d.Built {
		return fmt.Sprintf("%s (kustomize build, %s%s %s)", d.File, item, d.Object.GetKind(), name)
	}
	return fmt.Sprintf("%s (document %d, %s%s %s)", d.File, d.Index, item, d.Object.GetKind(), name)
}

// IsKustomization reports whether a file name is one kustomize reads as a
// kustomization (kustomization.yaml, kustomization.yml, Kustomization).
func IsKustomization(name string) bool {
	base := filepath.Base(name)
	for _, k := range konfig.RecognizedKustomizationFileNames() {
		if base == k {
			return true
		}
	}
	return false
}

// IsManifest reports whether kubectl reads a file of a directory as a
// manifest: its extension is .json, .yaml or .yml, in that case
// (cli-runtime's resource.FileExtensions). Kustomize's own files are not
// manifests.
func IsManifest(name string) bool {
	if IsKustomization(name) {
		return false
	}
	return slices.Contains(resource.FileExtensions, filepath.Ext(name))
}

// isManifestFold reports whether a file's extension is one kubectl reads
// but for its case (.YAML), which kubectl skips.
func isManifestFold(name string) bool {
	ext := filepath.Ext(name)
	return !IsManifest(name) && !IsKustomization(name) && slices.ContainsFunc(resource.FileExtensions, func(e string) bool { return strings.EqualFold(e, ext) })
}

// Options say where Read may look, and how much it may take in.
type Options struct {
	// Root is the input root: every file read, through any path, symbolic
	// link or kustomization base, must lie inside it. Empty: the working
	// directory.
	Root string
	// Recursive reads the subdirectories of directories too, as kubectl's
	// -R does.
	Recursive bool
	// Stdin is read for "-".
	Stdin io.Reader
	// Limits bound what is read; zero values take DefaultLimits.
	Limits Limits
	// Warn, when set, is told what kubectl would not read that a reviewer
	// may expect read: subdirectories without Recursive, files whose
	// extension differs from kubectl's only in case.
	Warn func(string)
}

// ReadPaths reads paths as Read does, with the process's standard input,
// from anywhere on the machine: for manifests gatehouse trusts (its own
// samples), never for a pull request's.
func ReadPaths(paths ...string) ([]Document, error) {
	return Read(Options{Root: string(filepath.Separator), Stdin: os.Stdin}, paths...)
}

// Read reads the objects of paths, in the order given, as `kubectl apply`
// reads them:
//   - Stdin ("-") reads opts.Stdin, at most once;
//   - a file is read whatever its name, except a kustomization file, which is
//     refused with the directory to give instead;
//   - a directory holding a kustomization is built with kustomize, as
//     `kubectl apply -k` builds it;
//   - any other directory has its files ending in .json, .yaml or .yml read
//     in lexical order, as `kubectl apply -f` reads it; its subdirectories
//     too with opts.Recursive (-R), which refuses a tree holding
//     kustomizations below it, naming the ones to build;
//   - a path that does not exist is a glob pattern, as kubectl reads it.
//
// Every document is decoded as kubectl's resource builder decodes it, lists
// unpacked (Parse). Nothing is read outside opts.Root, nothing remote is
// fetched, no command runs, and opts.Limits bound the input.
func Read(opts Options, paths ...string) ([]Document, error) {
	r, err := openRoot(opts.Root, opts.Limits)
	if err != nil {
		return nil, err
	}
	defer r.close()
	rd := reader{root: r, opts: opts}
	var docs []Document
	for _, p := range paths {
		d, err := rd.read(p)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d...)
		if err := r.countObjects(len(docs)); err != nil {
			return nil, err
		}
	}
	return docs, nil
}

// reader is one Read.
type reader struct {
	root      *root
	opts      Options
	stdinRead bool
}

func (rd *reader) warn(format string, args ...any) {
	if rd.opts.Warn != nil {
		rd.opts.Warn(fmt.Sprintf(format, args...))
	}
}

func (rd *reader) read(p string) ([]Document, error) {
	if p == Stdin {
		if rd.stdinRead {
			return nil, errors.New("- (standard input) is given twice: it can be read only once")
		}
		rd.stdinRead = true
		if rd.opts.Stdin == nil {
			return nil, errors.New("- (standard input) cannot be read here: give files or directories")
		}
		data, err := rd.root.take(rd.opts.Stdin, StdinName)
		if err != nil {
			return nil, err
		}
		if err := checkYAML(StdinName, data, rd.root.limits); err != nil {
			return nil, err
		}
		return Parse(StdinName, data)
	}
	if u, err := url.Parse(p); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return nil, fmt.Errorf("%s is a URL: gatehouse reads nothing remote (a reviewed change must not change after review): give the file", p)
	}
	real, err := rd.root.resolve(p)
	if errors.Is(err, fs.ErrNotExist) && strings.ContainsAny(p, "*?[") {
		return rd.glob(p)
	}
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(real)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", p, err)
	}
	if !info.IsDir() {
		if IsKustomization(p) {
			return nil, fmt.Errorf("%s is a kustomization, which is built rather than read: give its directory, -f %s", p, filepath.Dir(p))
		}
		data, err := rd.root.readFile(p, p)
		if err != nil {
			return nil, err
		}
		return Parse(p, data)
	}
	if kustomizationFile(real) != "" {
		return rd.root.build(p)
	}
	return rd.readDir(p)
}

// glob reads the files a pattern matches, as kubectl does when no file has
// the pattern's name.
func (rd *reader) glob(pattern string) ([]Document, error) {
	matches, err := filepath.Glob(pattern)
	if err != nil || len(matches) == 0 {
		return nil, fmt.Errorf("cannot read %s: no such file or directory", pattern)
	}
	var docs []Document
	for _, m := range matches {
		d, err := rd.read(m)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d...)
	}
	return docs, nil
}

// readDir reads the manifests of dir, which holds no kustomization itself,
// as kubectl's builder walks it: lexical order, only the extensions it
// reads, subdirectories only when recursive; a symbolic link is read as a
// file (kubectl opens it), and must not leave the root.
func (rd *reader) readDir(dir string) ([]Document, error) {
	var files, kustomized, skipped []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		below := filepath.Dir(path) != filepath.Clean(dir) && path != dir
		if e.IsDir() {
			if path != dir && !below && !rd.opts.Recursive {
				skipped = append(skipped, path)
			}
			return nil // walked for kustomizations, read only when recursive
		}
		switch {
		case IsKustomization(path):
			kustomized = append(kustomized, filepath.Dir(path))
		case below && !rd.opts.Recursive:
		case IsManifest(path):
			files = append(files, path)
		case isManifestFold(path):
			rd.warn("%s is not read: kubectl reads only files ending in .json, .yaml or .yml from a directory (the case matters)", path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot walk %s: %w", dir, err)
	}
	if len(kustomized) > 0 && (rd.opts.Recursive || len(files) == 0) {
		return nil, rd.kustomizationTreeError(dir, kustomized)
	}
	if len(skipped) > 0 {
		rd.warn("the subdirectories of %s are not read (%s): kubectl apply -f reads them only with -R, and so does gatehouse", dir, strings.Join(skipped, ", "))
	}
	var docs []Document
	for _, f := range files {
		data, err := rd.root.readFile(f, f)
		if err != nil {
			return nil, err
		}
		d, err := Parse(f, data)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d...)
		if err := rd.root.countObjects(len(docs)); err != nil {
			return nil, err
		}
	}
	return docs, nil
}

// kustomizationTreeError is the refusal of a directory that holds the
// kustomizations dirs below it: reading their files one by one would count
// a base once per overlay, or not at all, and read patches as objects. It
// names the entry points, the kustomizations no other one of the tree uses
// as a resource or component.
func (rd *reader) kustomizationTreeError(dir string, dirs []string) error {
	dirs = uniqueSorted(dirs)
	used := map[string]bool{}
	for _, d := range dirs {
		refs, err := rd.kustomizationRefs(d)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			used[filepath.Clean(filepath.Join(d, ref))] = true
		}
	}
	var entries []string
	for _, d := range dirs {
		if !used[filepath.Clean(d)] {
			entries = append(entries, "-f "+d)
		}
	}
	if len(entries) == 0 { // they all use one another: let kustomize say why
		for _, d := range dirs {
			entries = append(entries, "-f "+d)
		}
	}
	return fmt.Errorf("the directory %s holds kustomizations (%s): give the one to build with -f, e.g. %s",
		dir, strings.Join(dirs, ", "), strings.Join(entries, " or "))
}

// kustomizationRefs returns the resources and components the kustomization
// in dir lists, as kustomize reads them (deprecated bases included); none
// when it does not parse, which its build would report.
func (rd *reader) kustomizationRefs(dir string) ([]string, error) {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		data, err := rd.root.readFile(p, p) // in the root, within the limits
		if err != nil {
			return nil, err
		}
		var k kustypes.Kustomization
		if err := k.Unmarshal(data); err != nil {
			return nil, nil //nolint:nilerr // its build would report it
		}
		k.FixKustomization()
		return append(k.Resources, k.Components...), nil
	}
	return nil, nil
}

func uniqueSorted(xs []string) []string {
	sort.Strings(xs)
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}
