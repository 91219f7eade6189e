package input

import (
	"archive/tar"
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

// ReadAtRevision reads paths as they are at git revision rev of the git
// repository that holds them. Each repository is exported whole at rev (git
// archive) into a temporary directory, so that kustomize bases outside the
// paths resolve, and each path is read at its place in the export. The
// documents are named as git names their files, REV:PATH (what `git show
// REV:PATH` prints). Every error is a usage error (exit code 2).
func ReadAtRevision(rev string, paths []string, b *Bounds) ([]manifest.Document, error) {
	tmp, err := os.MkdirTemp("", "gatehouse-rev-")
	if err != nil {
		return nil, fmt.Errorf("cannot create a directory for revision %s: %w", rev, err)
	}
	defer os.RemoveAll(tmp) //nolint:errcheck // a temporary directory; nothing to do if it stays
	if real, err := filepath.EvalSymlinks(tmp); err == nil {
		tmp = real // kustomize names files by their real path
	}
	exports := map[string]string{} // repository → its export at rev
	var docs []manifest.Document
	for _, p := range paths {
		top, rel, err := gitLocate(p)
		if err != nil {
			return nil, cli.UsageError(err)
		}
		dir, ok := exports[top]
		if !ok {
			dir = filepath.Join(tmp, strconv.Itoa(len(exports)))
			if err := gitExport(top, rev, dir); err != nil {
				return nil, cli.UsageError(err)
			}
			exports[top] = dir
		}
		at := filepath.Join(dir, rel)
		if _, err := os.Lstat(at); errors.Is(err, fs.ErrNotExist) {
			return nil, cli.UsageError(fmt.Errorf("%s did not exist at revision %s of the git repository %s: compare with a revision that has it, or give the before side with --before", p, rev, top))
		}
		d, err := manifest.Read(b.Options(dir), at)
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

// gitLocate returns the top directory of the git work tree that holds path,
// which must exist, and path relative to it.
func gitLocate(path string) (top, rel string, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", fmt.Errorf("cannot read %s: %w", path, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return "", "", fmt.Errorf("cannot read %s: %w", path, err)
	}
	dir, name := abs, ""
	if !info.IsDir() {
		dir, name = filepath.Dir(abs), filepath.Base(abs)
	}
	out, err := git(dir, "rev-parse", "--show-toplevel", "--show-prefix")
	if err != nil {
		return "", "", fmt.Errorf("%s is not in a git work tree (%w): --before-rev reads the --after paths from their git repository; give the before side with --before instead", path, err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2 {
		return "", "", fmt.Errorf("git rev-parse --show-toplevel --show-prefix in %s printed %q, not two lines", dir, out)
	}
	return filepath.FromSlash(lines[0]), filepath.Join(filepath.FromSlash(lines[1]), name), nil
}

// gitExport writes the tree of revision rev of the repository whose work
// tree is top into dir.
func gitExport(top, rev, dir string) error {
	commit, err := git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return fmt.Errorf("unknown revision %q in the git repository %s: give a commit, branch or tag it has (a remote's branch may need a git fetch first)", rev, top)
	}
	commit = strings.TrimSpace(commit)
	cmd := exec.Command("git", "-C", top, "archive", "--format=tar", commit)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("cannot run git archive: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return gitStartError(err)
	}
	untarErr := untar(stdout, dir)
	if untarErr != nil {
		_, _ = io.Copy(io.Discard, stdout) // let git finish
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git archive of revision %s in %s failed: %w: %s", rev, top, err, strings.TrimSpace(stderr.String()))
	}
	if untarErr != nil {
		return fmt.Errorf("cannot export revision %s of %s: %w", rev, top, untarErr)
	}
	return nil
}

// git runs git in dir and returns its standard output.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
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

func gitStartError(err error) error {
	if errors.Is(err, exec.ErrNotFound) {
		return errors.New("--before-rev needs git, which is not in PATH: install it, or give the before side with --before")
	}
	return fmt.Errorf("cannot run git: %w", err)
}

// untar writes the directories, files and symbolic links of a tar stream
// into dir; nothing is written outside dir, whatever the names and links.
func untar(r io.Reader, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close() //nolint:errcheck // read-only use after the writes below
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.FromSlash(strings.TrimSuffix(h.Name, "/"))
		switch h.Typeflag {
		case tar.TypeDir:
			err = root.MkdirAll(name, 0o700)
		case tar.TypeReg:
			if err = root.MkdirAll(filepath.Dir(name), 0o700); err == nil {
				err = writeFile(root, name, tr, h.Size)
			}
		case tar.TypeSymlink:
			if err = root.MkdirAll(filepath.Dir(name), 0o700); err == nil {
				err = root.Symlink(h.Linkname, name)
			}
		} // git archive's global header (the commit id) is not a file
		if err != nil {
			return fmt.Errorf("cannot write %s: %w", h.Name, err)
		}
	}
}

func writeFile(root *os.Root, name string, r io.Reader, size int64) error {
	f, err := root.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.CopyN(f, r, size)
	return errors.Join(err, f.Close())
}
