// Command cpuvstorch compares the vgg engine's CPU benchmarks with PyTorch's CPU build, side
// by side on the same cores with the same number of threads T.
//
// It builds the test binaries of ./bench and ./kernels/cpu/sgemm, then runs rounds. Each
// round measures the FMA peak of the cores (BenchmarkFMAPeak, a single-threaded copy pinned
// to each core, all at once, summed), then runs, pinned with taskset -c to the same cores,
// first the Go benchmarks with GOMAXPROCS=T (BenchmarkSgemm with the default micro-kernel,
// BenchmarkOps/cpu's convolutions and linear layers at batch 8, BenchmarkVGGDTrainStep and
// BenchmarkVGGDForward at batch 8, BenchmarkSmallTrainStep and BenchmarkSmallForward, the
// README's small network, at batch 16) and then bench/cpu_twin.py with torch.set_num_threads(T)
// and OMP_NUM_THREADS=T, which times the same workloads under the same names (the GEMMs twice:
// torch.mm through the build's libblas, and oneDNN). It prints, per workload, the median over
// rounds of each engine's figure, the median over rounds of the ratio vgg/PyTorch (a round's
// two runs are neighbours in time, so a busy machine slows both alike), and each GFLOP/s as a
// share of the best round's peak (a whole-model row counts the Go model's FLOPs per image).
//
//	go run ./bench/cpuvstorch -threads 1 -rounds 3        # the comparison (minutes)
//	go run ./bench/cpuvstorch -quick -rounds 1            # smoke test: one timed run of each
//	go run ./bench/cpuvstorch -models -rounds 5           # the whole networks only
//	go run ./bench/cpuvstorch -scaling -threads 2 -rounds 4  # what the second core gives each engine
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vgglab/vgg/kernels/cpu/sgemm"
)

type options struct {
	threads   int
	cores     []string // taskset's CPU numbers, one per thread
	rounds    int
	benchtime time.Duration
	quick     bool
	models    bool // the whole-network rows only
	python    string
	raw       string // folder for each run's raw output; "" keeps them only while running
	scaling   bool   // what the threads give against one, instead of the comparison
}

func main() {
	var o options
	var cores, benchtime string
	flag.IntVar(&o.threads, "threads", 1, "threads for both engines: GOMAXPROCS and torch.set_num_threads")
	flag.StringVar(&cores, "cores", "", "comma-separated CPUs to pin both engines to, one per thread (default 0..threads-1)")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of Go then PyTorch")
	flag.StringVar(&benchtime, "benchtime", "500ms", "time per workload and round in each engine, at least")
	flag.BoolVar(&o.quick, "quick", false, "one timed run per workload (smoke test; the figures are noisy)")
	flag.BoolVar(&o.models, "models", false, "only the whole networks' training steps and inference, not the GEMMs and layers")
	flag.StringVar(&o.python, "python", "/usr/bin/python3", "the Python with PyTorch")
	flag.StringVar(&o.raw, "raw", "", "keep every run's raw output in this folder")
	flag.BoolVar(&o.scaling, "scaling", false, "instead, time the whole networks on 1 thread and on -threads (2 or more), turn about, in both engines, and print what the threads give each")
	flag.Parse()
	if err := o.complete(cores, benchtime); err != nil {
		fmt.Fprintln(os.Stderr, "cpuvstorch:", err)
		os.Exit(2)
	}
	runner := run
	if o.scaling {
		runner = runScaling
	}
	if err := runner(o); err != nil {
		fmt.Fprintln(os.Stderr, "cpuvstorch:", err)
		os.Exit(1)
	}
}

// complete checks the options and fills in the cores and the benchtime.
func (o *options) complete(cores, benchtime string) error {
	if o.threads < 1 || o.threads > runtime.NumCPU() {
		return fmt.Errorf("-threads %d: this machine has %d CPUs", o.threads, runtime.NumCPU())
	}
	if o.rounds < 1 {
		return fmt.Errorf("-rounds %d: at least 1", o.rounds)
	}
	if o.scaling && o.threads < 2 {
		return fmt.Errorf("-scaling compares -threads with 1: give -threads 2 or more")
	}
	if cores == "" {
		for i := range o.threads {
			o.cores = append(o.cores, strconv.Itoa(i))
		}
	} else {
		o.cores = strings.Split(cores, ",")
	}
	if len(o.cores) != o.threads {
		return fmt.Errorf("-cores %q: %d CPUs for %d threads", cores, len(o.cores), o.threads)
	}
	for _, c := range o.cores {
		if _, err := strconv.Atoi(c); err != nil {
			return fmt.Errorf("-cores %q: %q is not a CPU number", cores, c)
		}
	}
	d, err := time.ParseDuration(benchtime)
	if err != nil || d <= 0 {
		return fmt.Errorf("-benchtime %q: want a duration such as 500ms", benchtime)
	}
	o.benchtime = d
	return nil
}

