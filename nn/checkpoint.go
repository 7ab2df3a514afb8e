package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// A model checkpoint is a safetensors file whose tensors are exactly the PyTorch state_dict of
// the seed's VGG-D, or of torchvision's vgg16_bn layout for ArchVGGDBN (same names, same
// layouts, batch norm's num_batches_tracked an int64 scalar), so PyTorch loads it with
// strict=True, and whose metadata says everything needed to use it: the architecture (absent
// in older files, which are all ArchVGGD), the class names, the input size, the width divisor,
// the linear layers' initialisation and the input normalisation. The training state (optimiser buffers, step, epoch, best score)
// goes into a second file beside it, so the model file stays a plain state_dict.
//
// In PyTorch (torch and safetensors installed):
//
//	import json
//	import torch
//	from torch import nn
//	from safetensors import safe_open
//	from safetensors.torch import load_file
//
//	class VGGD(nn.Module):
//	    """VGG-16 configuration D as the vgg engine builds it: module indices = tensor names."""
//	    def __init__(self, classes, input_size=128, width_divisor=1, batch_norm=False):
//	        super().__init__()
//	        layers, c = [], 3
//	        for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
//	                  512, 512, 512, "M", 512, 512, 512, "M"]:
//	            if v == "M":
//	                layers.append(nn.MaxPool2d(2))
//	            else:
//	                v //= width_divisor
//	                layers.append(nn.Conv2d(c, v, 3, padding=1))
//	                if batch_norm:
//	                    layers.append(nn.BatchNorm2d(v))
//	                layers.append(nn.ReLU(inplace=True))
//	                c = v
//	        self.cnn = nn.Sequential(*layers)
//	        h1, h2, side = 4096 // width_divisor, 2048 // width_divisor, input_size // 32
//	        self.fc = nn.Sequential(
//	            nn.Linear(c * side * side, h1), nn.ReLU(inplace=True), nn.Dropout(0.5),
//	            nn.Linear(h1, h2), nn.ReLU(inplace=True), nn.Dropout(0.5),
//	            nn.Linear(h2, classes))
//
//	    def forward(self, x):
//	        return self.fc(torch.flatten(self.cnn(x), 1))
//
//	    def embedding(self, x, layer="features"):
//	        """The face descriptor: the flattened features (metadata "embedding": "features"),
//	        or fc.4's ReLU output (no "embedding" in the metadata, or "fc.4")."""
//	        h = torch.flatten(self.cnn(x), 1)
//	        return h if layer == "features" else self.fc[:5](h)
//
//	def load_vgg(path):
//	    """Returns the model (eval mode), the class names and the input mean and std."""
//	    with safe_open(path, framework="pt") as f:
//	        meta = f.metadata()
//	    classes = json.loads(meta["classes"])
//	    model = VGGD(len(classes), int(meta["input_size"]), int(meta["width_divisor"]),
//	                 meta.get("arch", "vgg-d") == "vgg-d-bn")
//	    model.load_state_dict(load_file(path), strict=True)
//	    mean = torch.tensor(json.loads(meta["mean"])).view(1, 3, 1, 1)
//	    std = torch.tensor(json.loads(meta["std"])).view(1, 3, 1, 1)
//	    return model.eval(), classes, mean, std
//
//	# x: float RGB batch [N, 3, S, S] in [0, 1]; probabilities per class:
//	# model, classes, mean, std = load_vgg("model.safetensors")
//	# probs = model((x - mean) / std).softmax(1)

// Format names and versions, stored in the metadata so a reader can refuse what it does not know.
const (
	modelFormat       = "vgg-model"
	trainStateFormat  = "vgg-train-state"
	checkpointVersion = "1"
	trainStateSuffix  = ".train.safetensors"
	checkpointSuffix  = ".safetensors"
)

