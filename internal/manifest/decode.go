package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/resource"
)

// Parse reads the objects of data, named file in errors, as `kubectl apply
// -f` reads a file: split into documents by kubectl's own decoder (a stream
// of JSON objects, or YAML documents separated by "---"), each decoded by
// kubectl's resource builder, which unpacks every document that holds a
// list of items (a List, or any kind carrying `items`) into its objects, as
// kubectl applies them. Empty and null documents are skipped. Errors name
// the file and the document and never quote the content.
func Parse(file string, data []byte) ([]Document, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var docs []Document
	for i := 1; ; i++ {
		var ext runtime.RawExtension
		if err := dec.Decode(&ext); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			return nil, fmt.Errorf("%s (document %d) is not valid YAML or JSON: %w", file, i, err)
		}
		raw := bytes.TrimSpace(ext.Raw)
		if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
			continue
		}
		d, err := decodeDocument(file, i, raw)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d...)
	}
}

// decodeDocument decodes one document's JSON with kubectl's resource
// builder (Flatten: lists unpacked, nested lists too).
func decodeDocument(file string, index int, raw []byte) ([]Document, error) {
	var head struct {
		APIVersion any `json:"apiVersion"`
		Kind       any `json:"kind"`
		// Items present (even null) makes a list of the document, as
		// kubectl's unstructured decoder detects one.
		Items json.RawMessage `json:"items"`
	}
	if err := utiljson.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("%s (document %d) is not a Kubernetes object: it is not a mapping", file, index)
	}
	if s, ok := head.Kind.(string); !ok || s == "" {
		return nil, fmt.Errorf("%s (document %d) is not a Kubernetes object: it has no kind", file, index)
	}
	if s, ok := head.APIVersion.(string); !ok || s == "" {
		return nil, fmt.Errorf("%s (document %d) is not a Kubernetes object: it has no apiVersion", file, index)
	}
	infos, err := resource.NewLocalBuilder().Unstructured().
		Stream(bytes.NewReader(raw), file).Flatten().Do().Infos()
	if err != nil {
		// The builder's messages quote the object; this one does not.
		return nil, fmt.Errorf("%s (document %d) is not a Kubernetes object that kubectl reads: an item of its list has no kind or apiVersion, or is not a mapping", file, index)
	}
	listed := head.Items != nil
	docs := make([]Document, 0, len(infos))
	for k, info := range infos {
		u, ok := info.Object.(*unstructured.Unstructured)
		if !ok || u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("%s (document %d) is not a Kubernetes object that kubectl reads: item %d has no kind or apiVersion", file, index, k+1)
		}
		d := Document{File: file, Index: index, Object: u}
		if listed {
			d.Item = k + 1
		}
		docs = append(docs, d)
	}
	return docs, nil
}
