package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// runScaling (-scaling) measures what the extra cores give each engine: the whole networks
// on one thread (the first of -cores) and on all of -cores, turn about within each round,
// the order swapped from one round to the next so that a drift in the machine's speed falls
// on both alike, vgg and then PyTorch each time. It prints each engine's medians and the
// median over rounds of its ratio of many threads against one, each round's two runs being
// neighbours in time.
func runScaling(o options) error {
	root, rawDir, bins, cleanup, err := setup(o, "./bench")
	if err != nil {
		return err
	}
	defer cleanup()
	benchBin := bins[0]
	o.models = true
	const pattern = "^Benchmark(VGGDTrainStep|VGGDForward|SmallTrainStep|SmallForward)$/^cpu$/^batch="
	benchtime := o.benchtime.String()
	if o.quick {
		benchtime = "1x"
	}
	settings := [][]string{o.cores[:1], o.cores}
	// rates[engine][setting][round]: workload name -> its rate in units[name].
	var rates [2][2][]map[string]float64
	units := map[string]string{}
	var order []string
	load := []string{loadavg()}
	var torchVersion string
	for r := range o.rounds {
		turns := []int{0, 1}
		if r%2 == 1 {
			turns = []int{1, 0}
		}
		for _, s := range turns {
			cores := settings[s]
			fmt.Fprintf(os.Stderr, "round %d of %d: %d thread(s), Go then PyTorch\n", r+1, o.rounds, len(cores))
			var out bytes.Buffer
			if err := goBench(root, "bench", benchBin, pattern, benchtime, cores, &out); err != nil {
				return err
			}
			raw := filepath.Join(rawDir, fmt.Sprintf("go-round%d-threads%d.txt", r+1, len(cores)))
			if err := os.WriteFile(raw, out.Bytes(), 0o644); err != nil {
				return err
			}
			res, err := torchBench(root, o, cores, filepath.Join(rawDir, fmt.Sprintf("torch-round%d-threads%d.json", r+1, len(cores))))
			if err != nil {
				return err
			}
			torchVersion = res.Torch
			goRates, torchRates := map[string]float64{}, map[string]float64{}
			parsed := parseGo(out.String(), len(cores), "")
			for _, row := range res.Rows {
				if _, seen := units[row.Name]; !seen {
					units[row.Name] = row.Unit
					order = append(order, row.Name)
				}
				torchRates[row.Name] = row.Value
				if v, ok := parsed[row.Name][row.Unit]; ok {
					goRates[row.Name] = v
				}
			}
			rates[0][s] = append(rates[0][s], goRates)
			rates[1][s] = append(rates[1][s], torchRates)
		}
	}
	load = append(load, loadavg())

	many := len(o.cores)
	fmt.Printf("what %d threads give against 1, vgg and PyTorch %s, %s\n", many, torchVersion, cpuModel())
	fmt.Printf("1 thread on CPU %s and %d on CPUs %s, turn about, %d round(s); load average %s before, %s after; Go %s\n",
		o.cores[0], many, strings.Join(o.cores, ","), o.rounds, load[0], load[1], runtime.Version())
	fmt.Println("Medians over the rounds; a ratio is the median of each round's, whose two runs are neighbours in time.")
	fmt.Println()
	fmt.Printf("%-34s %-6s %9s %9s %7s %9s %9s %7s\n", "workload", "unit", "vgg 1", fmt.Sprintf("vgg %d", many), "vgg x",
		"PT 1", fmt.Sprintf("PT %d", many), "PT x")
	for _, name := range order {
		fmt.Printf("%-34s %-6s", name, units[name])
		for engine := range 2 {
			var one, all, gain []float64
			for r := range o.rounds {
				a, okA := rates[engine][0][r][name]
				b, okB := rates[engine][1][r][name]
				if okA {
					one = append(one, a)
				}
				if okB {
					all = append(all, b)
				}
				if okA && okB && a > 0 {
					gain = append(gain, b/a)
				}
			}
			fmt.Printf(" %9s %9s %7s", figure(one), figure(all), figure(gain))
		}
		fmt.Println()
	}
	if o.raw != "" {
		fmt.Printf("\nraw output in %s\n", o.raw)
	}
	return nil
}
