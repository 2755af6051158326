package ops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/signpost-cdn/signpost/ops/store"
)

// Change lists what changed in one section of the snapshot between two
// generations, by name, each sorted.
type Change struct {
	Section string   `json:"section"`
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	Changed []string `json:"changed,omitempty"`
}

// Empty reports whether nothing changed.
func (c Change) Empty() bool { return len(c.Added)+len(c.Removed)+len(c.Changed) == 0 }

// Diff is what changed between two generations.
type Diff struct {
	Sections []Change `json:"sections"` // delivery services, caches, cache groups
	Files    Change   `json:"files"`    // dataset files added, removed or changed
}

// snapshotSections are the CrConfig members compared by name.
var snapshotSections = [...]struct{ key, label string }{
	{"deliveryServices", "delivery services"},
	{"contentServers", "caches"},
	{"edgeLocations", "cache groups"},
}

// DiffFiles compares two generations' files (prev may be nil for the first
// generation). Snapshot members are compared after canonical re-encoding, so
// key order and whitespace are not changes.
func DiffFiles(prev, next []store.File) (Diff, error) {
	var d Diff
	pm, nm := byName(prev), byName(next)
	d.Files = Change{Section: "files"}
	for n, f := range nm {
		p, ok := pm[n]
		switch {
		case !ok:
			d.Files.Added = append(d.Files.Added, n)
		case p.SHA256 != f.SHA256:
			d.Files.Changed = append(d.Files.Changed, n)
		}
	}
	for n := range pm {
		if _, ok := nm[n]; !ok {
			d.Files.Removed = append(d.Files.Removed, n)
		}
	}
	sortChange(&d.Files)
	ps, err := snapshotMembers(pm[FileSnapshot])
	if err != nil {
		return d, err
	}
	ns, err := snapshotMembers(nm[FileSnapshot])
	if err != nil {
		return d, err
	}
	for i, s := range snapshotSections {
		c := Change{Section: s.label}
		for k, v := range ns[i] {
			old, ok := ps[i][k]
			switch {
			case !ok:
				c.Added = append(c.Added, k)
			case !bytes.Equal(old, v):
				c.Changed = append(c.Changed, k)
			}
		}
		for k := range ps[i] {
			if _, ok := ns[i][k]; !ok {
				c.Removed = append(c.Removed, k)
			}
		}
		sortChange(&c)
		d.Sections = append(d.Sections, c)
	}
	return d, nil
}

func byName(files []store.File) map[string]store.File {
	m := make(map[string]store.File, len(files))
	for _, f := range files {
		m[f.Name] = f
	}
	return m
}

func sortChange(c *Change) {
	sort.Strings(c.Added)
	sort.Strings(c.Removed)
	sort.Strings(c.Changed)
}

// snapshotMembers decodes the stored snapshot body and returns, for each of
// snapshotSections, member name -> canonical JSON.
func snapshotMembers(f store.File) ([len(snapshotSections)]map[string][]byte, error) {
	var out [len(snapshotSections)]map[string][]byte
	for i := range out {
		out[i] = map[string][]byte{}
	}
	if f.Body == nil {
		return out, nil
	}
	var doc struct {
		Response map[string]json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal(f.Body, &doc); err != nil {
		return out, fmt.Errorf("ops: stored %s: %w", FileSnapshot, err)
	}
	for i, s := range snapshotSections {
		raw, ok := doc.Response[s.key]
		if !ok || string(raw) == "null" {
			continue
		}
		var members map[string]any
		if err := json.Unmarshal(raw, &members); err != nil {
			return out, fmt.Errorf("ops: stored %s: %s: %w", FileSnapshot, s.key, err)
		}
		for k, v := range members {
			canon, err := json.Marshal(v) // map keys sorted: canonical
			if err != nil {
				return out, err
			}
			out[i][k] = canon
		}
	}
	return out, nil
}

// maxListed bounds the names printed per list.
const maxListed = 20

// Write prints the diff, one summary line per section followed by the names
// (at most 20 per list).
func (d Diff) Write(w io.Writer) error {
	var b strings.Builder
	for _, c := range append(append([]Change(nil), d.Sections...), d.Files) {
		if c.Empty() {
			fmt.Fprintf(&b, "  %s: no change\n", c.Section)
			continue
		}
		fmt.Fprintf(&b, "  %s: %d added, %d removed, %d changed\n", c.Section, len(c.Added), len(c.Removed), len(c.Changed))
		list(&b, "+", c.Added)
		list(&b, "-", c.Removed)
		list(&b, "~", c.Changed)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is a one-line form: "delivery services +1 -0 ~2, caches ...".
func (d Diff) Summary() string {
	parts := make([]string, 0, len(d.Sections)+1)
	for _, c := range append(append([]Change(nil), d.Sections...), d.Files) {
		parts = append(parts, fmt.Sprintf("%s +%d -%d ~%d", c.Section, len(c.Added), len(c.Removed), len(c.Changed)))
	}
	return strings.Join(parts, ", ")
}

func list(b *strings.Builder, mark string, names []string) {
	for i, n := range names {
		if i == maxListed {
			fmt.Fprintf(b, "    %s ... and %d more\n", mark, len(names)-maxListed)
			return
		}
		fmt.Fprintf(b, "    %s %q\n", mark, n)
	}
}