// ModelInfo is what a checkpoint records besides the weights.
type ModelInfo struct {
	// ClassNames are the identities in the order of the classifier's outputs.
	ClassNames []string
	// Mean and Std are the per-channel (RGB) normalisation the images were given before the
	// network saw them: x = (pixel/255 - Mean) / Std.
	Mean, Std [3]float32
	// Temperature divides the logits before the softmax so that the probabilities are
	// calibrated (FitTemperature, fitted on the validation split); 0 means none was fitted,
	// which is the same as 1.
	Temperature float64
	// CalibrationPhotos is how many validation photos the temperature was fitted on: the
	// confidence words trust the probabilities of a model calibrated on many more readily
	// (see ConfidenceLevel); 0 for none or unknown (files from before it was recorded).
	CalibrationPhotos int
	// Mirror says that the model's answers average each face's logits and embedding with its
	// mirror image's (test-time flip), as its validation scores and temperature were
	// measured; false for files from before it was recorded, whose galleries hold single
	// passes.
	Mirror bool
	// EmbeddingLayer is where the model's embedding is taken (Model.EmbeddingLayer):
	// EmbeddingFeatures, or "" for EmbeddingFC4 (files from before it was recorded).
	EmbeddingLayer string
}

// Calibration is how the model's probabilities were calibrated.
func (info ModelInfo) Calibration() Calibration {
	return Calibration{Temperature: info.Temperature, Photos: info.CalibrationPhotos}
}

// SaveModel writes the model's weights and info to path atomically.
func SaveModel(path string, m *Model, info ModelInfo) error {
	if len(info.ClassNames) != m.Config.Classes {
		return fmt.Errorf("%s: %d class names for a model of %d classes", path, len(info.ClassNames), m.Config.Classes)
	}
	classes, err := json.Marshal(info.ClassNames)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	meta := map[string]string{
		"format":         modelFormat,
		"format_version": checkpointVersion,
		"arch":           m.Config.Arch,
		"linear_init":    m.Config.LinearInit,
		"classes":        string(classes),
		"input_size":     strconv.Itoa(m.Config.InputSize),
		"width_divisor":  strconv.Itoa(m.Config.WidthDivisor),
		"mean":           floatList(info.Mean[:]),
		"std":            floatList(info.Std[:]),
	}
	if info.Temperature > 0 {
		meta["temperature"] = strconv.FormatFloat(info.Temperature, 'g', -1, 64)
	}
	if info.CalibrationPhotos > 0 {
		meta["calibration_photos"] = strconv.Itoa(info.CalibrationPhotos)
	}
	if info.Mirror {
		meta["mirror"] = "true"
	}
	if info.EmbeddingLayer != "" {
		meta["embedding"] = info.EmbeddingLayer
	}
	srcs := backendSources(m.Ctx.Backend, m.floatState())
	for _, c := range m.counters() {
		srcs = append(srcs, int64Source(c.name, *c.v))
	}
	return writeSafetensors(path, srcs, meta)
}

