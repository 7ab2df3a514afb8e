package cuda

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestLaunchedKernelsAreInPTX needs no GPU and no build tag: it parses every Go file of the
// package (the cuda-tagged launchers included), collects each kernel{module, entry} literal,
// and checks that the embedded PTX of that module defines that entry. A renamed or missing
// kernel fails here instead of at the first launch on a GPU machine.
func TestLaunchedKernelsAreInPTX(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no Go sources here: the test binary runs outside its package directory")
	}
	fset := token.NewFileSet()
	var launched []kernel
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if id, ok := lit.Type.(*ast.Ident); !ok || id.Name != "kernel" {
				return true
			}
			if len(lit.Elts) != 2 {
				t.Errorf("%s: kernel literal needs a module and an entry", fset.Position(lit.Pos()))
				return true
			}
			var parts [2]string
			for i, e := range lit.Elts {
				s, ok := e.(*ast.BasicLit)
				if !ok || s.Kind != token.STRING {
					t.Errorf("%s: kernel literal fields must be string constants", fset.Position(e.Pos()))
					return true
				}
				parts[i], _ = strconv.Unquote(s.Value)
			}
			launched = append(launched, kernel{parts[0], parts[1]})
			return true
		})
	}
	if len(launched) < 20 {
		t.Fatalf("found only %d kernel literals; the launchers should name every op's kernels", len(launched))
	}
	for _, k := range launched {
		ptx, err := modulePTX(k.module)
		if err != nil {
			t.Error(err)
			continue
		}
		if !slices.Contains(ptxEntries(ptx), k.entry) {
			t.Errorf("kernel %s is launched but %s.ptx has no .entry of that name (has %v); run go generate",
				k.entry, k.module, ptxEntries(ptx))
		}
	}
}

// TestPTXTarget checks the embedded PTX is what go:generate promises: sm_80 code that the
// driver JIT-compiles on every newer GPU.
func TestPTXTarget(t *testing.T) {
	entries, err := ptxFiles.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, _ := ptxFiles.ReadFile(e.Name())
		if !strings.Contains(string(data), "\n.target sm_80\n") {
			t.Errorf("%s: not generated for .target sm_80", e.Name())
		}
	}
}
