package directory

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/ldap"
	"github.com/gatehouse-dev/gatehouse/internal/ldapdn"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// The bounds of the User fields the directory writes (user_types.go).
const (
	maxLogin           = 256
	maxDisplayName     = 256
	maxEmail           = 254
	maxDirectoryGroups = 1024
	maxGroupKey        = 1024
	maxPlanNames       = 10
)

var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)

// entry is one directory user as the sync wants its User to be.
type entry struct {
	Login       string
	DisplayName string
	Email       string
	Groups      []string // spec.directoryGroups: group DNs and names, sorted
	Profile     string   // "" for none
	Truncated   bool     // Groups was cut at maxDirectoryGroups
}

// toEntry maps a directory user to the User fields, within their bounds. It
// returns a reason when the user cannot be a User.
func toEntry(u *ldap.User, profiles profileChooser) (entry, string) {
	if len(u.Login) > maxLogin {
		return entry{}, fmt.Sprintf("its login is %d bytes long, longer than a User login may be (%d)", len(u.Login), maxLogin)
	}
	e := entry{Login: u.Login, DisplayName: truncate(u.DisplayName, maxDisplayName), Profile: profiles.choose(u.Groups)}
	if len(u.Email) <= maxEmail && emailPattern.MatchString(u.Email) {
		e.Email = u.Email
	}
	for _, k := range u.GroupKeys() {
		if len(k) <= maxGroupKey {
			e.Groups = append(e.Groups, k)
		}
	}
	if len(e.Groups) > maxDirectoryGroups {
		e.Groups, e.Truncated = e.Groups[:maxDirectoryGroups], true
	}
	return e, ""
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// profileChooser picks a user's profile from its directory groups.
type profileChooser struct {
	mappings []iamv1alpha1.ProfileMapping
	order    map[string]int // License profile → position
	def      string
}

func newProfileChooser(spec *iamv1alpha1.DirectorySpec, license *iamv1alpha1.License) profileChooser {
	c := profileChooser{mappings: spec.ProfileMappings, def: spec.DefaultProfile, order: map[string]int{}}
	if license != nil {
		for i, p := range license.Spec.Profiles {
			c.order[p.Name] = i
		}
	}
	return c
}

// choose returns the profile of the mappings whose group the user is a
// member of that comes first in the License (a profile the License does not
// list comes after those it does, in mapping order), else the default.
func (c profileChooser) choose(groups []ldap.GroupRef) string {
	best, bestRank := "", 0
	for i, m := range c.mappings {
		if !memberOf(groups, m.Group) {
			continue
		}
		rank := len(c.mappings) + i
		if pos, ok := c.order[m.Profile]; ok {
			rank = pos
		}
		if best == "" || rank < bestRank {
			best, bestRank = m.Profile, rank
		}
	}
	if best == "" {
		return c.def
	}
	return best
}

// memberOf reports whether one of groups is the group a mapping names, by
// DN (compared normalised) or by name (case-insensitively).
func memberOf(groups []ldap.GroupRef, group string) bool {
	n := ldapdn.Normalize(group)
	for _, g := range groups {
		if strings.EqualFold(g.Name, group) || ldapdn.Normalize(g.DN) == n {
			return true
		}
	}
	return false
}

// ownership is what the User's managed fields say about two fields whose
// owner decides what the sync may do with them.
type ownership struct {
	// ProfileOverridden: another field manager owns spec.profile and the
	// directory does not: an administrator's override, never written.
	ProfileOverridden bool
	// OwnsProfile: the directory owns spec.profile.
	OwnsProfile bool
	// OwnsActive: the directory owns spec.active (it deactivated the User).
	OwnsActive bool
	// ActiveManager is the field manager other than the directory that
	// owns spec.active ("" for none): an administrator who set it.
	ActiveManager string
}

// ownershipFunc reads the ownership of a User; resolve calls it only for
// Users whose cached state cannot tell whether a write is needed, and for
// the deactivations a sync really writes, never before the safety bound.
type ownershipFunc func(ctx context.Context, u *iamv1alpha1.User) (ownership, error)

// op is one write the plan makes.
type op struct {
	Name  string
	Login string
	// Current is the User as the cache has it; nil for a create.
	Current *iamv1alpha1.User
	// Want is what the User's directory fields become. For a deactivation
	// it holds the current values, so that the directory keeps owning them.
	Want entry
	// SetProfile: Want.Profile is written; otherwise spec.profile is left
	// out of the apply (an override, or no profile to give).
	SetProfile bool
	// Deactivate writes active: false.
	Deactivate bool
	// ActiveManager, on a resolved deactivation, is the field manager
	// (an administrator) that had set spec.active; "" for none.
	ActiveManager string
}

// candidate is a User of the directory whose cached state differs from
// its entry: whether it needs a write depends on who owns spec.profile and
// spec.active, which only its managed fields (not in the cache) tell.
type candidate struct {
	cur  *iamv1alpha1.User
	want entry
}

// plan is what one sync changes.
type plan struct {
	Creates     []op
	Updates     []op
	Deactivates []op
	Deletes     []op
	// Conflicts are directory logins whose User the directory does not
	// manage, as sentences, sorted.
	Conflicts []string
	// ConflictUsers are the names of those Users.
	ConflictUsers []string
	// Unknown are OnDemand logins the directory does not know, as
	// sentences, sorted.
	Unknown []string
	// Truncated counts users whose directory groups were cut.
	Truncated int
	// Active is how many of the directory's Users (synced before) are
	// active; Removals how many of those the plan deactivates or deletes.
	Active, Removals int
	// Found is how many directory users the plan is made from.
	Found int

	// candidates are the possible updates resolve decides; resolved says
	// whether it ran (for updates, and for deactivations).
	candidates                     []candidate
	resolvedUpdates, resolvedDeact bool
}

// empty reports whether the plan writes nothing.
func (p *plan) empty() bool {
	return len(p.Creates)+len(p.Updates)+len(p.Deactivates)+len(p.Deletes) == 0
}

// planInput is what a plan is made from.
type planInput struct {
	Directory *iamv1alpha1.Directory
	// Entries are the directory's users by lower-case login: every user in
	// All mode, the ones found in OnDemand mode.
	Entries map[string]entry
	// NotFound are the lower-case logins an OnDemand lookup did not find,
	// with the reason.
	NotFound map[string]string
	// Users are the namespace's Users.
	Users []iamv1alpha1.User
	// Ownership reads managed fields.
	Ownership ownershipFunc
}

// managedBy reports whether the User belongs to the directory: source LDAP
// with spec.directory naming it. Other Users are never written.
func managedBy(u *iamv1alpha1.User, dir string) bool {
	return u.Spec.Source == iamv1alpha1.UserSourceLDAP && u.Spec.Directory == dir
}

// synced reports whether the directory has written the User before.
func synced(u *iamv1alpha1.User, dir string) bool {
	return u.Labels[iamv1alpha1.LabelDirectory] == dir
}

// makePlan compares the directory with the Users and returns the writes
// that bring them in step, resolved (draftPlan, then resolve). It writes
// nothing.
func makePlan(ctx context.Context, in planInput) (*plan, error) {
	p := draftPlan(in)
	if err := p.resolve(ctx, in.Ownership, 1, true); err != nil {
		return nil, err
	}
	return p, nil
}

// draftPlan compares the directory with the Users in the cache, without a
// request to the API server: creates, deletes and deactivations are final
// but for the managed fields a deactivation keeps (resolve), updates are
// candidates. Its counts (Active, Removals, Found) are final, so the
// safety bound is decided on a draft. It writes nothing.
func draftPlan(in planInput) *plan {
	pl := newPlanner(in)
	// Present users: create or update.
	logins := make([]string, 0, len(in.Entries))
	for k := range in.Entries {
		logins = append(logins, k)
	}
	sort.Strings(logins)
	for _, k := range logins {
		pl.present(k, in.Entries[k])
	}
	// Users of the directory it no longer has.
	for i := range in.Users {
		cur := &in.Users[i]
		if !managedBy(cur, in.Directory.Name) {
			continue
		}
		if _, ok := in.Entries[strings.ToLower(cur.Spec.Login)]; ok {
			continue
		}
		pl.absent(cur)
	}
	p := pl.p
	sort.Strings(p.Conflicts)
	sort.Strings(p.ConflictUsers)
	sort.Strings(p.Unknown)
	return p
}

// resolve reads the ownership of the candidates (in parallel, at most
// parallel at a time) and makes the updates they need; with deactivations,
// also of the deactivations, to keep the profile the directory owns and to
// name an administrator's active: true. A dry run leaves deactivations
// out: it writes none.
func (p *plan) resolve(ctx context.Context, ownershipOf ownershipFunc, parallel int, deactivations bool) error {
	if !p.resolvedUpdates {
		ops := make([]*op, len(p.candidates))
		err := forEach(ctx, parallel, len(p.candidates), func(ctx context.Context, i int) error {
			c := p.candidates[i]
			own, err := ownershipOf(ctx, c.cur)
			if err != nil {
				return err
			}
			if o, ok := updateOp(c.cur, c.want, own); ok {
				ops[i] = &o
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, o := range ops {
			if o != nil {
				p.Updates = append(p.Updates, *o)
			}
		}
		p.candidates, p.resolvedUpdates = nil, true
	}
	if deactivations && !p.resolvedDeact {
		err := forEach(ctx, parallel, len(p.Deactivates), func(ctx context.Context, i int) error {
			o := &p.Deactivates[i]
			own, err := ownershipOf(ctx, o.Current)
			if err != nil {
				return err
			}
			o.SetProfile = own.OwnsProfile && o.Current.Spec.Profile != ""
			o.ActiveManager = own.ActiveManager
			return nil
		})
		if err != nil {
			return err
		}
		p.resolvedDeact = true
	}
	return nil
}

// forEach calls fn for 0..n-1, at most parallel at a time, and returns the
// first error (the others are not started once one failed).
func forEach(ctx context.Context, parallel, n int, fn func(context.Context, int) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, parallel))
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(ctx, i) })
	}
	return g.Wait()
}

