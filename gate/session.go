package gate

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/qkbench/qkbench/workloads"
)

// CellSpec is one cell a gate measures: a kernel on a generated workload
// with a thread count.
type CellSpec struct {
	Kernel   string `json:"kernel"`
	Shape    string `json:"shape"`
	Rows     int    `json:"rows"`
	Cols     int    `json:"cols"`
	Threads  int    `json:"threads"`
	Codebook string `json:"codebook"`
	Mode     string `json:"mode"`
	Seed     uint64 `json:"seed"`
	// Activations names the x generator; "" or gaussian is what every
	// server generates, anything else only one that says so (Check).
	Activations string `json:"activations,omitempty"`
}

// Name is the cell's benchmark name, as the sweep writes it.
func (c CellSpec) Name() string {
	return fmt.Sprintf("GEMV/kernel=%s/shape=%s/threads=%d/mode=%s", c.Kernel, c.Shape, c.Threads, c.Mode)
}

func (c CellSpec) request(id int) Request {
	return Request{Op: "setup", Cell: id, Kernel: c.Kernel, Rows: c.Rows, Cols: c.Cols, Threads: c.Threads, Codebook: c.Codebook, Mode: c.Mode, Seed: c.Seed,
		Activations: c.Activations}
}

// checkSource errs when a server's setup answer does not show the cell's
// activations: a server from before Request.Activations generates gaussian
// x whatever it is asked, and answers without a Source.
func (c CellSpec) checkSource(b Build, resp Response) error {
	if workloads.Activations(c.Activations).Tag() == "" || resp.Status != "ok" {
		return nil
	}
	if !strings.Contains(resp.Source, "activations="+c.Activations+" ") {
		return fmt.Errorf("gate: the %s build cannot generate %s activations (its workload: %q; builds from before --activations make gaussian x only): gate on gaussian x or choose a later %s",
			b.name(), c.Activations, resp.Source, strings.ToLower(b.Label))
	}
	return nil
}

// Build is how to start one side's sample server.
type Build struct {
	Label string   // "base", "head"
	Rev   string   // what the user named ("HEAD~1", "working tree")
	ID    string   // commit hash, or "working tree"
	Bin   string   // the qkbench executable
	Dir   string   // its working directory
	Env   []string // its environment; nil: the gate's own
}

func (b Build) name() string { return fmt.Sprintf("%s (%s)", b.Label, b.Rev) }

// SetupResult is what one side's server said when a cell was set up.
type SetupResult struct {
	Status        string  `json:"status"`
	Reason        string  `json:"reason,omitempty"`
	Seconds       float64 `json:"estimate_seconds,omitempty"`
	ActiveThreads int     `json:"active_threads,omitempty"`
	Slowdown      float64 `json:"slowdown,omitempty"` // the test hook was on
}

// SampleRecord is one timed sample, for the benchfmt output.
type SampleRecord struct {
	Side      Side
	Cell      int
	Iters     int
	Seconds   float64 // per GEMV
	Disturbed bool
	CPU       float64 // CPU seconds the server used during the sample (-1: unknown)
}

// Session runs sample servers for two builds over a list of cells.
type Session struct {
	Builds     [2]Build
	Cells      []CellSpec
	SampleTime time.Duration // target length of one sample

	Setup [2][]SetupResult // per side and cell, from Check
	Iters []int            // GEMVs per sample, per cell (same for both sides)

	mu      sync.Mutex
	Samples []SampleRecord // every sample taken, in order
	ownCPU  float64        // CPU seconds of the servers closed so far
}

