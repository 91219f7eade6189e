// Package crdvalidate judges a custom resource offline as the kube-apiserver
// judges it on create: from the CustomResourceDefinition alone, with the API
// server's own libraries (k8s.io/apiextensions-apiserver), in the order the
// server runs them:
//
//   - decoding: unknown fields pruned (and reported, as strict field
//     validation reports them), nulls of non-nullable fields dropped,
//     metadata coerced;
//   - defaulting from the schema's defaults;
//   - PrepareForCreate: status dropped when the status subresource is on,
//     generation set to 1;
//   - validation: type meta, object meta (the name a DNS-1123 subdomain),
//     the OpenAPI schema, embedded resources, list-type invariants, then the
//     CEL x-kubernetes-validations rules with the per-request cost budget
//     (transition rules, which need oldSelf, do not run on create), then
//     the generic object-meta checks.
//
// It does not do what needs a cluster: admission (webhooks, namespace
// lifecycle), name conflicts, conversion webhooks.
package crdvalidate

import (
	"context"
	"fmt"
	"sort"
	"sync"

	apiextensionshelpers "k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/operation"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
)

// Result is what the API server would make of one create.
type Result struct {
	// Object is the object as the API server would store it: unknown
	// fields pruned, defaults applied, status dropped. It is set even when
	// Errors is not empty.
	Object *unstructured.Unstructured
	// UnknownFields are the paths of fields the schema does not know, as
	// strict field validation (kubectl's default) reports them; under the
	// server's lenient default they are dropped with a warning.
	UnknownFields []string
	// Errors are the causes the API server would refuse the object with;
	// empty means it would accept it.
	Errors field.ErrorList
}

// Err returns the error `kubectl create` (strict field validation) would
// get: a BadRequest for unknown fields, else an Invalid error worded as the
// API server words it, else nil.
func (r *Result) Err() error {
	gvk := r.Object.GroupVersionKind()
	if len(r.UnknownFields) > 0 {
		errs := make([]error, len(r.UnknownFields))
		for i, p := range r.UnknownFields {
			errs[i] = fmt.Errorf("unknown field %q", p)
		}
		return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v",
			gvk.Kind, gvk.Version, gvk.Kind, runtime.NewStrictDecodingError(errs)))
	}
	if len(r.Errors) > 0 {
		return apierrors.NewInvalid(gvk.GroupKind(), r.Object.GetName(), r.Errors)
	}
	return nil
}

// Validator judges objects of the kinds of a set of CRDs. It is safe for
// concurrent use. The schema and CEL programs of a kind are built on its
// first object and kept.
type Validator struct {
	kinds map[schema.GroupVersionKind]*lazyKind
}

type lazyKind struct {
	crd     *apiextensionsv1.CustomResourceDefinition
	version string
	once    sync.Once
	kind    *kind
	err     error
}

// kind is what the API server builds per served version of a CRD.
type kind struct {
	gvk             schema.GroupVersionKind
	namespaced      bool
	structural      *structuralschema.Structural
	schemaValidator apiservervalidation.SchemaValidator
	celValidator    *cel.Validator
	hasStatus       bool
}

// New returns a Validator for the served versions of crds.
func New(crds []*apiextensionsv1.CustomResourceDefinition) *Validator {
	v := &Validator{kinds: map[schema.GroupVersionKind]*lazyKind{}}
	for _, crd := range crds {
		for _, ver := range crd.Spec.Versions {
			if !ver.Served {
				continue
			}
			gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: ver.Name, Kind: crd.Spec.Names.Kind}
			v.kinds[gvk] = &lazyKind{crd: crd, version: ver.Name}
		}
	}
	return v
}