// IsCheckpoint reports whether the file at path is a model or a training state vgg wrote: a
// safetensors file whose metadata names one of vgg's formats. The weights are not checked.
func IsCheckpoint(path string) bool {
	f, err := openSafetensors(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return f.metadata["format"] == modelFormat || f.metadata["format"] == trainStateFormat
}

// ReadModelInfo reads a model checkpoint's configuration and info without loading the weights.
func ReadModelInfo(path string) (Config, ModelInfo, error) {
	f, err := openSafetensors(path)
	if err != nil {
		return Config{}, ModelInfo{}, err
	}
	defer f.Close()
	return parseModelMetadata(path, f.metadata)
}

// LoadModel builds the model a checkpoint describes on b and loads its weights. It refuses,
// naming the file, a damaged file, a missing or extra tensor, or a tensor of the wrong shape.
func LoadModel(b kernels.Backend, path string) (*Model, ModelInfo, error) {
	f, err := openSafetensors(path)
	if err != nil {
		return nil, ModelInfo{}, err
	}
	defer f.Close()
	cfg, info, err := parseModelMetadata(path, f.metadata)
	if err != nil {
		return nil, ModelInfo{}, err
	}
	m, err := VGGD(cfg)
	if err != nil {
		return nil, ModelInfo{}, fmt.Errorf("%s: %w", path, err)
	}
	// Check every shape before allocating: damaged metadata (an input size or width from
	// another model) must not make us allocate a network the file cannot fill.
	for _, p := range m.Params() {
		if _, err := f.entryShaped(p.Name, p.Shape); err != nil {
			return nil, ModelInfo{}, err
		}
	}
	for _, buf := range m.Buffers() {
		if _, err := f.entryShaped(buf.Name, buf.Shape); err != nil {
			return nil, ModelInfo{}, err
		}
	}
	if err := m.allocParams(b); err != nil {
		m.Release()
		return nil, ModelInfo{}, err
	}
	if err := loadTensors(f, b, m.floatState(), m.counters()); err != nil {
		m.Release()
		return nil, ModelInfo{}, err
	}
	m.EmbeddingLayer = info.EmbeddingLayer
	return m, info, nil
}

// LoadWeights replaces the weights of an existing model with a checkpoint's, which must have
// been saved from a model of the same configuration (say, when a training run resumes).
func (m *Model) LoadWeights(path string) (ModelInfo, error) {
	f, err := openSafetensors(path)
	if err != nil {
		return ModelInfo{}, err
	}
	defer f.Close()
	cfg, info, err := parseModelMetadata(path, f.metadata)
	if err != nil {
		return ModelInfo{}, err
	}
	if cfg != m.Config {
		return ModelInfo{}, fmt.Errorf("%s holds a %s model of %d classes, input %d, width divisor %d, linear init %s; this one is a %s of %d classes, input %d, width divisor %d, linear init %s",
			path, cfg.Arch, cfg.Classes, cfg.InputSize, cfg.WidthDivisor, cfg.LinearInit, m.Config.Arch, m.Config.Classes, m.Config.InputSize, m.Config.WidthDivisor, m.Config.LinearInit)
	}
	return info, loadTensors(f, m.Ctx.Backend, m.floatState(), m.counters())
}

// parseModelMetadata turns the metadata strings back into a configuration and info.
func parseModelMetadata(path string, meta map[string]string) (Config, ModelInfo, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: not a vgg model checkpoint: %s", path, fmt.Sprintf(format, args...))
	}
	if meta["format"] != modelFormat {
		return Config{}, ModelInfo{}, bad("metadata format is %q, want %q", meta["format"], modelFormat)
	}
	if v := meta["format_version"]; v != checkpointVersion {
		return Config{}, ModelInfo{}, bad("format version %q; this program reads version %s", v, checkpointVersion)
	}
	var info ModelInfo
	if err := json.Unmarshal([]byte(meta["classes"]), &info.ClassNames); err != nil {
		return Config{}, ModelInfo{}, bad("classes is not a JSON list of names: %v", err)
	}
	size, err1 := strconv.Atoi(meta["input_size"])
	width, err2 := strconv.Atoi(meta["width_divisor"])
	if err1 != nil || err2 != nil {
		return Config{}, ModelInfo{}, bad("input_size %q or width_divisor %q is not a number", meta["input_size"], meta["width_divisor"])
	}
	for _, v := range []struct {
		key string
		dst []float32
	}{{"mean", info.Mean[:]}, {"std", info.Std[:]}} {
		if err := parseFloatList(meta[v.key], v.dst); err != nil {
			return Config{}, ModelInfo{}, bad("%s: %v", v.key, err)
		}
	}
	if t, ok := meta["temperature"]; ok { // files from before calibration have none
		v, err := strconv.ParseFloat(t, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return Config{}, ModelInfo{}, bad("temperature %q is not a positive number", t)
		}
		info.Temperature = v
	}
	if n, ok := meta["calibration_photos"]; ok {
		v, err := strconv.Atoi(n)
		if err != nil || v < 1 {
			return Config{}, ModelInfo{}, bad("calibration_photos %q is not a positive whole number", n)
		}
		info.CalibrationPhotos = v
	}
	switch m := meta["mirror"]; m {
	case "", "false":
	case "true":
		info.Mirror = true
	default:
		return Config{}, ModelInfo{}, bad("mirror %q is neither true nor false", m)
	}
	switch e := meta["embedding"]; e {
	case "", EmbeddingFC4, EmbeddingFeatures:
		info.EmbeddingLayer = e
	default:
		return Config{}, ModelInfo{}, bad("embedding %q is neither %s nor %s", e, EmbeddingFeatures, EmbeddingFC4)
	}
	// Files from before batch norm have neither arch nor linear_init: "" means the defaults.
	cfg, err := Config{Arch: meta["arch"], Classes: len(info.ClassNames), InputSize: size, WidthDivisor: width,
		LinearInit: meta["linear_init"]}.withDefaults()
	if err != nil {
		return Config{}, ModelInfo{}, bad("%v", err)
	}
	return cfg, info, nil
}

