package nn

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/tensor"
)

// The safetensors format (https://github.com/huggingface/safetensors), which PyTorch reads with
// safetensors.torch.load_file:
//
//	8 bytes   little-endian uint64 N, the length of the header
//	N bytes   a JSON object: {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]},
//	          ..., "__metadata__": {"key": "string value", ...}}, padded with spaces
//	the rest  the tensors' raw little-endian bytes; offsets count from the end of the header
//
// It is small enough to write by hand, and doing so lets the reader check everything a damaged
// or foreign file can get wrong before it touches a single weight.

// maxHeaderBytes bounds the JSON header, as the reference implementation does (100 MB), so a
// garbage length cannot make us allocate gigabytes.
const maxHeaderBytes = 100 << 20

// stEntry is one tensor's line in the header.
type stEntry struct {
	DType       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// stSource is a tensor to write: its name, shape, and a function that fills a host float32
// tensor of that shape with its values (downloading it from a backend, say). A source without
// read is an int64 scalar (shape [], dtype I64) holding i64: PyTorch's type for batch norm's
// num_batches_tracked, which load_state_dict(strict=True) requires.
type stSource struct {
	name  string
	shape tensor.Shape
	read  func(dst *tensor.Tensor) error
	i64   int64
}

func int64Source(name string, v int64) stSource {
	return stSource{name: name, shape: tensor.Shape{}, i64: v}
}

func (s stSource) dtype() string {
	if s.read == nil {
		return "I64"
	}
	return "F32"
}

// dtypeSizes are the element types this reader and writer know, with their sizes in bytes.
var dtypeSizes = map[string]int64{"F32": 4, "I64": 8}

// writeSafetensors writes float32 tensors, int64 scalars and string metadata to path
// atomically: into a
// temporary file in the same directory, synced, then renamed over path, so a crash or a full
// disk never leaves a half-written checkpoint under the real name.
func writeSafetensors(path string, sources []stSource, metadata map[string]string) (err error) {
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var offset int64
	for _, s := range sources {
		size := int64(s.shape.Numel()) * dtypeSizes[s.dtype()]
		header[s.name] = stEntry{DType: s.dtype(), Shape: s.shape, DataOffsets: [2]int64{offset, offset + size}}
		offset += size
	}
	js, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}

	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// CreateTemp makes the file private (0600); a checkpoint is an ordinary shareable file.
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err := binary.Write(w, binary.LittleEndian, uint64(len(js))); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if _, err := w.Write(js); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	var buf []byte
	for _, s := range sources {
		buf = buf[:0]
		if s.read == nil {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(s.i64))
		} else {
			host := tensor.Zeros(s.shape...)
			if err := s.read(host); err != nil {
				return fmt.Errorf("cannot write %s: tensor %s: %w", path, s.name, err)
			}
			for _, v := range host.Float32s() {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
		}
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("cannot write %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	// Sync the directory too, so the rename itself survives a power cut.
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		dir.Sync()
		dir.Close()
	}
	return nil
}

// stFile is an open safetensors file whose header has been read and validated.
type stFile struct {
	path      string
	f         io.ReaderAt
	closer    io.Closer // nil for bytes in memory
	dataStart int64
	entries   map[string]stEntry
	metadata  map[string]string
}

// openSafetensors opens path and checks its header: the length, the JSON, every tensor's type,
// shape and offsets (inside the file, no overlap, no gap, sizes matching shapes). Every error
// names the file.
func openSafetensors(path string) (*stFile, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	st, err := readSafetensorsHeader(path, f, info.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	st.closer = f
	return st, nil
}

// readSafetensorsHeader reads and checks the header of the size bytes of f; path names them
// in errors (a file, or whatever holds bytes in memory).
func readSafetensorsHeader(path string, f io.ReaderAt, size int64) (*stFile, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: not a valid safetensors file: %s", path, fmt.Sprintf(format, args...))
	}
	if size < 8 {
		return nil, bad("truncated: %d bytes, too short for the header length", size)
	}
	var lenBytes [8]byte
	if _, err := f.ReadAt(lenBytes[:], 0); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	n := binary.LittleEndian.Uint64(lenBytes[:])
	if n > maxHeaderBytes {
		return nil, bad("header length %d is over the %d-byte limit (corrupt or not safetensors)", n, maxHeaderBytes)
	}
	if int64(n) > size-8 {
		return nil, bad("truncated: the header alone needs %d bytes, the file has %d", n, size-8)
	}
	js := make([]byte, n)
	if _, err := f.ReadAt(js, 8); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, bad("corrupt header: %v", err)
	}
	st := &stFile{path: path, f: f, dataStart: 8 + int64(n), entries: map[string]stEntry{}}
	dataSize := size - st.dataStart
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &st.metadata); err != nil {
				return nil, bad("corrupt header: __metadata__ is not an object of strings: %v", err)
			}
			continue
		}
		var e stEntry
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, bad("corrupt header entry for %q: %v", name, err)
		}
		elem, ok := dtypeSizes[e.DType]
		if !ok {
			return nil, bad("tensor %q has dtype %q; only F32 (and I64 scalars) are supported", name, e.DType)
		}
		if e.DType == "I64" && len(e.Shape) != 0 {
			return nil, bad("tensor %q is I64 of shape %v; only I64 scalars (shape []) are supported", name, e.Shape)
		}
		factors := []int64{elem}
		for _, d := range e.Shape {
			if d < 0 {
				return nil, bad("tensor %q has a negative dimension in shape %v", name, e.Shape)
			}
			factors = append(factors, int64(d))
		}
		nbytes, ok := tensor.CheckedProduct(factors...)
		if !ok {
			return nil, bad("tensor %q: shape %v of %s is too large to exist (over 2^63 bytes)", name, e.Shape, e.DType)
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if begin < 0 || end < begin || end-begin != nbytes {
			return nil, bad("tensor %q: offsets [%d, %d] do not hold %s of shape %v (%d bytes)", name, begin, end, e.DType, e.Shape, nbytes)
		}
		if end > dataSize {
			return nil, bad("tensor %q: data_offsets [%d, %d] run past the end of the data (%d bytes): truncated or corrupt", name, begin, end, dataSize)
		}
		st.entries[name] = e
	}
	// The tensors must tile the data area exactly: no overlap, no gap.
	names := st.names()
	sort.Slice(names, func(i, j int) bool {
		return st.entries[names[i]].DataOffsets[0] < st.entries[names[j]].DataOffsets[0]
	})
	var next int64
	for _, name := range names {
		e := st.entries[name]
		if e.DataOffsets[0] != next {
			return nil, bad("tensor %q starts at byte %d of the data, expected %d (overlap or gap)", name, e.DataOffsets[0], next)
		}
		next = e.DataOffsets[1]
	}
	if next < dataSize {
		return nil, bad("%d bytes of data after the last tensor", dataSize-next)
	}
	return st, nil
}

