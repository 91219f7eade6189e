package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/internal/manifest"
)

// DefaultMaxRevisionBytes is the default bound of the bytes of files
// ReadAtRevision reads at a revision (256 MiB).
const DefaultMaxRevisionBytes int64 = 256 << 20

// maxRevisionEntries bounds the files, links and submodules of the tree
// ReadAtRevision reads at a revision.
const maxRevisionEntries = 1_000_000

// maxLinkTarget bounds the target of a symbolic link (a path; Linux's
// PATH_MAX).
const maxLinkTarget = 4096

// Revision names the before side of a diff in git.
type Revision struct {
	// Rev is the revision: a commit, branch or tag.
	Rev string
	// Repo is a directory of the checkout of the git repository, e.g. its
	// top; "" is the working directory.
	Repo string
	// Bounds read each path at Rev (rooted at the export) and bound the
	// bytes of the files of the tree (--max-input-bytes).
	Bounds *Bounds
}

// RepositoryTop returns the top of the checkout of the git repository
// ReadAtRevision reads for repo ("" for the working directory's).
func RepositoryTop(repo string) (string, error) {
	r, err := findRepository(repo)
	if err != nil {
		return "", cli.UsageError(err)
	}
	return r.top, nil
}

// ReadAtRevision reads paths as they are at revision at.Rev of the git
// repository whose checkout holds the working directory, or at.Repo. Each
// path, relative to the working directory or absolute, must lie in that
// checkout once its symbolic links are resolved.
//
// It is meant for CI on a pull request, where everything in the checkout is
// the attacker's. The repository is found from the working directory or
// at.Repo only, never from the directories of the paths (a bare repository
// committed as files there would be git's choice), and with
// safe.bareRepository=explicit, so that such a repository fails instead of
// being taken. The tree at Rev is written whole into a temporary directory
// (kustomize bases outside the paths resolve) from git's plumbing, ls-tree
// and cat-file: files as git stores them, so that no filter, attribute or
// hook runs, and symbolic links as links, which the manifest reader judges.
// The bytes and entries of the tree are bounded.
//
// The documents are named as git names their files, REV:PATH (what `git
// show REV:PATH` prints). Every error is a usage error (exit code 2).
func ReadAtRevision(at Revision, paths []string) ([]manifest.Document, error) {
	maxBytes := at.Bounds.limits.InputBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxRevisionBytes
	}
	repo, err := findRepository(at.Repo)
	if err != nil {
		return nil, cli.UsageError(err)
	}
	rels := make([]string, len(paths))
	for i, p := range paths {
		if rels[i], err = repo.relative(p); err != nil {
			return nil, cli.UsageError(err)
		}
	}
	dir, err := os.MkdirTemp("", "gatehouse-rev-")
	if err != nil {
		return nil, fmt.Errorf("cannot create a directory for revision %s: %w", at.Rev, err)
	}
	defer os.RemoveAll(dir) //nolint:errcheck // a temporary directory; nothing to do if it stays
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real // kustomize names files by their real path
	}
	if err := repo.export(at.Rev, dir, maxBytes); err != nil {
		return nil, cli.UsageError(err)
	}
	rev, bounds := at.Rev, at.Bounds
	var docs []manifest.Document
	for i, p := range paths {
		at := filepath.Join(dir, rels[i])
		if _, err := os.Lstat(at); errors.Is(err, fs.ErrNotExist) {
			return nil, cli.UsageError(fmt.Errorf("%s did not exist at revision %s of the git repository %s: compare with a revision that has it, or give the before side with --before", p, rev, repo.top))
		}
		d, err := manifest.Read(bounds.Options(dir), at)
		if err != nil {
			return nil, cli.UsageError(errors.New(revisionName(err.Error(), dir, rev)))
		}
		for i := range d {
			d[i].File = revisionName(d[i].File, dir, rev)
		}
		docs = append(docs, d...)
	}
	return docs, nil
}