// Check starts both servers once per group, sets up every cell of the
// group on both (each server checks its kernel's output against the
// references), and records what they said. It fixes each cell's GEMVs per
// sample from the base build's estimate (the same for both sides, so that
// both halves of a pair run equally long).
func (s *Session) Check(ctx context.Context, groups [][]int) error {
	for side := range s.Setup {
		s.Setup[side] = make([]SetupResult, len(s.Cells))
	}
	s.Iters = make([]int, len(s.Cells))
	for _, g := range groups {
		var srv [2]*Server
		for side := range srv {
			var err error
			if srv[side], err = s.start(ctx, Side(side)); err != nil {
				if side == 1 {
					srv[0].Close()
				}
				return err
			}
		}
		for _, c := range g {
			for side := range srv {
				resp, err := srv[side].Call(ctx, s.Cells[c].request(c))
				if err != nil {
					srv[0].Close()
					srv[1].Close()
					return err
				}
				if err := s.Cells[c].checkSource(s.Builds[side], resp); err != nil {
					srv[0].Close()
					srv[1].Close()
					return err
				}
				s.Setup[side][c] = SetupResult{Status: resp.Status, Reason: resp.Error, Seconds: resp.Seconds, ActiveThreads: resp.ActiveThreads, Slowdown: resp.Slowdown}
				srv[side].Call(ctx, Request{Op: "drop", Cell: c})
			}
			if est := s.Setup[Base][c].Seconds; est > 0 {
				s.Iters[c] = max(1, int(math.Round(s.SampleTime.Seconds()/est)))
			}
		}
		srv[0].Close()
		srv[1].Close()
	}
	return nil
}

func (s *Session) start(ctx context.Context, side Side) (*Server, error) {
	b := s.Builds[side]
	return StartServer(ctx, b.name(), b.Bin, b.Dir, b.Env)
}

// OwnCPU returns the CPU seconds the sample servers of Open used over
// their whole lives, once closed: start-up, set-up and the agreement
// check of every cell, warm-ups and samples. A gate that counted only the
// samples would blame its own servers' set-up on "other processes".
func (s *Session) OwnCPU() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ownCPU
}

// Open is the Session's Opener: fresh servers for both builds with the
// cells set up.
func (s *Session) Open(ctx context.Context, cells []int) (Sampler, func(), error) {
	var srv [2]*Server
	closeAll := func() { // and count the servers' CPU as the gate's own
		for _, v := range srv {
			if v != nil {
				v.Close()
				s.mu.Lock()
				s.ownCPU += v.CPU().Seconds()
				s.mu.Unlock()
			}
		}
	}
	for side := range srv {
		var err error
		if srv[side], err = s.start(ctx, Side(side)); err != nil {
			closeAll()
			return nil, nil, err
		}
		for _, c := range cells {
			resp, err := srv[side].Call(ctx, s.Cells[c].request(c))
			if err == nil && resp.Status != "ok" {
				err = fmt.Errorf("gate: %s: %s on %s: %s: %s", srv[side].Name, s.Cells[c].Kernel, s.Cells[c].Shape, resp.Status, resp.Error)
			}
			if err != nil {
				closeAll()
				return nil, nil, err
			}
		}
	}
	return &sessionSampler{s: s, srv: srv}, closeAll, nil
}

type sessionSampler struct {
	s   *Session
	srv [2]*Server
}

// MinCPUShare is the share of a sample's elapsed time × active threads
// that its process must have spent on the CPU; below it the sample was
// disturbed (descheduled: another process had the core).
const MinCPUShare = 0.97

func (p *sessionSampler) Sample(ctx context.Context, side Side, c int) (Sample, error) {
	n := p.s.Iters[c]
	resp, err := p.srv[side].Call(ctx, Request{Op: "sample", Cell: c, Iters: n})
	if err != nil {
		return Sample{}, err
	}
	v := Sample{Seconds: resp.Seconds / float64(n)}
	threads := max(p.s.Setup[side][c].ActiveThreads, 1)
	if resp.CPUSeconds > 0 && resp.CPUSeconds < MinCPUShare*resp.Seconds*float64(threads) {
		v.Disturbed = true
	}
	p.s.mu.Lock()
	p.s.Samples = append(p.s.Samples, SampleRecord{Side: side, Cell: c, Iters: n, Seconds: v.Seconds, Disturbed: v.Disturbed, CPU: resp.CPUSeconds})
	p.s.mu.Unlock()
	return v, nil
}