// names lists the tensors in the file, sorted.
func (s *stFile) names() []string {
	var ns []string
	for n := range s.entries {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// read fills the host tensor dst with the named F32 tensor, which must have dst's shape.
func (s *stFile) read(name string, dst *tensor.Tensor) error {
	e, err := s.entryShaped(name, dst.Shape())
	if err != nil {
		return err
	}
	buf := make([]byte, e.DataOffsets[1]-e.DataOffsets[0])
	if _, err := s.f.ReadAt(buf, s.dataStart+e.DataOffsets[0]); err != nil {
		return fmt.Errorf("%s: reading %s: %w", s.path, name, err)
	}
	out := dst.Float32s()
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
	}
	return nil
}

// readInt64 returns the named I64 scalar.
func (s *stFile) readInt64(name string) (int64, error) {
	e, err := s.entry(name, "I64")
	if err != nil {
		return 0, err
	}
	var buf [8]byte
	if _, err := s.f.ReadAt(buf[:], s.dataStart+e.DataOffsets[0]); err != nil {
		return 0, fmt.Errorf("%s: reading %s: %w", s.path, name, err)
	}
	return int64(binary.LittleEndian.Uint64(buf[:])), nil
}

// entry returns the named tensor's header entry, which must be of type dtype.
func (s *stFile) entry(name, dtype string) (stEntry, error) {
	e, ok := s.entries[name]
	if !ok {
		return e, fmt.Errorf("%s: tensor %s is missing", s.path, name)
	}
	if e.DType != dtype {
		return e, fmt.Errorf("%s: tensor %s is %s, this model needs %s", s.path, name, e.DType, dtype)
	}
	return e, nil
}

// entryShaped returns the named F32 tensor's header entry, which must have shape want.
func (s *stFile) entryShaped(name string, want tensor.Shape) (stEntry, error) {
	e, err := s.entry(name, "F32")
	if err != nil {
		return e, err
	}
	if !tensor.Shape(e.Shape).Equal(want) {
		return e, fmt.Errorf("%s: tensor %s has shape %v, this model needs %v", s.path, name, tensor.Shape(e.Shape), want)
	}
	return e, nil
}

func (s *stFile) Close() error {
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}
