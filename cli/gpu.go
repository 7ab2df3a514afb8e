package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/kerneltest"
)

func init() {
	addCommand(&cli.Command{
		Name:  "gpu",
		Usage: "describe the GPU and check every op of the contract on it",
		Description: "Prints the GPU's name, memory, compute capability and driver version, then runs " +
			"the conformance table that every backend's tests run (kernels/kerneltest): each op of " +
			"the kernels contract on random inputs of odd sizes against float64 references, and " +
			"with bad arguments, which must be refused as on the CPU. Prints per op the cases run, " +
			"the largest relative error and the result, then how many ops agree and which ops the " +
			"GPU backend does not implement yet (missing). Fails when the build has no GPU support " +
			"or an op disagrees; a missing op is named, not a failure.",
		Action: runGPU,
	})
}

func runGPU(c *cli.Context) error {
	gpu, err := kernels.Open("cuda")
	if err != nil {
		return err
	}
	defer gpu.Close()
	out := c.App.Writer
	fmt.Fprintf(out, "GPU: %s\n\n", gpu.Describe())
	report := kerneltest.Run(gpu, kerneltest.DefaultTolerance())
	printConformance(out, report)
	if !report.OK() {
		return fmt.Errorf("gpu: %s", report.Summary())
	}
	return nil
}

// printConformance prints one line per op (the memory ops first), then the summary.
func printConformance(out io.Writer, r kerneltest.Report) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "op\tcases\tmax relative error\tresult")
	for _, o := range append([]kerneltest.OpReport{r.Memory}, r.Ops...) {
		result := "ok"
		switch {
		case o.Failed > 0:
			result = fmt.Sprintf("FAIL (%d of %d cases): %s", o.Failed, o.Cases, o.Why)
		case o.Missing:
			result = "MISSING: " + o.Why
		case o.Cases == 0:
			result = "not checked"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2e\t%s\n", o.Op, o.Cases, o.WorstRelErr, result)
	}
	tw.Flush()
	fmt.Fprintf(out, "\n%s\n", r.Summary())
}