// torchResult is what bench/cpu_twin.py writes.
type torchResult struct {
	Torch   string `json:"torch"`
	Threads int    `json:"threads"`
	Libblas string `json:"libblas"`
	Rows    []struct {
		Name  string  `json:"name"`
		Path  string  `json:"path"`
		Value float64 `json:"value"`
		Unit  string  `json:"unit"`
	} `json:"rows"`
}

// workload is one row of the table: a Go benchmark name and, for the GEMMs, which of
// PyTorch's paths it is compared with.
type workload struct{ name, path string }

// setup is what a run needs first: the module's root, a temporary folder (removed by
// cleanup), the folder for raw output (-raw, else the temporary one) and the test binaries
// of pkgs built there, in pkgs' order.
func setup(o options, pkgs ...string) (root, rawDir string, bins []string, cleanup func(), err error) {
	if root, err = repoRoot(); err != nil {
		return
	}
	tmp, err := os.MkdirTemp("", "cpuvstorch")
	if err != nil {
		return
	}
	cleanup = func() { os.RemoveAll(tmp) }
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	rawDir = o.raw
	if rawDir == "" {
		rawDir = tmp
	} else if err = os.MkdirAll(rawDir, 0o755); err != nil {
		return
	}
	for _, pkg := range pkgs {
		bin := filepath.Join(tmp, filepath.Base(pkg)+".test")
		if err = command(root, nil, "go", "test", "-c", "-o", bin, pkg).Run(); err != nil {
			err = fmt.Errorf("building %s: %w", pkg, err)
			return
		}
		bins = append(bins, bin)
	}
	return
}

