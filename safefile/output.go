package safefile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The output rule, shared by every command that writes: a command never writes over one of
// its inputs (nor into an input folder), never over something that is not a regular file,
// and never over a file it did not make. A file it made is recognised by its content (a
// gallery by its header, a model by its safetensors metadata, a PNG or a report page by the
// mark vgg writes into them), so running a command again replaces its own output. Anything
// else that exists is refused unless the user says --force; an input is refused even then.

// ErrExists says an output path holds a file vgg did not make; --force replaces it.
var ErrExists = errors.New("exists")

// ErrInput says an output path is one of the command's inputs or lies inside an input folder.
var ErrInput = errors.New("is an input of this command")

// Kind is a kind of file a command writes: Name says it in words ("gallery", "model"), and
// Made recognises, by content, an existing file of that kind that vgg wrote. A nil Made
// recognises nothing: any existing file needs --force.
type Kind struct {
	Name string
	Made func(path string) bool
}

// Input is a file or folder a command reads, named by how the user gave it ("--data").
type Input struct {
	Path string
	Flag string
}

// CheckOutput says whether a command may write the file at path (see the output rule): nil
// when path does not exist or is a kind-file vgg made, or exists and force is set; otherwise
// an error naming path and why, wrapping ErrInput or ErrExists.
func CheckOutput(path string, kind Kind, force bool, inputs ...Input) error {
	if err := CheckNotInput(path, inputs...); err != nil {
		return err
	}
	info, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if info.IsDir() {
		return fmt.Errorf("%s: is a folder; the %s is a file: give a file name (FOLDER/NAME)", path, kind.Name)
	}
	if kind.Made != nil && kind.Made(path) {
		return nil
	}
	if force {
		return nil
	}
	what := "another file"
	if err := CheckRegular(info.Mode()); err != nil {
		what = describe(info.Mode())
	}
	return fmt.Errorf("%s %w and is %s, not a %s vgg wrote; it is left alone: choose another name, or pass --force to replace it",
		path, ErrExists, what, kind.Name)
}

// CheckNotInput returns an error wrapping ErrInput when path is one of the inputs or lies
// inside one: the half of the output rule that holds for any place a command writes to, its
// outputs (CheckOutput) and folders of its own such as the framing cache alike.
func CheckNotInput(path string, inputs ...Input) error {
	for _, in := range inputs {
		if err := notInside(path, in); err != nil {
			return err
		}
	}
	return nil
}

// notInside returns an ErrInput error when path is the input or lies inside it. Both sides
// are compared as files (os.SameFile), so links and different spellings of a path are seen
// through; path itself need not exist.
func notInside(path string, in Input) error {
	inInfo, err := os.Stat(in.Path)
	if err != nil {
		return nil // a missing input is the reading side's error to give
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil
	}
	for p := abs; ; p = filepath.Dir(p) {
		if info, err := os.Stat(p); err == nil && os.SameFile(info, inInfo) {
			if p == abs {
				return fmt.Errorf("%s %w (%s %s): refusing to write over it", path, ErrInput, in.Flag, in.Path)
			}
			return fmt.Errorf("%s: %w: it is inside %s %s, and writing there would change what is read; write it elsewhere",
				path, ErrInput, in.Flag, in.Path)
		}
		if filepath.Dir(p) == p {
			return nil
		}
	}
}

// CheckOutputDir applies the output rule to a folder a command fills and may clear (vgg demo
// empties its photo folders): allowed when dir does not exist, is empty, or made recognises
// it as one the command filled before; otherwise an error wrapping ErrExists unless force.
// Inputs are checked as for CheckOutput.
func CheckOutputDir(dir, name string, made func(dir string) bool, force bool, inputs ...Input) error {
	if err := CheckNotInput(dir, inputs...); err != nil {
		return err
	}
	info, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("%s: is a file; the %s is a folder", dir, name)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if len(entries) == 0 || made(dir) || force {
		return nil
	}
	return fmt.Errorf("%s %w and holds files, but is not a %s vgg made; choose a new folder, or pass --force to use it (its contents may be replaced)",
		dir, ErrExists, name)
}
