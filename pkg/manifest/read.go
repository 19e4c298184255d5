package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ReadError is why a repository file was refused unread (or read only in
// part): it says what is wrong and how to fix it. A missing file unwraps
// to fs.ErrNotExist. ReadFile returns no other error type.
type ReadError struct {
	Path    string // repository-relative
	Message string
	Help    string
	Err     error
}

func (e *ReadError) Error() string { return e.Path + ": " + e.Message }
func (e *ReadError) Unwrap() error { return e.Err }

// ReadFile reads a repository-relative file under the loader's rules: the
// path stays inside the repository (no `..`, no symlink out), it names a
// regular file (never a FIFO or a device: opening one blocks or never
// ends), and it holds at most max bytes. Every file the gate reads from a
// repository goes through here.
func ReadFile(repo, rel string, max int64) ([]byte, error) {
	slash := filepath.ToSlash(filepath.Clean(rel))
	refuse := func(err error, help, format string, args ...any) error {
		return &ReadError{Path: slash, Message: fmt.Sprintf(format, args...), Help: help, Err: err}
	}
	const keepInside = "keep every file inside the repository as a regular file (no symlinks out, no `..`)"
	if !filepath.IsAbs(rel) && !escapes(filepath.Clean(rel)) {
		if _, err := os.Lstat(filepath.Join(repo, filepath.Clean(rel))); errors.Is(err, fs.ErrNotExist) {
			return nil, refuse(fs.ErrNotExist, "add the file, or remove what refers to it", "no such file")
		}
	}
	abs, err := Resolve(repo, rel)
	if err != nil {
		return nil, refuse(err, keepInside, "%v", err)
	}
	// stat before open: opening a FIFO or a device would block or never end
	if st, err := os.Stat(abs); err != nil || !st.Mode().IsRegular() {
		return nil, refuse(err, "make the file a readable regular file", "not a regular file")
	}
	fh, err := os.Open(abs)
	if err != nil {
		return nil, refuse(err, "make the file a readable regular file", "cannot read the file: %v", err)
	}
	defer fh.Close()
	// the file may have been swapped between Stat and Open: judge what was opened
	st, err := fh.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, refuse(err, "make the file a readable regular file", "not a regular file")
	}
	tooBig := "split the file or move large content (scripts, data) into an image"
	if st.Size() > max {
		return nil, refuse(nil, tooBig, "the file is %d bytes, over the %d-byte limit", st.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(fh, max+1))
	if err != nil {
		return nil, refuse(err, "make the file a readable regular file", "cannot read the file: %v", err)
	}
	if int64(len(data)) > max {
		return nil, refuse(nil, tooBig, "the file is over the %d-byte limit", max)
	}
	return data, nil
}

func escapes(clean string) bool {
	return clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator))
}