// revisionName rewrites the paths of the export dir of revision rev in s as
// git writes them, REV:PATH.
func revisionName(s, dir, rev string) string {
	s = strings.ReplaceAll(s, dir+string(filepath.Separator), rev+":")
	return strings.ReplaceAll(s, dir, rev+":")
}

// gitRepository is the git repository of a checkout: the top of its work
// tree (symbolic links resolved) and its git directory, which every command
// after the discovery names, so that git looks for no other.
type gitRepository struct {
	top, gitDir string
	// from says where the repository was found from, for messages.
	from string
}

// findRepository finds the git repository whose work tree holds dir, or
// the working directory for "".
func findRepository(dir string) (*gitRepository, error) {
	from := "the working directory"
	if dir != "" {
		from = "--repo " + dir
	}
	out, err := git(dir, "rev-parse", "--show-toplevel", "--absolute-git-dir")
	if err != nil {
		if dir != "" {
			return nil, fmt.Errorf("cannot find the git repository of --repo %s (%w): give a directory of the checkout, e.g. its top, or the before side with --before", dir, err)
		}
		wd, _ := os.Getwd()
		return nil, fmt.Errorf("cannot find the git repository of the working directory %s (%w): --before-rev reads the --after paths at a revision of the repository the working directory is in; run gatehouse in the checkout, name the checkout with --repo, or give the before side with --before", wd, err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || lines[0] == "" || lines[1] == "" {
		return nil, fmt.Errorf("git rev-parse --show-toplevel --absolute-git-dir in %s printed %q, not two lines: name the top of the checkout with --repo", from, out)
	}
	top, err := filepath.EvalSymlinks(filepath.FromSlash(lines[0]))
	if err != nil {
		return nil, fmt.Errorf("cannot read the top of the git repository found from %s: %w", from, err)
	}
	return &gitRepository{top: top, gitDir: filepath.FromSlash(lines[1]), from: from}, nil
}

// relative returns path, relative to the working directory or absolute,
// relative to the top of r, its symbolic links resolved; path must be in r.
func (r *gitRepository) relative(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, err)
	}
	rel, err := filepath.Rel(r.top, real)
	if err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%s is outside the git repository %s (found from %s): --before-rev reads the --after paths at a revision of that repository; give paths in it, run gatehouse in the checkout that holds them, or name that checkout with --repo", path, r.top, r.from)
	}
	return rel, nil
}

