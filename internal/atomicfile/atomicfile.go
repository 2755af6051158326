// Package atomicfile writes files crash-consistently: the data goes to a
// temporary file in the target's directory, which is synced, renamed over
// the target, and the directory is synced (google/renameio semantics). A
// reader sees either the old or the new content, never a torn file; a
// failed write leaves the old file untouched.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
)

// Write replaces path with data, creating it with perm when it does not
// exist (an existing file's mode is not preserved; perm applies).
func Write(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(name, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	// Some file systems do not support syncing a directory; the rename is
	// still atomic there.
	if serr != nil && !errors.Is(serr, os.ErrInvalid) && !isNotSupported(serr) {
		return serr
	}
	return cerr
}