// planner makes one plan.
type planner struct {
	in  planInput
	dir *iamv1alpha1.Directory
	p   *plan
	// byLogin and byName are the namespace's Users by lower-case login and
	// by name.
	byLogin, byName map[string]*iamv1alpha1.User
}

func newPlanner(in planInput) *planner {
	pl := &planner{in: in, dir: in.Directory, p: &plan{Found: len(in.Entries)},
		byLogin: make(map[string]*iamv1alpha1.User, len(in.Users)),
		byName:  make(map[string]*iamv1alpha1.User, len(in.Users))}
	for i := range in.Users {
		u := &in.Users[i]
		pl.byName[u.Name] = u
		k := strings.ToLower(u.Spec.Login)
		// Of two Users with one login (which admission should prevent),
		// the directory's own wins.
		if prev, ok := pl.byLogin[k]; !ok || (!managedBy(prev, pl.dir.Name) && managedBy(u, pl.dir.Name)) {
			pl.byLogin[k] = u
		}
	}
	return pl
}

// present plans the User of a directory user (lower-case login k): a
// create, an update, or a conflict with a User the directory does not
// manage.
func (pl *planner) present(k string, want entry) {
	p, dir := pl.p, pl.dir
	if want.Truncated {
		p.Truncated++
	}
	cur := pl.byLogin[k]
	if cur == nil {
		if dir.Spec.Provisioning == iamv1alpha1.ProvisioningOnDemand {
			return
		}
		name := UserName(want.Login)
		if other := pl.byName[name]; other != nil {
			p.conflict(other, fmt.Sprintf("login %q: User %s already exists with login %q", want.Login, name, other.Spec.Login))
			return
		}
		p.Creates = append(p.Creates, op{Name: name, Login: want.Login, Want: want, SetProfile: want.Profile != ""})
		return
	}
	if !managedBy(cur, dir.Name) {
		p.conflict(cur, fmt.Sprintf("login %q: User %s is %s", want.Login, cur.Name, describeOwner(cur)))
		return
	}
	if synced(cur, dir.Name) && cur.Spec.IsActive() {
		p.Active++
	}
	if mayNeedUpdate(cur, want) {
		p.candidates = append(p.candidates, candidate{cur: cur, want: want})
	}
}

