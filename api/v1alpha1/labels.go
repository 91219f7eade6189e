package v1alpha1

// Labels and field managers the operator uses.
const (
	// LabelConnection on a per-user credential Secret names its Connection.
	LabelConnection = "iam.gatehouse.dev/connection"
	// LabelUser on a per-user credential Secret names its User.
	LabelUser = "iam.gatehouse.dev/user"
	// LabelDirectory on a User names the Directory that provisioned it.
	LabelDirectory = "iam.gatehouse.dev/directory"

	// FieldManagerDirectory is the server-side-apply field manager of the
	// Directory sync: it owns only the fields the directory provides.
	FieldManagerDirectory = "gatehouse-directory"
)
