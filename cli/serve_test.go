package cli

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/synth"
)

// chromiumPath is the headless browser the page test drives: $VGG_CHROMIUM, else Debian's
// chromium (which .ci/run installs) or another Chromium on the PATH.
func chromiumPath() string {
	if p := os.Getenv("VGG_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// startServe runs 'vgg serve' with args on a free port until the test ends and returns its URL.
// Stopping it (as Ctrl-C does) must end the command cleanly.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, in := io.Pipe()
	app := App()
	app.Writer, app.ErrWriter = in, io.Discard
	done := make(chan error, 1)
	go func() {
		done <- app.RunContext(ctx, append([]string{"vgg", "serve", "--addr", "127.0.0.1:0"}, args...))
		in.Close()
	}()
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		cancel()
		t.Fatalf("vgg serve printed nothing: %v", <-done)
	}
	url := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`).FindString(lines.Text())
	if url == "" {
		cancel()
		t.Fatalf("vgg serve did not say where it listens: %q", lines.Text())
	}
	rest := make(chan string, 1)
	go func() {
		var b strings.Builder
		for lines.Scan() {
			b.WriteString(lines.Text() + "\n")
		}
		rest <- b.String()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("vgg serve ended with %v after being stopped", err)
			}
			if said := <-rest; !strings.Contains(said, "stopped") {
				t.Errorf("vgg serve did not say it stopped: %q", said)
			}
		case <-time.After(30 * time.Second):
			t.Error("vgg serve did not stop within 30 s")
		}
	})
	return url
}

// The page in a real browser: 'vgg serve' on a tiny model and its gallery; headless Chromium
// opens the page, picks a photo of three synthetic people with the file input, submits the
// form and reads each face's answer off the page; an oversized file, a file that is not a
// photo and a photo without a face each get their message, and the server answers a good
// photo again after each.
func TestServeInChromium(t *testing.T) {
	browser := chromiumPath()
	if browser == "" {
		t.Skip("no chromium installed (apt-get install chromium, or set VGG_CHROMIUM): the page is not tried in a browser")
	}
	data := filepath.Join(t.TempDir(), "gallery")
	if err := synth.WriteDataset(context.Background(), data, synth.Options{Seed: 5, Identities: 3, Photos: 2, Size: 96}); err != nil {
		t.Fatal(err)
	}
	names := []string{synth.Name(0), synth.Name(1), synth.Name(2)}
	model := randomModel(t, names, 3)
	if _, stderr, err := run(t, "index", "--model", model, "--data", data); err != nil {
		t.Fatalf("index: %v\n%s", err, stderr)
	}
	url := startServe(t, "--model", model, "--top", "3", "--max-upload-mb", "1")

	dir := t.TempDir()
	group := writeGroupPhoto(t)
	big := filepath.Join(dir, "big.jpg")
	os.WriteFile(big, make([]byte, 3<<20), 0o644)
	notes := filepath.Join(dir, "notes.jpg")
	os.WriteFile(notes, []byte("a shopping list, not a photo"), 0o644)
	wall := filepath.Join(dir, "wall.png")
	grey := image.NewGray(image.Rect(0, 0, 160, 160))
	for i := range grey.Pix {
		grey.Pix[i] = 128
	}
	if err := vision.WritePNG(wall, grey); err != nil {
		t.Fatal(err)
	}

	alloc, stopAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()))...)
	defer stopAlloc()
	browserCtx, stopBrowser := chromedp.NewContext(alloc)
	defer stopBrowser()
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("starting %s: %v", browser, err)
	}
	// send picks the photo with the file input, submits the form and waits for the element
	// want of the page that answers. The wait asks the page again and again rather than
	// trusting one query across the navigation the form starts (which can miss the new page).
	send := func(photo, want string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browserCtx, 60*time.Second)
		defer cancel()
		err := chromedp.Do(ctx,
			chromedp.Navigate(url),
			chromedp.WaitVisible("#photo"),
			chromedp.SetUploadFiles("#photo", []string{photo}),
			chromedp.Click("#submit"),
		)
		for err == nil {
			try, cancelTry := context.WithTimeout(ctx, 2*time.Second)
			found, tryErr := chromedp.Run(try, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", want)))
			cancelTry()
			if tryErr == nil && found {
				break
			}
			if err = ctx.Err(); err == nil {
				time.Sleep(100 * time.Millisecond)
			}
		}
		if err != nil {
			ctx, cancel := context.WithTimeout(browserCtx, 5*time.Second)
			defer cancel()
			body, _ := chromedp.Run(ctx, chromedp.OuterHTML("body"))
			t.Fatalf("sending %s: %v; the page shows:\n%.1000s", filepath.Base(photo), err, body)
		}
	}
	// text reads an element's text, asking again while the page is still being replaced (a
	// node found in one document is gone from the next: "No node with given id found").
	text := func(sel string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(browserCtx, 10*time.Second)
		defer cancel()
		for {
			try, cancelTry := context.WithTimeout(ctx, 2*time.Second)
			s, err := chromedp.Run(try, chromedp.Text(sel))
			cancelTry()
			if err == nil {
				return s
			}
			if ctx.Err() != nil {
				t.Fatalf("reading %s: %v", sel, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	good := func() {
		t.Helper()
		send(group, "#answer-3")
		for _, face := range []string{"1", "2", "3"} {
			best := text("#answer-" + face + " .best")
			if !strings.Contains(strings.Join(names, " "), best) || best == "" {
				t.Errorf("face %s: looks most like %q, not one of %v", face, best, names)
			}
			if table := text("#matches-" + face); strings.Count(table, "\n") < 3 {
				t.Errorf("face %s: the table of matches is %q", face, table)
			}
			if c := text("#confidence-" + face); c == "" {
				t.Errorf("face %s says nothing of how sure it is", face)
			}
		}
		if photo := text("#photo"); photo != "" { // an <img>: no text, but it must be there
			t.Errorf("the photo element holds text %q", photo)
		}
	}
	good()
	for _, c := range []struct{ photo, want string }{
		{big, "larger than the 1 MB"},
		{notes, "notes.jpg: not an image"},
		{wall, "No face found in wall.png"},
	} {
		send(c.photo, "#error")
		if msg := text("#error"); !strings.Contains(msg, c.want) {
			t.Errorf("%s: the page says %q, want %q", filepath.Base(c.photo), msg, c.want)
		}
		good()
	}
}
