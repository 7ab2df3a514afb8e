package facecheck

import (
	"fmt"
	"math/rand/v2"

	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
)

// TrainConfig sets how a checker is trained.
type TrainConfig struct {
	Epochs    int     // passes over the negatives (0 means 8)
	Batch     int     // crops per step, half faces and half not (0 means 64)
	LR        float64 // AdamW's peak learning rate under a one-cycle schedule (0 means 2e-3)
	Seed      uint64  // draws the initial weights, the batches and the mirroring
	Threshold float64 // the trained checker's Threshold (0 means DefaultThreshold)
	// Progress, when set, is told the mean loss after every epoch.
	Progress func(epoch int, loss float64)
}

// Train fits a checker to face crops (pos) and non-face crops (neg), each made by Crop. Every
// batch holds as many faces as non-faces (the faces, usually fewer, come round more often), and
// each crop is mirrored half the time. The result depends only on the crops and cfg.
func Train(pos, neg [][]float32, cfg TrainConfig) (*Checker, error) {
	if len(pos) == 0 || len(neg) == 0 {
		return nil, fmt.Errorf("facecheck: training needs faces and non-faces, got %d and %d", len(pos), len(neg))
	}
	for _, set := range [][][]float32{pos, neg} {
		for i, c := range set {
			if len(c) != Side*Side {
				return nil, fmt.Errorf("facecheck: crop %d has %d values, want %d", i, len(c), Side*Side)
			}
		}
	}
	if cfg.Epochs <= 0 {
		cfg.Epochs = 8
	}
	if cfg.Batch <= 1 {
		cfg.Batch = 64
	}
	if cfg.LR <= 0 {
		cfg.LR = 2e-3
	}
	c, err := newChecker(cfg.Seed)
	if err != nil {
		return nil, err
	}
	if cfg.Threshold > 0 {
		c.Threshold = cfg.Threshold
	}
	b := c.backend()
	half := cfg.Batch / 2
	stepsPerEpoch := max(1, len(neg)/half)
	total := cfg.Epochs * stepsPerEpoch
	sched := nn.Schedule{Kind: "onecycle", LR: cfg.LR, TotalSteps: total}
	opt, err := nn.NewOptimizer(b, c.net.Params(), nn.OptimizerConfig{Kind: "adamw", WeightDecay: 1e-4, ExemptNoDecay: true})
	if err != nil {
		return nil, err
	}
	defer opt.Release()
	loss := nn.NewSoftmaxCrossEntropy(c.ctx)
	defer loss.Release()
	x, err := b.Alloc(tensor.Float32, 2*half, 1, Side, Side)
	if err != nil {
		return nil, err
	}
	defer x.Release()
	labels, err := b.Alloc(tensor.Int32, 2*half)
	if err != nil {
		return nil, err
	}
	defer labels.Release()
	hostLabels := tensor.New(tensor.Int32, 2*half)
	for i := range hostLabels.Int32s() {
		if i < half {
			hostLabels.Int32s()[i] = 1
		}
	}
	if err := b.Upload(labels, hostLabels); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xfacec4ec))
	posOrder, negOrder := rng.Perm(len(pos)), rng.Perm(len(neg))
	nextPos := 0
	host := tensor.Zeros(2*half, 1, Side, Side)
	data := host.Float32s()
	put := func(slot int, crop []float32) {
		if rng.IntN(2) == 1 {
			crop = Mirror(crop)
		}
		copy(data[slot*Side*Side:], crop)
	}
	step := 0
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		rng.Shuffle(len(negOrder), func(i, j int) { negOrder[i], negOrder[j] = negOrder[j], negOrder[i] })
		var lossSum float64
		for s := 0; s < stepsPerEpoch; s++ {
			for i := 0; i < half; i++ {
				if nextPos == len(posOrder) {
					rng.Shuffle(len(posOrder), func(i, j int) { posOrder[i], posOrder[j] = posOrder[j], posOrder[i] })
					nextPos = 0
				}
				put(i, pos[posOrder[nextPos]])
				nextPos++
				put(half+i, neg[negOrder[(s*half+i)%len(negOrder)]])
			}
			if err := b.Upload(x, host); err != nil {
				return nil, err
			}
			logits, err := c.net.Forward(x)
			if err != nil {
				return nil, err
			}
			if err := loss.Forward(logits, labels); err != nil {
				return nil, err
			}
			dlogits, err := loss.Backward()
			if err != nil {
				return nil, err
			}
			if _, err := c.net.Backward(dlogits); err != nil {
				return nil, err
			}
			if err := opt.Update(float32(sched.Rate(step))); err != nil {
				return nil, err
			}
			step++
			if cfg.Progress != nil {
				perExample := tensor.Zeros(2 * half)
				if err := b.Download(perExample, loss.Loss); err != nil {
					return nil, err
				}
				for _, l := range perExample.Float32s() {
					lossSum += float64(l)
				}
			}
		}
		if cfg.Progress != nil {
			cfg.Progress(epoch, lossSum/float64(stepsPerEpoch*2*half))
		}
	}
	return c, nil
}