// namedTensor is a backend tensor with its checkpoint name.
type namedTensor struct {
	name string
	t    *tensor.Tensor
}

func paramTensors(ps []*Param) []namedTensor {
	var nts []namedTensor
	for _, p := range ps {
		nts = append(nts, namedTensor{p.Name, p.Value})
	}
	return nts
}

// floatState lists the model's float32 state_dict entries: parameters, then buffers.
func (m *Model) floatState() []namedTensor {
	nts := paramTensors(m.Params())
	for _, b := range m.Buffers() {
		nts = append(nts, namedTensor{b.Name, b.Value})
	}
	return nts
}

// namedCounter is an int64 scalar of a checkpoint and the variable it comes from and goes to.
type namedCounter struct {
	name string
	v    *int64
}

// counters lists the model's int64 state_dict entries: the batch norms' num_batches_tracked.
func (m *Model) counters() []namedCounter {
	var cs []namedCounter
	for _, bn := range m.batchNorms {
		cs = append(cs, namedCounter{bn.name + ".num_batches_tracked", &bn.NumBatchesTracked})
	}
	return cs
}

// backendSources describes backend tensors to the safetensors writer, which downloads them one
// at a time.
func backendSources(b kernels.Backend, nts []namedTensor) []stSource {
	var srcs []stSource
	for _, nt := range nts {
		t := nt.t
		srcs = append(srcs, stSource{name: nt.name, shape: t.Shape(), read: func(dst *tensor.Tensor) error {
			return b.Download(dst, t)
		}})
	}
	return srcs
}

// loadTensors uploads the file's float32 tensors into the given backend tensors and reads its
// int64 scalars into the counters. The file must hold exactly these names: an extra tensor
// means it was saved from a different network.
func loadTensors(f *stFile, b kernels.Backend, nts []namedTensor, counters []namedCounter) error {
	want := map[string]bool{}
	for _, nt := range nts {
		want[nt.name] = true
	}
	for _, c := range counters {
		want[c.name] = true
	}
	var extra []string
	for _, name := range f.names() {
		if !want[name] {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		return fmt.Errorf("%s: unexpected tensors %s (a different network?)", f.path, strings.Join(extra, ", "))
	}
	for _, nt := range nts {
		host := tensor.Zeros(nt.t.Shape()...)
		if err := f.read(nt.name, host); err != nil {
			return err
		}
		// A NaN or infinite weight makes every answer NaN; refuse the file rather than print NaN%.
		for i, v := range host.Float32s() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%s: tensor %s holds %v at index %d: the file is damaged or comes from a run that diverged", f.path, nt.name, v, i)
			}
		}
		if err := b.Upload(nt.t, host); err != nil {
			return fmt.Errorf("%s: %s: %w", f.path, nt.name, err)
		}
	}
	for _, c := range counters {
		v, err := f.readInt64(c.name)
		if err != nil {
			return err
		}
		*c.v = v
	}
	return nil
}