// Kinds returns the kinds the Validator knows, sorted.
func (v *Validator) Kinds() []schema.GroupVersionKind {
	out := make([]schema.GroupVersionKind, 0, len(v.kinds))
	for gvk := range v.kinds {
		out = append(out, gvk)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// Create judges obj as the API server judges a create of it. obj is not
// changed. The namespace must be set on a namespaced object, as the request
// path sets it on the server. The error is for what stops before
// validation: a kind the CRDs do not define, a CRD the server would not
// serve, malformed metadata.
func (v *Validator) Create(obj *unstructured.Unstructured) (*Result, error) {
	gvk := obj.GroupVersionKind()
	lk, ok := v.kinds[gvk]
	if !ok {
		return nil, fmt.Errorf("no CustomResourceDefinition serves %s", gvk)
	}
	lk.once.Do(func() { lk.kind, lk.err = newKind(lk.crd, lk.version) })
	if lk.err != nil {
		return nil, lk.err
	}
	return lk.kind.create(obj)
}

// newKind builds the structural schema, the OpenAPI schema validator and the
// CEL validator of one version of crd, as the API server's CRD handler does
// when it starts serving it.
func newKind(crd *apiextensionsv1.CustomResourceDefinition, version string) (*kind, error) {
	k := &kind{
		gvk:        schema.GroupVersionKind{Group: crd.Spec.Group, Version: version, Kind: crd.Spec.Names.Kind},
		namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
	}
	if crd.Spec.PreserveUnknownFields {
		return nil, fmt.Errorf("CustomResourceDefinition %s preserves unknown fields: only structural schemas are supported", crd.Name)
	}
	subresources, err := apiextensionshelpers.GetSubresourcesForVersion(crd, version)
	if err != nil {
		return nil, fmt.Errorf("CustomResourceDefinition %s: %w", crd.Name, err)
	}
	if subresources != nil {
		// The scale subresource adds checks this package does not
		// repeat; no Gatehouse kind has it.
		if subresources.Scale != nil {
			return nil, fmt.Errorf("CustomResourceDefinition %s has a scale subresource, which is not supported", crd.Name)
		}
		k.hasStatus = subresources.Status != nil
	}
	val, err := apiextensionshelpers.GetSchemaForVersion(crd, version)
	if err != nil {
		return nil, fmt.Errorf("CustomResourceDefinition %s: %w", crd.Name, err)
	}
	if val == nil || val.OpenAPIV3Schema == nil {
		return nil, fmt.Errorf("CustomResourceDefinition %s has no schema for %s", crd.Name, version)
	}
	internal := &apiextensionsinternal.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(val, internal, nil); err != nil {
		return nil, fmt.Errorf("CustomResourceDefinition %s: cannot convert the schema of %s: %w", crd.Name, version, err)
	}
	s, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("CustomResourceDefinition %s: the schema of %s is not structural: %w", crd.Name, version, err)
	}
	// As the server does: the structural schema is not owned (defaults
	// are shared), so copy it before pruning its defaults.
	s = s.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(s); err != nil {
		return nil, fmt.Errorf("CustomResourceDefinition %s: cannot prune the defaults of %s: %w", crd.Name, version, err)
	}
	k.structural = s
	k.schemaValidator, _, err = apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("CustomResourceDefinition %s: cannot build the schema validator of %s: %w", crd.Name, version, err)
	}
	k.celValidator = cel.NewValidator(s, true, celconfig.PerCallLimit)
	return k, nil
}

func (k *kind) create(in *unstructured.Unstructured) (*Result, error) {
	// What the server decodes from the request body: a copy with JSON's
	// types (int64 and float64 numbers, no Go structs).
	data, err := in.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("cannot encode %s %s: %w", k.gvk.Kind, in.GetName(), err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("cannot decode %s %s: %w", k.gvk.Kind, in.GetName(), err)
	}
	res := &Result{Object: u}
	if res.UnknownFields, err = k.coerce(u); err != nil {
		return nil, fmt.Errorf("%s in version %q cannot be handled as a %s: %w", k.gvk.Kind, k.gvk.Version, k.gvk.Kind, err)
	}
	structuraldefaulting.Default(u.Object, k.structural)

	// PrepareForCreate.
	if k.hasStatus {
		delete(u.Object, "status")
	}
	u.SetGeneration(1)

	res.Errors = k.validate(u)
	return res, nil
}

