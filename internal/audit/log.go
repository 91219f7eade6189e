package audit

import (
	"context"
	"io"
	"log/slog"
)

// Logger writes the audit log: one JSON object per line, one line per change
// of a user's effective permissions. It is safe for concurrent use.
type Logger struct {
	l *slog.Logger
}

// NewLogger writes JSON lines to w.
func NewLogger(w io.Writer) *Logger {
	return &Logger{l: slog.New(slog.NewJSONHandler(w, nil))}
}

// Discard is a Logger that writes nothing.
func Discard() *Logger { return NewLogger(io.Discard) }

// Record is the audit record of one user's change.
type Record struct {
	Namespace string `json:"namespace"`
	User      string `json:"user"`
	Login     string `json:"login"`
	// Cause names the changes that led to it, as "Share sales-team" or
	// "Group analysts deleted"; empty when not known (a resync).
	Cause []string `json:"cause,omitempty"`
	Change
}

// PermissionsChanged writes the record of one change. A Change with nothing
// in it writes nothing.
func (l *Logger) PermissionsChanged(ctx context.Context, r Record) {
	if r.Empty() {
		return
	}
	attrs := []slog.Attr{
		slog.String("audit", "PermissionsChanged"),
		slog.String("namespace", r.Namespace),
		slog.String("user", r.User),
		slog.String("login", r.Login),
	}
	if len(r.Gained) > 0 {
		attrs = append(attrs, slog.Any("added", r.Gained))
	}
	if len(r.Lost) > 0 {
		attrs = append(attrs, slog.Any("removed", r.Lost))
	}
	if len(r.GainedGlobal) > 0 {
		attrs = append(attrs, slog.Any("globalAdded", r.GainedGlobal))
	}
	if len(r.LostGlobal) > 0 {
		attrs = append(attrs, slog.Any("globalRemoved", r.LostGlobal))
	}
	if r.SeatChanged() {
		attrs = append(attrs, slog.String("seatBefore", string(r.SeatBefore)), slog.String("seatAfter", string(r.SeatAfter)))
	}
	if len(r.Cause) > 0 {
		attrs = append(attrs, slog.Any("cause", r.Cause))
	}
	l.l.LogAttrs(ctx, slog.LevelInfo, "permissions changed", attrs...)
}

// Exemption is an administrator identity's change admitted without the
// sharing, grant and seat rules.
type Exemption struct {
	Namespace string
	Kind      string
	Name      string
	Operation string
	Username  string
	Groups    []string
}

// AdmissionExempt records an exempt change.
func (l *Logger) AdmissionExempt(ctx context.Context, e Exemption) {
	l.l.LogAttrs(ctx, slog.LevelInfo, "administrator change admitted without the rules",
		slog.String("audit", "AdmissionExempt"),
		slog.String("namespace", e.Namespace),
		slog.String("kind", e.Kind),
		slog.String("name", e.Name),
		slog.String("operation", e.Operation),
		slog.String("username", e.Username),
		slog.Any("groups", e.Groups),
	)
}

// Unjudged is a Share or ResourceGrant whose spec changed while the
// operator was not there to judge it (its webhook is skipped for the
// break-glass group, and a break-glass change is made while the operator
// is down): generation moved past what the operator last saw.
type Unjudged struct {
	Namespace, Kind, Name string
	// Generation is the object's, ObservedGeneration the operator's last.
	Generation, ObservedGeneration int64
}

// ChangedWhileDown records, at start, one object changed while the
// operator was down. Who changed it is in the API server's audit log.
func (l *Logger) ChangedWhileDown(ctx context.Context, u Unjudged) {
	l.l.LogAttrs(ctx, slog.LevelWarn, "changed while the operator was down",
		slog.String("audit", "ChangedWhileDown"),
		slog.String("namespace", u.Namespace),
		slog.String("kind", u.Kind),
		slog.String("name", u.Name),
		slog.Int64("generation", u.Generation),
		slog.Int64("observedGeneration", u.ObservedGeneration),
	)
}