// export writes the tree of revision rev of r into dir: directories,
// files as git stores them (no filter or attribute applies), symbolic
// links as links, and an empty directory for a submodule. Nothing is
// written outside dir, whatever the names and links of the tree.
func (r *gitRepository) export(rev, dir string, maxBytes int64) error {
	out, err := r.git("rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return fmt.Errorf("unknown revision %q in the git repository %s: give a commit, branch or tag it has (a remote's branch may need a git fetch first)", rev, r.top)
	}
	commit := strings.TrimSpace(out)
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("cannot export revision %s of %s: %w", rev, r.top, err)
	}
	defer root.Close() //nolint:errcheck // closed after the writes, which report their own errors

	tree, err := r.start("ls-tree", "-r", "-z", "--full-tree", commit)
	if err != nil {
		return err
	}
	defer tree.stop()
	blobs, err := r.start("cat-file", "--batch")
	if err != nil {
		return err
	}
	defer blobs.stop()

	var entries int
	var total int64
	for {
		line, err := tree.stdout.ReadString(0)
		if errors.Is(err, io.EOF) && line == "" {
			break
		}
		if err != nil {
			return tree.failed(fmt.Errorf("cannot read the tree of revision %s of %s: %w", rev, r.top, err))
		}
		if entries++; entries > maxRevisionEntries {
			return fmt.Errorf("the tree of revision %s of the git repository %s has more than %d entries, the limit of --before-rev (it reads the whole tree): give the before side with --before", rev, r.top, maxRevisionEntries)
		}
		e, err := parseTreeEntry(strings.TrimSuffix(line, "\x00"))
		if err != nil {
			return err
		}
		name := filepath.FromSlash(e.path)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("the tree of revision %s of %s has an entry named %q, which is not a path in a directory: give a revision with a sound tree", rev, r.top, e.path)
		}
		switch e.kind {
		case "tree", "commit": // a submodule (commit) is left an empty directory
			err = root.MkdirAll(name, 0o700)
		case "blob":
			var size int64
			if size, err = blobs.blob(e.object); err != nil {
				return blobs.failed(fmt.Errorf("cannot read %q at revision %s of %s: %w", e.path, rev, r.top, err))
			}
			if total += size; total > maxBytes {
				return fmt.Errorf("the tree of revision %s of the git repository %s holds more than %s of files, the limit of --before-rev (it reads the whole tree): raise it with --max-input-bytes", rev, r.top, formatBytes(maxBytes))
			}
			if err = root.MkdirAll(filepath.Dir(name), 0o700); err == nil {
				err = writeEntry(root, name, e.mode == "120000", blobs.stdout, size)
			}
			if err == nil {
				err = blobs.endBlob()
			}
		default:
			return fmt.Errorf("the tree of revision %s of %s has an entry %q of type %q, which is neither a file, a directory nor a submodule: give a revision with a sound tree", rev, r.top, e.path, e.kind)
		}
		if err != nil {
			return fmt.Errorf("cannot write %q of revision %s of %s: %w", e.path, rev, r.top, err)
		}
	}
	if err := tree.wait(); err != nil {
		return fmt.Errorf("cannot read the tree of revision %s of %s: %w", rev, r.top, err)
	}
	if err := blobs.wait(); err != nil {
		return fmt.Errorf("cannot read the files of revision %s of %s: %w", rev, r.top, err)
	}
	return nil
}

// treeEntry is an entry of git ls-tree.
type treeEntry struct {
	mode, kind, object, path string
}

