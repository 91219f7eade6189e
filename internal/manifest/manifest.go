// Package manifest reads Kubernetes manifests as `kubectl apply -f` would:
// files or directories (recursively), multi-document YAML or JSON.
package manifest

import (
	"bufio"
	"bytes"
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
	sigsyaml "sigs.k8s.io/yaml"
)

// Document is one object read from a manifest.
type Document struct {
	// File is the path the object was read from.
	File string
	// Index is the object's position among the documents of File, from 1.
	Index int
	// Object is the object as written.
	Object *unstructured.Unstructured
	// Namespace is the namespace a kustomization.yaml in the object's
	// directory (or above it, within the directory read) sets, as
	// `kubectl apply -k` would; empty if none does.
	Namespace string
}

// Source names the document for messages: "file.yaml (document 2, User demo/alice)".
func (d Document) Source() string {
	name := d.Object.GetName()
	if ns := d.Object.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	return fmt.Sprintf("%s (document %d, %s %s)", d.File, d.Index, d.Object.GetKind(), name)
}

// IsManifest reports whether a file name looks like a manifest. Kustomize's
// own files are not manifests.
func IsManifest(name string) bool {
	base := filepath.Base(name)
	if base == "kustomization.yaml" || base == "kustomization.yml" || base == "Kustomization" {
		return false
	}
	switch strings.ToLower(filepath.Ext(base)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// ReadPaths reads every manifest under paths. Directories are walked
// recursively in lexical order; a path that is a file is read whatever its
// name. Empty documents are skipped; a document without kind is an error
// that names the file.
func ReadPaths(paths ...string) ([]Document, error) {
	var docs []Document
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", p, err)
		}
		if !info.IsDir() {
			d, err := ReadFile(p)
			if err != nil {
				return nil, err
			}
			docs = append(docs, d...)
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !e.IsDir() && IsManifest(path) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cannot walk %s: %w", p, err)
		}
		sort.Strings(files)
		kustomized := map[string]string{}
		for _, f := range files {
			d, err := ReadFile(f)
			if err != nil {
				return nil, err
			}
			ns, err := kustomizationNamespace(p, filepath.Dir(f), kustomized)
			if err != nil {
				return nil, err
			}
			for i := range d {
				d[i].Namespace = ns
			}
			docs = append(docs, d...)
		}
	}
	return docs, nil
}

// ReadFile reads the documents of one file.
func ReadFile(path string) ([]Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse splits data into documents; file names them in errors.
func Parse(file string, data []byte) ([]Document, error) {
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
		obj := &unstructured.Unstructured{}
		jsonData, err := utilyaml.ToJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("%s (document %d) is not valid YAML: %w", file, i, err)
		}
		if string(bytes.TrimSpace(jsonData)) == "null" {
			continue
		}
		if err := obj.UnmarshalJSON(jsonData); err != nil {
			return nil, fmt.Errorf("%s (document %d) is not a Kubernetes object: %w", file, i, err)
		}
		docs = append(docs, Document{File: file, Index: i, Object: obj})
	}
}

// kustomizationNamespace returns the namespace the nearest kustomization file
// in dir or its parents, up to root, sets. Results are memoised in seen.
func kustomizationNamespace(root, dir string, seen map[string]string) (string, error) {
	if ns, ok := seen[dir]; ok {
		return ns, nil
	}
	ns := ""
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("cannot read %s: %w", path, err)
		}
		var k struct {
			Namespace string `json:"namespace"`
		}
		if err := sigsyaml.Unmarshal(data, &k); err != nil {
			return "", fmt.Errorf("%s is not valid YAML: %w", path, err)
		}
		ns = k.Namespace
		break
	}
	if ns == "" && filepath.Clean(dir) != filepath.Clean(root) && filepath.Dir(dir) != dir {
		var err error
		if ns, err = kustomizationNamespace(root, filepath.Dir(dir), seen); err != nil {
			return "", err
		}
	}
	seen[dir] = ns
	return ns, nil
}