func run(o options) error {
	root, rawDir, bins, cleanup, err := setup(o, "./bench", "./kernels/cpu/sgemm")
	if err != nil {
		return err
	}
	defer cleanup()
	benchBin, sgemmBin := bins[0], bins[1]
	variant := sgemm.Default().Name
	goBenchtime, fmaTimes, quickNote := o.benchtime.String(), "200x", ""
	if o.quick {
		goBenchtime, fmaTimes, quickNote = "1x", "20x", " (quick: one timed run each, noisy)"
	}

	goRounds := make([]map[string]map[string]float64, o.rounds)
	torchRounds := make([]map[workload]float64, o.rounds)
	var order []workload
	units := map[workload]string{}
	var info torchResult
	load := []string{loadavg()}
	var peaks []float64
	for r := range o.rounds {
		if variant == "avx512" || variant == "avx2" {
			p, err := fmaPeak(root, sgemmBin, variant, fmaTimes, o.cores)
			if err != nil {
				return err
			}
			peaks = append(peaks, p)
		}
		fmt.Fprintf(os.Stderr, "round %d of %d: Go\n", r+1, o.rounds)
		var goOut bytes.Buffer
		goBenches := []struct{ dir, bin, pattern string }{
			{"kernels/cpu/sgemm", sgemmBin, "^BenchmarkSgemm$/./^" + variant + "$"},
			{"bench", benchBin, "^Benchmark(Ops|VGGDTrainStep|VGGDForward|SmallTrainStep|SmallForward)$/^cpu$/^(conv|fc|batch=)"},
		}
		if o.models {
			goBenches = goBenches[1:]
			goBenches[0].pattern = "^Benchmark(VGGDTrainStep|VGGDForward|SmallTrainStep|SmallForward)$/^cpu$/^batch="
		}
		for _, b := range goBenches {
			if err := goBench(root, b.dir, b.bin, b.pattern, goBenchtime, o.cores, &goOut); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(rawDir, fmt.Sprintf("go-round%d.txt", r+1)), goOut.Bytes(), 0o644); err != nil {
			return err
		}
		goRounds[r] = parseGo(goOut.String(), o.threads, variant)

		fmt.Fprintf(os.Stderr, "round %d of %d: PyTorch\n", r+1, o.rounds)
		info, err = torchBench(root, o, o.cores, filepath.Join(rawDir, fmt.Sprintf("torch-round%d.json", r+1)))
		if err != nil {
			return err
		}
		torchRounds[r] = map[workload]float64{}
		for _, row := range info.Rows {
			w := workload{row.Name, row.Path}
			if r == 0 {
				order = append(order, w)
				units[w] = row.Unit
			}
			torchRounds[r][w] = row.Value
		}
	}
	load = append(load, loadavg())

	fmt.Printf("vgg against PyTorch %s on the CPU, %s\n", info.Torch, cpuModel())
	fmt.Printf("%d thread(s) on CPU %s, %d round(s) of Go then PyTorch, Go -benchtime %s%s; load average %s before, %s after\n",
		o.threads, strings.Join(o.cores, ","), o.rounds, goBenchtime, quickNote, load[0], load[1])
	fmt.Printf("vgg: Go %s, SGEMM micro-kernel %s; PyTorch: %d thread(s), torch.mm's BLAS %s\n",
		runtime.Version(), variant, info.Threads, info.Libblas)
	peak := 0.0 // the best of the rounds: the ceiling, which a busy machine can only lower
	if len(peaks) > 0 {
		peak = slices.Max(peaks)
		fmt.Printf("FMA peak of the %d CPU(s) (%s, BenchmarkFMAPeak on each CPU at once, each round): %.1f GFLOP/s, the best of %s\n",
			o.threads, variant, peak, strings.Join(formatAll(peaks, "%.1f"), ", "))
	}
	fmt.Println("Every figure is a rate (higher is faster): vgg/PT above 1 means vgg is faster.")
	fmt.Println()
	fmt.Printf("%-46s %-8s %10s %10s %8s %8s %8s\n", "workload", "unit", "vgg", "PyTorch", "vgg/PT", "vgg%pk", "PT%pk")
	for _, w := range order {
		unit := units[w]
		var mine, theirs, ratios, gflopPerUnit []float64
		for r := range o.rounds {
			m, okM := goRounds[r][w.name][unit]
			t, okT := torchRounds[r][w]
			if okM {
				mine = append(mine, m)
				if g, ok := goRounds[r][w.name]["GFLOP/s"]; ok && unit != "GFLOP/s" && m > 0 {
					gflopPerUnit = append(gflopPerUnit, g/m)
				}
			}
			if okT {
				theirs = append(theirs, t)
			}
			if okM && okT && t > 0 {
				ratios = append(ratios, m/t)
			}
		}
		label := w.name
		if w.path != "" {
			label += " [" + w.path + "]"
		}
		fmt.Printf("%-46s %-8s %10s %10s %8s", label, unit, figure(mine), figure(theirs), figure(ratios))
		if peak > 0 {
			// A whole-model row's GFLOP per image is the Go benchmark's: the same network.
			scale := 1.0
			if unit != "GFLOP/s" {
				scale = median(gflopPerUnit)
			}
			fmt.Printf(" %8s %8s", percent(median(mine)*scale, peak), percent(median(theirs)*scale, peak))
		}
		fmt.Println()
	}
	for _, name := range slices.Sorted(maps.Keys(goRounds[0])) {
		if !slices.ContainsFunc(order, func(w workload) bool { return w.name == name }) {
			fmt.Printf("(%s: measured in Go only)\n", name)
		}
	}
	if o.raw != "" {
		fmt.Printf("\nraw output in %s\n", o.raw)
	}
	return nil
}

// goBench runs the test binary bin's benchmarks matching pattern in root/dir, pinned to cores
// with GOMAXPROCS set to their number, appending the output to out.
func goBench(root, dir, bin, pattern, benchtime string, cores []string, out *bytes.Buffer) error {
	cmd := command(filepath.Join(root, dir), []string{"GOMAXPROCS=" + strconv.Itoa(len(cores))},
		"taskset", "-c", strings.Join(cores, ","), bin,
		"-test.run", "^$", "-test.bench", pattern, "-test.benchtime", benchtime, "-test.timeout", "0")
	cmd.Stdout = out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go benchmarks %s: %w\n%s", dir, err, out.String())
	}
	return nil
}

