// ocibuild writes an OCI image layout from a JSON spec: each layer's entries (files copied from the host,
// directories, symlinks) with the owner and mode the spec gives, and the image config. Nothing of the host
// leaks in: entries are sorted by path, every mtime is the spec's epoch, owners are numeric, no xattrs, and the
// layers are gzip-compressed once by Go's compress/gzip, so the same spec and file contents give the same
// digests on any machine. The OCI structures (config, manifest, index, blobs) are go-containerregistry's.
//
//	ocibuild <spec.json>     prints the manifest digest (sha256:…) on stdout
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type entry struct {
	Path   string `json:"path"`             // inside the image, relative ("usr/lib/x.so")
	Type   string `json:"type"`             // "file", "dir" or "symlink"
	Source string `json:"source,omitempty"` // file: the host file whose bytes are copied
	Target string `json:"target,omitempty"` // symlink: where it points
	Mode   int64  `json:"mode"`             // permission bits (and sticky), e.g. 0o755 → 493
	UID    int    `json:"uid"`
	GID    int    `json:"gid"`
}

type layerSpec struct {
	Comment string  `json:"comment"` // the history entry's created_by
	Entries []entry `json:"entries"`
}

type spec struct {
	Layout       string            `json:"layout"`  // output directory (created; must not exist)
	RefName      string            `json:"refName"` // org.opencontainers.image.ref.name in index.json
	Created      int64             `json:"created"` // seconds since the epoch: every mtime and the config's created
	Architecture string            `json:"architecture"`
	OS           string            `json:"os"`
	User         string            `json:"user"`
	Entrypoint   []string          `json:"entrypoint"`
	Env          []string          `json:"env"`
	WorkingDir   string            `json:"workingDir"`
	Labels       map[string]string `json:"labels"`
	Layers       []layerSpec       `json:"layers"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ocibuild <spec.json>")
		os.Exit(2)
	}
	digest, err := build(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "ocibuild:", err)
		os.Exit(1)
	}
	fmt.Println(digest)
}

func build(specPath string) (string, error) {
	raw, err := os.ReadFile(specPath)
	if err != nil {
		return "", err
	}
	var s spec
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&s); err != nil {
		return "", fmt.Errorf("%s: %w", specPath, err)
	}
	if s.Layout == "" || s.RefName == "" || len(s.Layers) == 0 {
		return "", fmt.Errorf("%s: layout, refName and at least one layer are required", specPath)
	}
	created := time.Unix(s.Created, 0).UTC()

	image := empty.Image
	image = mutate.MediaType(image, types.OCIManifestSchema1)
	image = mutate.ConfigMediaType(image, types.OCIConfigJSON)
	for i, ls := range s.Layers {
		compressed, err := layerTarGz(ls.Entries, created)
		if err != nil {
			return "", fmt.Errorf("layer %d (%s): %w", i, ls.Comment, err)
		}
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(compressed)), nil
		}, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return "", err
		}
		image, err = mutate.Append(image, mutate.Addendum{
			Layer:     layer,
			MediaType: types.OCILayer,
			History:   v1.History{Created: v1.Time{Time: created}, CreatedBy: ls.Comment},
		})
		if err != nil {
			return "", err
		}
	}
	configFile, err := image.ConfigFile()
	if err != nil {
		return "", err
	}
	configFile = configFile.DeepCopy()
	configFile.Created = v1.Time{Time: created}
	configFile.Architecture = s.Architecture
	configFile.OS = s.OS
	configFile.Config.User = s.User
	configFile.Config.Entrypoint = s.Entrypoint
	configFile.Config.Env = s.Env
	configFile.Config.WorkingDir = s.WorkingDir
	configFile.Config.Labels = s.Labels
	image, err = mutate.ConfigFile(image, configFile)
	if err != nil {
		return "", err
	}

	if _, err := os.Stat(s.Layout); err == nil {
		return "", fmt.Errorf("%s exists; give a new directory", s.Layout)
	}
	index := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	written, err := layout.Write(s.Layout, index)
	if err != nil {
		return "", err
	}
	platform := &v1.Platform{Architecture: s.Architecture, OS: s.OS}
	if err := written.AppendImage(image,
		layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": s.RefName}),
		layout.WithPlatform(*platform)); err != nil {
		return "", err
	}
	digest, err := image.Digest()
	if err != nil {
		return "", err
	}
	return digest.String(), nil
}

// layerTarGz writes the entries, sorted by path, as a gzip-compressed tar with fixed times and numeric owners.
func layerTarGz(entries []entry, created time.Time) ([]byte, error) {
	sorted := append([]entry(nil), entries...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a].Path < sorted[b].Path })
	var compressed bytes.Buffer
	zipper, err := gzip.NewWriterLevel(&compressed, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	writer := tar.NewWriter(zipper)
	seen := map[string]bool{}
	for _, e := range sorted {
		name := path.Clean(e.Path)
		if name == "." || path.IsAbs(name) || strings.HasPrefix(name, "../") || name == ".." {
			return nil, fmt.Errorf("%q: paths must be relative and stay inside the image", e.Path)
		}
		if seen[name] {
			return nil, fmt.Errorf("%q listed twice", name)
		}
		seen[name] = true
		if e.Mode < 0 || e.Mode > 0o7777 {
			return nil, fmt.Errorf("%q: mode %o out of range", name, e.Mode)
		}
		header := &tar.Header{
			Name: name, Mode: e.Mode, Uid: e.UID, Gid: e.GID, ModTime: created, Format: tar.FormatPAX,
		}
		var content []byte
		switch e.Type {
		case "dir":
			header.Typeflag, header.Name = tar.TypeDir, name+"/"
		case "symlink":
			if e.Target == "" {
				return nil, fmt.Errorf("%q: a symlink needs a target", name)
			}
			header.Typeflag, header.Linkname = tar.TypeSymlink, e.Target
		case "file":
			info, err := os.Lstat(e.Source)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", name, err)
			}
			if !info.Mode().IsRegular() {
				return nil, fmt.Errorf("%q: source %s is not a regular file", name, e.Source)
			}
			if content, err = os.ReadFile(e.Source); err != nil {
				return nil, err
			}
			header.Typeflag, header.Size = tar.TypeReg, int64(len(content))
		default:
			return nil, fmt.Errorf("%q: type must be file, dir or symlink, not %q", name, e.Type)
		}
		if err := writer.WriteHeader(header); err != nil {
			return nil, err
		}
		if _, err := writer.Write(content); err != nil {
			return nil, err
		}
	}
	if err := writer.Close(); err != nil {
		return nil, err
	}
	if err := zipper.Close(); err != nil {
		return nil, err
	}
	return compressed.Bytes(), nil
}