// TrainStatePath is where the training state of the model checkpoint at modelPath goes:
// "run/model.safetensors" -> "run/model.train.safetensors".
func TrainStatePath(modelPath string) string {
	return strings.TrimSuffix(modelPath, checkpointSuffix) + trainStateSuffix
}

// SaveState writes what an exact resume needs besides the weights: the optimiser's buffers, the
// step and epoch counters, the run seed (dropout masks), the best score and the loop's Extra
// values. The optimiser and schedule settings go along as JSON, so the file says how it was
// made.
func (t *Trainer) SaveState(path string) error {
	opt, err := json.Marshal(t.Opt.Config)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	sched, err := json.Marshal(t.Schedule)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	meta := map[string]string{
		"format":          trainStateFormat,
		"format_version":  checkpointVersion,
		"steps":           strconv.Itoa(t.Steps),
		"optimizer_steps": strconv.Itoa(t.Opt.Steps),
		"epoch":           strconv.Itoa(t.Epoch),
		"best_score":      strconv.FormatFloat(t.BestScore, 'g', -1, 64),
		"seed":            strconv.FormatUint(t.Model.Ctx.Seed, 10),
		"optimizer":       string(opt),
		"schedule":        string(sched),
	}
	for k, v := range t.Extra {
		meta["extra."+k] = v
	}
	return writeSafetensors(path, backendSources(t.Model.Ctx.Backend, t.Opt.stateTensors()), meta)
}

// LoadState restores a state SaveState wrote. The trainer must have been made with the same
// optimiser kind; the schedule stays the one given to NewTrainer (so a resumed run may change
// it on purpose).
func (t *Trainer) LoadState(path string) error {
	f, err := openSafetensors(path)
	if err != nil {
		return err
	}
	defer f.Close()
	meta := f.metadata
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: not a usable training state: %s", path, fmt.Sprintf(format, args...))
	}
	if meta["format"] != trainStateFormat || meta["format_version"] != checkpointVersion {
		return bad("format %q version %q, want %q version %s", meta["format"], meta["format_version"], trainStateFormat, checkpointVersion)
	}
	var opt OptimizerConfig
	if err := json.Unmarshal([]byte(meta["optimizer"]), &opt); err != nil {
		return bad("optimizer: %v", err)
	}
	if opt.Kind != t.Opt.Config.Kind {
		return bad("it was saved by the %s optimiser, this run uses %s", opt.Kind, t.Opt.Config.Kind)
	}
	steps, err1 := strconv.Atoi(meta["steps"])
	optSteps, err2 := strconv.Atoi(meta["optimizer_steps"])
	epoch, err3 := strconv.Atoi(meta["epoch"])
	best, err4 := strconv.ParseFloat(meta["best_score"], 64)
	seed, err5 := strconv.ParseUint(meta["seed"], 10, 64)
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			return bad("%v", err)
		}
	}
	if err := loadTensors(f, t.Model.Ctx.Backend, t.Opt.stateTensors(), nil); err != nil {
		return err
	}
	t.Steps, t.Opt.Steps, t.Epoch, t.BestScore = steps, optSteps, epoch, best
	t.Model.Ctx.Seed = seed
	t.Extra = map[string]string{}
	for k := range meta {
		if name, ok := strings.CutPrefix(k, "extra."); ok {
			t.Extra[name] = meta[k]
		}
	}
	return nil
}

// floatList writes float32s as a JSON list that parses back to the same bits.
func floatList(vs []float32) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.FormatFloat(float64(v), 'g', -1, 32)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func parseFloatList(s string, dst []float32) error {
	var vs []float32
	if err := json.Unmarshal([]byte(s), &vs); err != nil {
		return fmt.Errorf("%q is not a JSON list of numbers", s)
	}
	if len(vs) != len(dst) {
		return fmt.Errorf("%q has %d values, want %d", s, len(vs), len(dst))
	}
	copy(dst, vs)
	return nil
}
