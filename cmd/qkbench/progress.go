package main

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/qkbench/qkbench/bench"
)

// progressEvery is how often a sweep or check whose stderr is not a
// terminal (piped, in CI) says how far it got.
const progressEvery = 15 * time.Second

// showProgress reports s's progress on stderr: a progress bar on a
// terminal, else a line every progressEvery (and one at the end), so that a
// log shows a long run is alive without filling up. It returns a function
// that ends the display.
func showProgress(s *bench.Sweep, verb string, quiet bool, stderr io.Writer) (done func()) {
	if quiet {
		return func() {}
	}
	if isTerminal(stderr) {
		bar := progressbar.NewOptions(s.Steps(), progressbar.OptionSetWriter(stderr), progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish(),
			progressbar.OptionSetDescription(verb))
		s.Progress = func(done, total int, what string) {
			bar.Describe(fmt.Sprintf("%-18s", truncate(what, 18)))
			bar.Set(done)
		}
		return func() { bar.Finish() }
	}
	p := &progressLines{w: stderr, verb: verb, start: time.Now(), every: progressEvery}
	s.Progress = p.update
	return p.finish
}

// progressLines writes a progress line at most every so often.
type progressLines struct {
	w           io.Writer
	verb        string
	start, last time.Time
	every       time.Duration
	done, total int
	what        string
	lines       int // for tests
}

func (p *progressLines) update(done, total int, what string) {
	p.done, p.total, p.what = done, total, what
	now := time.Now()
	if p.last.IsZero() && now.Sub(p.start) < p.every || !p.last.IsZero() && now.Sub(p.last) < p.every {
		return
	}
	p.print(now)
}

func (p *progressLines) print(now time.Time) {
	p.last = now
	p.lines++
	el := now.Sub(p.start)
	left := ""
	if p.done > 0 && p.done < p.total {
		left = fmt.Sprintf(", about %v left", (time.Duration(float64(el) * float64(p.total-p.done) / float64(p.done))).Round(time.Second))
	}
	fmt.Fprintf(p.w, "qkbench %s: %d%% (%d of %d steps) after %v%s; at %s\n", p.verb, 100*p.done/max(p.total, 1), p.done, p.total, el.Round(time.Second), left, p.what)
}

func (p *progressLines) finish() {
	if p.lines > 0 {
		p.print(time.Now())
	}
}