// torchBench runs bench/cpu_twin.py pinned to cores with as many threads, its results
// written to jsonPath and returned.
func torchBench(root string, o options, cores []string, jsonPath string) (torchResult, error) {
	threads := strconv.Itoa(len(cores))
	args := []string{"-c", strings.Join(cores, ","), o.python, filepath.Join(root, "bench/cpu_twin.py"),
		"--threads", threads, "--benchtime", strconv.FormatFloat(o.benchtime.Seconds(), 'g', -1, 64), "--json", jsonPath}
	if o.quick {
		args = append(args, "--quick")
	}
	if o.models {
		args = append(args, "--models")
	}
	cmd := command(root, []string{"OMP_NUM_THREADS=" + threads, "MKL_NUM_THREADS=" + threads,
		"OPENBLAS_NUM_THREADS=" + threads}, "taskset", args...)
	if err := cmd.Run(); err != nil {
		return torchResult{}, fmt.Errorf("bench/cpu_twin.py: %w", err)
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		return torchResult{}, err
	}
	var res torchResult
	if err := json.Unmarshal(data, &res); err != nil {
		return torchResult{}, fmt.Errorf("%s: %w", jsonPath, err)
	}
	return res, nil
}

// fmaPeak measures the FMA peak of the cores in GFLOP/s: a single-threaded BenchmarkFMAPeak
// pinned to each core, all at once, summed.
func fmaPeak(root, sgemmBin, variant, times string, cores []string) (float64, error) {
	outs := make([]bytes.Buffer, len(cores))
	cmds := make([]*exec.Cmd, len(cores))
	for i, core := range cores {
		cmds[i] = command(filepath.Join(root, "kernels/cpu/sgemm"), []string{"GOMAXPROCS=1"},
			"taskset", "-c", core, sgemmBin, "-test.run", "^$", "-test.bench", "^BenchmarkFMAPeak$/^"+variant+"$",
			"-test.cpu", "1", "-test.benchtime", times)
		cmds[i].Stdout = &outs[i]
		if err := cmds[i].Start(); err != nil {
			return 0, err
		}
	}
	peak := 0.0
	var failed error
	for i, cmd := range cmds { // wait for every copy, even after a failure
		if err := cmd.Wait(); err != nil {
			failed = fmt.Errorf("FMA peak on CPU %s: %w\n%s", cores[i], err, outs[i].String())
			continue
		}
		p, ok := parseGo(outs[i].String(), 1, variant)["FMAPeak/"+variant]["GFLOP/s"]
		if !ok {
			failed = fmt.Errorf("FMA peak on CPU %s: no GFLOP/s in\n%s", cores[i], outs[i].String())
		}
		peak += p
	}
	return peak, failed
}

// command is name args run in dir with extra environment variables, its stderr passed through.
func command(dir string, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	return cmd
}

// repoRoot is the folder of the module's go.mod.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run this inside the vgg module")
	}
	return filepath.Dir(gomod), nil
}

// parseGo reads `go test -bench` output into name -> unit -> value. A name loses its
// "Benchmark" prefix, the "-threads" suffix Go adds when GOMAXPROCS is not 1, and, for
// Sgemm, the micro-kernel variant, so that it is the name bench/cpu_twin.py uses.
func parseGo(out string, threads int, variant string) map[string]map[string]float64 {
	res := map[string]map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || f[3] != "ns/op" {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if threads != 1 {
			name = strings.TrimSuffix(name, "-"+strconv.Itoa(threads))
		}
		if strings.HasPrefix(name, "Sgemm/") {
			name = strings.TrimSuffix(name, "/"+variant)
		}
		metrics := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				metrics[f[i+1]] = v
			}
		}
		res[name] = metrics
	}
	return res
}

// median of xs, NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// figure is the median of xs with two decimals, "-" for none.
func figure(xs []float64) string {
	if len(xs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", median(xs))
}

// formatAll formats each of xs.
func formatAll(xs []float64, format string) []string {
	var s []string
	for _, x := range xs {
		s = append(s, fmt.Sprintf(format, x))
	}
	return s
}

// percent is x as a percentage of peak, "-" when x is unknown.
func percent(x, peak float64) string {
	if x != x || peak <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*x/peak)
}

// loadavg is the 1-minute load average, or "?".
func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// cpuModel is /proc/cpuinfo's model name, or the architecture.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}
