// Package manifest reads Kubernetes manifests as kubectl would: files or
// directories (recursively) as `kubectl apply -f` reads them, multi-document
// YAML or JSON, standard input (`-f -`), and a directory holding a
// kustomization as `kubectl apply -k` reads it: built with kustomize itself.
package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
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
	if d.Built {
		return fmt.Sprintf("%s (kustomize build, %s %s)", d.File, d.Object.GetKind(), name)
	}
	return fmt.Sprintf("%s (document %d, %s %s)", d.File, d.Index, d.Object.GetKind(), name)
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

// IsManifest reports whether a file name looks like a manifest. Kustomize's
// own files are not manifests.
func IsManifest(name string) bool {
	if IsKustomization(name) {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// ReadPaths reads paths as Read does, with the process's standard input.
func ReadPaths(paths ...string) ([]Document, error) {
	return Read(os.Stdin, paths...)
}

// Read reads the objects of paths, in the order given:
//   - Stdin ("-") reads stdin, at most once;
//   - a file is read whatever its name, except a kustomization file, which is
//     refused with the directory to give instead;
//   - a directory holding a kustomization is built with kustomize, as
//     `kustomize build` and `kubectl apply -k` build it;
//   - any other directory is walked recursively in lexical order and its
//     manifests (IsManifest) are read, as `kubectl apply -R -f` would; one
//     that holds kustomizations below it is refused, naming the ones to
//     build, since their files are bases, overlays and patches rather than
//     objects.
//
// Empty documents are skipped; a document without kind is an error that
// names the file.
func Read(stdin io.Reader, paths ...string) ([]Document, error) {
	var docs []Document
	stdinRead := false
	for _, p := range paths {
		var d []Document
		var err error
		if p == Stdin {
			if stdinRead {
				return nil, errors.New("- (standard input) is given twice: it can be read only once")
			}
			stdinRead = true
			d, err = readStdin(stdin)
		} else {
			d, err = readPath(p)
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, d...)
	}
	return docs, nil
}

func readStdin(stdin io.Reader) ([]Document, error) {
	if stdin == nil {
		return nil, errors.New("- (standard input) cannot be read here: give files or directories")
	}
	data, err := io.ReadAll(stdin)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", StdinName, err)
	}
	return Parse(StdinName, data)
}

func readPath(p string) ([]Document, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", p, err)
	}
	if !info.IsDir() {
		if IsKustomization(p) {
			return nil, fmt.Errorf("%s is a kustomization, which is built rather than read: give its directory, -f %s", p, filepath.Dir(p))
		}
		return ReadFile(p)
	}
	k, err := hasKustomization(p)
	if err != nil {
		return nil, err
	}
	if k {
		return Build(p)
	}
	return readTree(p)
}

// hasKustomization reports whether dir holds a kustomization file.
func hasKustomization(dir string) (bool, error) {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		_, err := os.Stat(filepath.Join(dir, name))
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("cannot read %s: %w", filepath.Join(dir, name), err)
		}
	}
	return false, nil
}

// Build builds the kustomization in dir with kustomize, with the options
// `kustomize build` and `kubectl apply -k` use by default (files only from
// within the kustomization root or its bases, no plugins), from the files on
// disk.
func Build(dir string) ([]Document, error) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize cannot build the kustomization in %s: %w", dir, err)
	}
	docs := make([]Document, 0, m.Size())
	for i, r := range m.Resources() {
		data, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("cannot encode object %d of the kustomize build of %s: %w", i+1, dir, err)
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("object %d of the kustomize build of %s is not a Kubernetes object: %w", i+1, dir, err)
		}
		docs = append(docs, Document{File: dir, Index: i + 1, Built: true, Object: obj})
	}
	return docs, nil
}

// readTree reads the manifests under dir, which holds no kustomization
// itself; it refuses a tree that holds kustomizations further down.
func readTree(dir string) ([]Document, error) {
	var files, kustomized []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case e.IsDir():
		case IsKustomization(path):
			kustomized = append(kustomized, filepath.Dir(path))
		case IsManifest(path):
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot walk %s: %w", dir, err)
	}
	if len(kustomized) > 0 {
		return nil, kustomizationTreeError(dir, kustomized)
	}
	sort.Strings(files)
	var docs []Document
	for _, f := range files {
		d, err := ReadFile(f)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d...)
	}
	return docs, nil
}

// kustomizationTreeError is the refusal of a directory that holds the
// kustomizations dirs below it: reading their files one by one would count
// a base once per overlay, or not at all, and read patches as objects. It
// names the entry points, the kustomizations no other one of the tree uses
// as a resource or component.
func kustomizationTreeError(dir string, dirs []string) error {
	dirs = uniqueSorted(dirs)
	used := map[string]bool{}
	for _, d := range dirs {
		for _, ref := range kustomizationRefs(d) {
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
// when it cannot be read, which its build would report.
func kustomizationRefs(dir string) []string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		var k kustypes.Kustomization
		if err := k.Unmarshal(data); err != nil {
			return nil
		}
		k.FixKustomization()
		return append(k.Resources, k.Components...)
	}
	return nil
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

// ReadFile reads the documents of one file.
func ReadFile(path string) ([]Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse splits data into documents: a stream of JSON objects, or YAML
// documents separated by "---" (each YAML or JSON); file names them in
// errors.
func Parse(file string, data []byte) ([]Document, error) {
	if docs, ok, err := parseJSONStream(file, data); ok {
		return docs, err
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs []Document
	for i := 1; ; i++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s (document %d) is not valid YAML: %w", file, i, err)
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		jsonData, err := utilyaml.ToJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("%s (document %d) is not valid YAML: %w", file, i, err)
		}
		d, err := parseObject(file, i, jsonData)
		if err != nil {
			return nil, err
		}
		if d != nil {
			docs = append(docs, *d)
		}
	}
}

// parseJSONStream reads data as a stream of JSON values (`kubectl get -o
// json` outputs concatenated, or one JSON file); ok is false when data is
// not such a stream, which may still be YAML documents (JSON ones among
// them) separated by "---".
func parseJSONStream(file string, data []byte) (docs []Document, ok bool, err error) {
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return nil, false, nil
	}
	var raws []json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, false, nil
		}
		raws = append(raws, raw)
	}
	for i, raw := range raws {
		d, err := parseObject(file, i+1, raw)
		if err != nil {
			return nil, true, err
		}
		if d != nil {
			docs = append(docs, *d)
		}
	}
	return docs, true, nil
}

// parseObject decodes document index of file; a null document is nil.
func parseObject(file string, index int, jsonData []byte) (*Document, error) {
	if string(bytes.TrimSpace(jsonData)) == "null" {
		return nil, nil
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(jsonData); err != nil {
		return nil, fmt.Errorf("%s (document %d) is not a Kubernetes object: %w", file, index, err)
	}
	return &Document{File: file, Index: index, Object: obj}, nil
}