// absent plans a User of the directory that the directory no longer has:
// unknown (never synced, or ambiguous), kept, deleted or deactivated, as
// spec.onRemoval says.
func (pl *planner) absent(cur *iamv1alpha1.User) {
	p, dir := pl.p, pl.dir
	k := strings.ToLower(cur.Spec.Login)
	if !synced(cur, dir.Name) {
		// Created for the directory by an administrator and never found
		// in it: say so, never remove.
		why := pl.in.NotFound[k]
		if why == "" {
			why = "the directory has no entry with this login"
		}
		p.Unknown = append(p.Unknown, fmt.Sprintf("User %s (login %q): %s", cur.Name, cur.Spec.Login, why))
		return
	}
	if why, ok := pl.in.NotFound[k]; ok && why != notFound {
		// Ambiguous: the directory cannot say who it is; leave it.
		p.Unknown = append(p.Unknown, fmt.Sprintf("User %s (login %q): %s", cur.Name, cur.Spec.Login, why))
		return
	}
	active := cur.Spec.IsActive()
	if active {
		p.Active++
	}
	switch dir.Spec.OnRemoval {
	case iamv1alpha1.RemovalKeep:
	case iamv1alpha1.RemovalDelete:
		p.Deletes = append(p.Deletes, op{Name: cur.Name, Login: cur.Spec.Login, Current: cur})
		if active {
			p.Removals++
		}
	default: // Deactivate
		if !active {
			return
		}
		// Whether the directory owns the profile it keeps is resolved
		// once the bound let the sync through.
		p.Deactivates = append(p.Deactivates, op{Name: cur.Name, Login: cur.Spec.Login, Current: cur, Deactivate: true,
			Want: currentEntry(cur)})
		p.Removals++
	}
}

