package gallery

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NormalizeName is the form an identity name is stored and compared in: Unicode normal form C,
// so that "José" typed as e + combining accent (as macOS file names spell it) and as é are
// one identity, not two that print alike.
func NormalizeName(name string) string { return norm.NFC.String(strings.TrimSpace(name)) }

// CheckName refuses an identity name that is blank or not valid UTF-8 (bytes that are not
// text would be stored as U+FFFD, so two names could collide).
func CheckName(name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("identity name %q is not valid UTF-8; use a name in UTF-8 text", name)
	}
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("the identity name is empty")
	}
	return nil
}

// Lookup finds name among names: exactly, or else ignoring case and treating spaces and
// underscores alike when that picks a single one ("barack obama" finds "Barack_Obama"). An
// unknown name is an error that lists the closest known names, so a typo is one glance away
// from its fix.
func Lookup(names []string, name string) (int, error) {
	if i := slices.Index(names, name); i >= 0 {
		return i, nil
	}
	if i := slices.IndexFunc(names, func(n string) bool { return NormalizeName(n) == NormalizeName(name) }); i >= 0 {
		return i, nil
	}
	found := -1
	for i, n := range names {
		if looseKey(n) == looseKey(name) {
			if found >= 0 {
				found = -2 // ambiguous: fall through to the suggestions
				break
			}
			found = i
		}
	}
	if found >= 0 {
		return found, nil
	}
	if len(names) == 0 {
		return -1, fmt.Errorf("unknown identity %q: there are no identities", name)
	}
	return -1, fmt.Errorf("unknown identity %q; closest: %s", name, strings.Join(closeNames(names, name, 5), ", "))
}

func looseKey(s string) string {
	return strings.ToLower(strings.ReplaceAll(NormalizeName(s), "_", " "))
}

// closeNames returns up to n names nearest to query by edit distance on their loose keys, a
// name containing the query counting as near as a one-letter typo.
func closeNames(names []string, query string, n int) []string {
	type scored struct {
		name string
		dist int
	}
	q := looseKey(query)
	var all []scored
	for _, name := range names {
		k := looseKey(name)
		d := editDistance(k, q)
		if q != "" && strings.Contains(k, q) {
			d = min(d, 1)
		}
		all = append(all, scored{name, d})
	}
	slices.SortStableFunc(all, func(a, b scored) int { return cmp.Compare(a.dist, b.dist) })
	var out []string
	for _, s := range all[:min(n, len(all))] {
		out = append(out, fmt.Sprintf("%q", s.name))
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, counted in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