// parseTreeEntry parses an entry of git ls-tree -z: MODE TYPE OBJECT\tPATH.
func parseTreeEntry(s string) (treeEntry, error) {
	meta, path, ok := strings.Cut(s, "\t")
	f := strings.Split(meta, " ")
	if !ok || len(f) != 3 || path == "" || !isHex(f[2]) {
		return treeEntry{}, fmt.Errorf("git ls-tree printed %q, not an entry of a tree", s)
	}
	return treeEntry{mode: f[0], kind: f[1], object: f[2], path: path}, nil
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// writeEntry writes the size bytes of r as the file name in root, or as
// the target of the symbolic link name. It writes each name once: a second
// entry of the same name (a tree git would not write, or names equal on a
// file system that ignores case) is an error, not a write through the
// first.
func writeEntry(root *os.Root, name string, link bool, r io.Reader, size int64) error {
	if link {
		if size > maxLinkTarget {
			return fmt.Errorf("the target of the symbolic link has %d bytes, more than a path can have", size)
		}
		target := make([]byte, size)
		if _, err := io.ReadFull(r, target); err != nil {
			return err
		}
		return root.Symlink(string(target), name)
	}
	f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.CopyN(f, r, size)
	return errors.Join(err, f.Close())
}

// formatBytes writes n in MiB when it is a whole number of them.
func formatBytes(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// gitOptions come before every git command. The repository is the one
// named or found from the working directory, and a bare repository is
// taken only when named (--git-dir): one committed as files in a checkout
// is refused. Neither fsmonitor nor a hook runs, though no command here
// reads the index or runs a hook: a guard for later versions of git. No
// command takes a lock it can do without. The rest of the configuration
// (safe.directory, alternates) is the machine's own.
var gitOptions = []string{
	"-c", "safe.bareRepository=explicit",
	"-c", "core.fsmonitor=false",
	"-c", "core.hooksPath=" + os.DevNull,
	// No transport: a partial clone's missing blob fails rather than
	// being fetched (with GIT_NO_LAZY_FETCH for git 2.44 and later).
	"-c", "protocol.allow=never",
	"--no-optional-locks",
}

// gitCommand is git with gitOptions, the machine's environment and no
// lazy fetch or prompt.
func gitCommand(args ...string) *exec.Cmd {
	cmd := exec.Command("git", append(append([]string{}, gitOptions...), args...)...)
	cmd.Env = append(os.Environ(), "GIT_NO_LAZY_FETCH=1", "GIT_TERMINAL_PROMPT=0")
	return cmd
}

// git runs git in dir ("" for the working directory) and returns its
// standard output.
func git(dir string, args ...string) (string, error) {
	cmd := gitCommand(args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return "", gitStartError(err)
		}
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", errors.New(msg)
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return stdout.String(), nil
}

// git runs git on r's git directory.
func (r *gitRepository) git(args ...string) (string, error) {
	return git(r.top, append([]string{"--git-dir=" + r.gitDir}, args...)...)
}

// gitProcess is a git command of r that runs while its output is read.
type gitProcess struct {
	name   string // the git command, for messages
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr bytes.Buffer
	done   bool
}

// start starts git on r's git directory, its standard input and output
// pipes.
func (r *gitRepository) start(args ...string) (*gitProcess, error) {
	p := &gitProcess{name: args[0], cmd: gitCommand(append([]string{"--git-dir=" + r.gitDir}, args...)...)}
	p.cmd.Dir = r.top
	p.cmd.Stderr = &p.stderr
	stdin, err := p.cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("cannot run git %s: %w", p.name, err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("cannot run git %s: %w", p.name, err)
	}
	if err := p.cmd.Start(); err != nil {
		return nil, gitStartError(err)
	}
	p.stdin, p.stdout = stdin, bufio.NewReaderSize(stdout, 64<<10)
	return p, nil
}

// blob asks git cat-file --batch for the blob object and returns its size;
// its bytes follow on p.stdout, then endBlob.
func (p *gitProcess) blob(object string) (int64, error) {
	if _, err := io.WriteString(p.stdin, object+"\n"); err != nil {
		return 0, err
	}
	header, err := p.stdout.ReadString('\n')
	if err != nil {
		return 0, err
	}
	f := strings.Fields(header)
	if len(f) != 3 || f[0] != object || f[1] != "blob" {
		return 0, fmt.Errorf("git cat-file printed %q, not the header of the blob %s", header, object)
	}
	size, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || size < 0 {
		return 0, fmt.Errorf("git cat-file printed %q, not the header of the blob %s", header, object)
	}
	return size, nil
}

// endBlob reads the newline git cat-file --batch writes after an object.
func (p *gitProcess) endBlob() error {
	if b, err := p.stdout.ReadByte(); err != nil || b != '\n' {
		return fmt.Errorf("git cat-file wrote no newline after a blob (%v)", err)
	}
	return nil
}

// failed ends p and returns err, with what git wrote on its standard
// error.
func (p *gitProcess) failed(err error) error {
	p.stop()
	if msg := strings.TrimSpace(p.stderr.String()); msg != "" {
		return fmt.Errorf("%w (git %s: %s)", err, p.name, msg)
	}
	return err
}

// wait closes p's standard input and waits for it to end.
func (p *gitProcess) wait() error {
	if p.done {
		return nil
	}
	p.done = true
	_ = p.stdin.Close() // git reads to the end, then ends
	if err := p.cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if msg := strings.TrimSpace(p.stderr.String()); errors.As(err, &exit) && msg != "" {
			return fmt.Errorf("git %s failed: %s", p.name, msg)
		}
		return fmt.Errorf("git %s failed: %w", p.name, err)
	}
	return nil
}

// stop ends p if it still runs.
func (p *gitProcess) stop() {
	if !p.done {
		p.done = true
		_ = p.stdin.Close()
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

func gitStartError(err error) error {
	if errors.Is(err, exec.ErrNotFound) {
		return errors.New("--before-rev needs git, which is not in PATH: install it, or give the before side with --before")
	}
	return fmt.Errorf("cannot run git: %w", err)
}