// notFound is the NotFound reason of a login Lookup did not find.
const notFound = "the directory has no entry with this login"

func (p *plan) conflict(u *iamv1alpha1.User, msg string) {
	p.Conflicts = append(p.Conflicts, msg)
	p.ConflictUsers = append(p.ConflictUsers, u.Name)
}

func describeOwner(u *iamv1alpha1.User) string {
	if u.Spec.Source == iamv1alpha1.UserSourceLDAP {
		return fmt.Sprintf("managed by Directory %s", u.Spec.Directory)
	}
	return "a local User (source Local)"
}

// currentEntry is the directory fields of a User as they are.
func currentEntry(u *iamv1alpha1.User) entry {
	return entry{Login: u.Spec.Login, DisplayName: u.Spec.DisplayName, Email: u.Spec.Email,
		Groups: u.Spec.DirectoryGroups, Profile: u.Spec.Profile}
}

// mayNeedUpdate reports whether an existing User of the directory differs
// from its entry in the cache: its identity fields, its profile, or it is
// inactive. Only then may it need a write (updateOp decides).
func mayNeedUpdate(cur *iamv1alpha1.User, want entry) bool {
	return identityChanged(cur, want) || cur.Spec.Profile != want.Profile || !cur.Spec.IsActive()
}

func identityChanged(cur *iamv1alpha1.User, want entry) bool {
	return !synced(cur, cur.Spec.Directory) || cur.Spec.DisplayName != want.DisplayName || cur.Spec.Email != want.Email ||
		!sameSet(cur.Spec.DirectoryGroups, want.Groups)
}