// coerce is the API server's unstructuredSchemaCoercer on a request body:
// it prunes unknown fields and returns their paths, drops nulls that the
// schema does not allow, and normalises metadata.
func (k *kind) coerce(u *unstructured.Unstructured) ([]string, error) {
	kindName, foundKind, err := unstructured.NestedString(u.Object, "kind")
	if err != nil {
		return nil, err
	}
	apiVersion, foundAPIVersion, err := unstructured.NestedString(u.Object, "apiVersion")
	if err != nil {
		return nil, err
	}
	objectMeta, foundObjectMeta, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(u.Object, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return nil, err
	}
	unknown = append(unknown, structuralpruning.PruneWithOptions(u.Object, k.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u.Object, k.structural)
	ferr, paths := schemaobjectmeta.CoerceWithOptions(nil, u.Object, k.structural, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	if ferr != nil {
		return nil, ferr
	}
	unknown = append(unknown, paths...)
	if foundKind {
		u.SetKind(kindName)
	}
	if foundAPIVersion {
		u.SetAPIVersion(apiVersion)
	}
	if foundObjectMeta {
		if err := schemaobjectmeta.SetObjectMeta(u.Object, objectMeta); err != nil {
			return nil, err
		}
	}
	return unknown, nil
}

// validate is the custom resource strategy's Validate followed by the
// generic object-meta checks of rest.ValidateCreate.
func (k *kind) validate(u *unstructured.Unstructured) field.ErrorList {
	ctx := context.Background()
	errs := k.validateTypeMeta(u)
	if len(errs) == 0 {
		if meta, metaErrs := objectMeta(u); len(metaErrs) > 0 {
			errs = append(errs, metaErrs...)
		} else {
			errs = append(errs, metavalidation.ValidateObjectMetaDeclaratively(ctx, operation.Create, meta, nil, k.namespaced,
				metavalidation.NameIsDNSSubdomain, field.NewPath("metadata"), utilfeature.DefaultFeatureGate.Enabled(features.DeclarativeValidationBeta))...)
		}
		errs = append(errs, apiservervalidation.ValidateCustomResource(nil, u.Object, k.schemaValidator)...)
	}
	errs = append(errs, schemaobjectmeta.Validate(ctx, nil, u.Object, k.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, k.structural, u.Object)...)
	if k.celValidator != nil {
		if blocking := blockingError(errs); blocking != nil {
			errs = append(errs, blocking)
		} else {
			celErrs, _ := k.celValidator.Validate(ctx, nil, k.structural, u.Object, nil, celconfig.RuntimeCELCostBudget)
			errs = append(errs, celErrs...)
		}
	}
	if len(errs) == 0 {
		errs = metavalidation.ValidateObjectMetaAccessor(u, k.namespaced, pathSegment, field.NewPath("metadata"))
	}
	return errs
}

func (k *kind) validateTypeMeta(u *unstructured.Unstructured) field.ErrorList {
	var errs field.ErrorList
	if u.GetKind() != k.gvk.Kind {
		errs = append(errs, field.Invalid(field.NewPath("kind"), u.GetKind(), fmt.Sprintf("must be %v", k.gvk.Kind)))
	}
	if want := k.gvk.GroupVersion().String(); u.GetAPIVersion() != want {
		errs = append(errs, field.Invalid(field.NewPath("apiVersion"), u.GetAPIVersion(), fmt.Sprintf("must be %v", want)))
	}
	return errs
}

// objectMeta reads metadata as the custom resource validator does.
func objectMeta(u *unstructured.Unstructured) (*metav1.ObjectMeta, field.ErrorList) {
	raw := u.Object["metadata"]
	if raw == nil {
		return &metav1.ObjectMeta{}, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, field.ErrorList{field.Invalid(field.NewPath("metadata"), raw, fmt.Sprintf("expected map[string]interface{}, got %T", raw))}
	}
	meta := &metav1.ObjectMeta{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, meta); err != nil {
		return nil, field.ErrorList{field.Invalid(field.NewPath("metadata"), raw, err.Error())}
	}
	return meta, nil
}

// blockingError is the custom resource strategy's rule: CEL rules do not
// run on an object whose values have the wrong type, size or presence,
// because they may assume them.
func blockingError(errs field.ErrorList) *field.Error {
	for _, err := range errs {
		switch err.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return nil
}

// pathSegment is the name check every stored object gets (rest.ValidateCreate):
// the name must be usable in a URL path.
func pathSegment(name string, prefix bool) []string {
	if prefix {
		return content.IsPathSegmentPrefix(name)
	}
	return content.IsPathSegmentName(name)
}
