package v1alpha1

// Labels and field managers the operator uses.
const (
	// LabelConnection on a per-user credential Secret names its Connection.
	LabelConnection = "iam.gatehouse.dev/connection"
	// LabelUser on a per-user credential Secret names its User.
	LabelUser = "iam.gatehouse.dev/user"
	// LabelDirectory on a User names the Directory that provisioned it.
	LabelDirectory = "iam.gatehouse.dev/directory"
	// LabelCredentialFor marks a Secret, by its owner, for the use of one
	// Gatehouse object: "connection.<name>" or "directory.<name>". Gatehouse
	// reads, tests with, binds with or grants access to a Secret a
	// Connection or Directory names only when it is so marked for it; only
	// someone who may get the Secret may set the label.
	LabelCredentialFor = "iam.gatehouse.dev/credential-for"
	// AnnotationCreatedBy on a Connection names the Kubernetes user who
	// created it, when not an administrator (a personal connection). Set at
	// creation by its creator, checked by the webhook, and immutable: such a
	// user may change or delete only the Connections it created.
	AnnotationCreatedBy = "iam.gatehouse.dev/created-by"

	// FieldManagerDirectory is the server-side-apply field manager of the
	// Directory sync: it owns only the fields the directory provides.
	FieldManagerDirectory = "gatehouse-directory"
)
