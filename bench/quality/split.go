package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// splitOptions fix the split (see the package comment).
type splitOptions struct {
	// people is how many of the trained people to keep (0: all); unseenEvery keeps every
	// this-many-th person out of training (0: none); heldOut is the share of each trained
	// person's photos never trained on.
	people, unseenEvery int
	heldOut             float64
}

// split maps each person to their photos' paths, in three parts.
type split struct {
	train, heldOut, unseen map[string][]string
}

// makeSplit splits the photo folder root (root/<person>/<photo>): people sorted by name, every
// unseenEvery-th kept unseen; the first o.people of the others trained on, the last o.heldOut
// share of each one's photos (sorted by name, at least one, but never all) held out.
func makeSplit(root string, o splitOptions) (split, error) {
	sp := split{train: map[string][]string{}, heldOut: map[string][]string{}, unseen: map[string][]string{}}
	if o.heldOut <= 0 || o.heldOut >= 1 {
		return sp, fmt.Errorf("--held-out %g: want a share between 0 and 1", o.heldOut)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return sp, err
	}
	var people []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			people = append(people, e.Name())
		}
	}
	slices.Sort(people)
	trained := 0
	for i, person := range people {
		photos, err := photosOf(filepath.Join(root, person))
		if err != nil {
			return sp, err
		}
		if len(photos) == 0 {
			continue
		}
		if o.unseenEvery > 0 && (i+1)%o.unseenEvery == 0 {
			sp.unseen[person] = photos
			continue
		}
		if o.people > 0 && trained == o.people {
			continue
		}
		if len(photos) < 2 {
			return sp, fmt.Errorf("%s: %d photo: a trained person needs photos to train on and to hold out", filepath.Join(root, person), len(photos))
		}
		held := min(max(1, int(math.Round(o.heldOut*float64(len(photos))))), len(photos)-1)
		sp.train[person], sp.heldOut[person] = photos[:len(photos)-held], photos[len(photos)-held:]
		trained++
	}
	if len(sp.train) < 2 {
		return sp, fmt.Errorf("%s: %d people to train on; want at least 2", root, len(sp.train))
	}
	return sp, nil
}

// photosOf lists the files of one person's folder, sorted by name, as absolute paths.
func photosOf(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var photos []string
	for _, e := range entries {
		if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
			if !strings.HasPrefix(e.Name(), ".") {
				photos = append(photos, filepath.Join(abs, e.Name()))
			}
		}
	}
	slices.Sort(photos)
	return photos, nil
}

// link writes the split as three folders of links under work: train, held-out and unseen
// (unseen is "" when no one is kept unseen).
func (sp split) link(work string) (splitDirs, error) {
	dirs := splitDirs{train: filepath.Join(work, "train"), heldOut: filepath.Join(work, "held-out")}
	parts := []struct {
		dir    string
		photos map[string][]string
	}{{dirs.train, sp.train}, {dirs.heldOut, sp.heldOut}}
	if len(sp.unseen) > 0 {
		dirs.unseen = filepath.Join(work, "unseen")
		parts = append(parts, struct {
			dir    string
			photos map[string][]string
		}{dirs.unseen, sp.unseen})
	}
	for _, part := range parts {
		if _, err := os.Stat(part.dir); err == nil {
			return dirs, fmt.Errorf("%s exists already: give --work a new folder", part.dir)
		}
		for person, photos := range part.photos {
			if err := os.MkdirAll(filepath.Join(part.dir, person), 0o755); err != nil {
				return dirs, err
			}
			for _, photo := range photos {
				if err := os.Symlink(photo, filepath.Join(part.dir, person, filepath.Base(photo))); err != nil {
					return dirs, err
				}
			}
		}
	}
	return dirs, nil
}

// count is how many photos a part holds.
func count(part map[string][]string) int {
	n := 0
	for _, photos := range part {
		n += len(photos)
	}
	return n
}