// updateOp returns the update that brings an existing User of the directory
// in step with its entry, given who owns its spec.profile and spec.active,
// and false when none is needed.
func updateOp(cur *iamv1alpha1.User, want entry, own ownership) (op, bool) {
	want.Login = cur.Spec.Login // immutable: keep the User's spelling
	identity := identityChanged(cur, want)
	setProfile := !own.ProfileOverridden && (want.Profile != "" || own.OwnsProfile)
	profile := cur.Spec.Profile != want.Profile && setProfile
	// A User the directory deactivated and finds again is reactivated by
	// giving spec.active up; one an administrator deactivated stays so.
	reactivate := !cur.Spec.IsActive() && own.OwnsActive
	if !identity && !profile && !reactivate {
		return op{}, false
	}
	return op{Name: cur.Name, Login: cur.Spec.Login, Current: cur, Want: want, SetProfile: setProfile && want.Profile != ""}, true
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// bound is the outcome of the safety bound.
type bound struct {
	// Reason is "" when the plan may go ahead, else the condition reason.
	Reason string
	// Message says what would have happened and how to proceed.
	Message string
}

// checkBound applies the safety bound to a plan: more removals than
// maxDeactivationPercent of the directory's active Users, or a directory
// that returned no user while it has active Users, stops the sync.
func checkBound(dir *iamv1alpha1.Directory, p *plan) bound {
	pct := int32(20)
	if dir.Spec.MaxDeactivationPercent != nil {
		pct = *dir.Spec.MaxDeactivationPercent
	}
	proceed := fmt.Sprintf("If this is intended, let one sync through with: kubectl annotate directory %s -n %s %s=\"$(date +%%s)\" --overwrite; otherwise fix the directory or the spec (url, baseDN, filter).",
		dir.Name, dir.Namespace, iamv1alpha1.AnnotationAllowMassRemoval)
	if p.Found == 0 && p.Active > 0 {
		return bound{Reason: iamv1alpha1.ReasonEmptyDirectory, Message: fmt.Sprintf(
			"The directory returned no user, but %s from it; nothing was changed. %s", words.Count(p.Active, "active User comes", "active Users come"), proceed)}
	}
	if p.Removals == 0 || int64(p.Removals)*100 <= int64(pct)*int64(p.Active) {
		return bound{}
	}
	verb := "deactivate"
	if dir.Spec.OnRemoval == iamv1alpha1.RemovalDelete {
		verb = "delete"
	}
	return bound{Reason: iamv1alpha1.ReasonDeactivationLimit, Message: fmt.Sprintf(
		"The sync would %s %d of the directory's %s (%s), more than maxDeactivationPercent (%d %%); nothing was changed. The first: %s. %s",
		verb, p.Removals, words.Count(p.Active, "active User", "active Users"), words.Percent(p.Removals, p.Active), pct, strings.Join(firstNames(append(p.Deactivates, p.Deletes...)), ", "), proceed)}
}

// firstNames returns the sorted names of the first maxPlanNames ops.
func firstNames(ops []op) []string {
	names := make([]string, len(ops))
	for i, o := range ops {
		names[i] = o.Name
	}
	sort.Strings(names)
	if len(names) > maxPlanNames {
		names = names[:maxPlanNames]
	}
	return names
}

// summary is the plan for status.plan.
func (p *plan) summary() *iamv1alpha1.DirectoryPlan {
	return &iamv1alpha1.DirectoryPlan{
		Create: int32(len(p.Creates)), Update: int32(len(p.Updates)),
		Deactivate: int32(len(p.Deactivates)), Delete: int32(len(p.Deletes)),
		CreateNames: firstNames(p.Creates), UpdateNames: firstNames(p.Updates),
		DeactivateNames: firstNames(p.Deactivates), DeleteNames: firstNames(p.Deletes),
	}
}
