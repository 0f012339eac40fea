package gate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/qkbench/qkbench/bench"
	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/machine"
	"github.com/qkbench/qkbench/workloads"
)

// Protocol is the version of the sample-server protocol: JSON requests, one
// per line on the server's stdin, each answered by one JSON line on its
// stdout. A gate refuses a server that speaks another version.
//
//	{"op":"hello"}                         -> {"ok":true,"protocol":1,"go":"go1.26.8","kernels":[...]}
//	{"op":"setup","cell":3,"kernel":"avx2-i8","rows":2048,"cols":4096,
//	 "threads":1,"codebook":"ternary","mode":"hot","seed":42,"activations":"extreme"}
//	                                       -> {"ok":true,"status":"ok","seconds":5.9e-05,"source":"generated: ..."}
//	{"op":"sample","cell":3,"iters":170}   -> {"ok":true,"seconds":0.0101,"cpu_seconds":0.0101}
//	{"op":"drop","cell":3}                 -> {"ok":true}
//	{"op":"quit"}                          -> {"ok":true}, then the server exits
//
// setup generates the workload, prepares the kernel, checks its output
// against the references as the sweep does (status "failed" with the reason
// when it disagrees; "unavailable", "unsupported" or "error" when it cannot
// run) and returns an estimate of the seconds per GEMV. sample runs one
// untimed GEMV (to warm the caches after the other build ran), then times
// iters GEMVs and returns the elapsed seconds and the CPU time the process
// used meanwhile (all threads; -1 when unknown): a sample whose CPU time
// falls short of elapsed × active threads was descheduled for part of it,
// another process took the core. An error is {"ok":false,
// "error":"..."}; the server goes on serving.
const Protocol = 2

// Request is one line a gate sends to a sample server.
type Request struct {
	Op       string `json:"op"`
	Cell     int    `json:"cell,omitempty"`
	Kernel   string `json:"kernel,omitempty"`
	Rows     int    `json:"rows,omitempty"`
	Cols     int    `json:"cols,omitempty"`
	Threads  int    `json:"threads,omitempty"`
	Codebook string `json:"codebook,omitempty"`
	Mode     string `json:"mode,omitempty"` // hot or cold
	Seed     uint64 `json:"seed,omitempty"`
	Iters    int    `json:"iters,omitempty"`
	// Activations names the x generator ("": gaussian). A server from
	// before the field ignores it; its setup answers without Source, which
	// the gate takes as "cannot" for anything but gaussian.
	Activations string `json:"activations,omitempty"`
}

// Response is a sample server's answer to one Request.
type Response struct {
	OK       bool           `json:"ok"`
	Error    string         `json:"error,omitempty"`
	Protocol int            `json:"protocol,omitempty"`
	Go       string         `json:"go,omitempty"`
	Kernels  []ServerKernel `json:"kernels,omitempty"`
	// Status of a setup: "ok", "unavailable", "unsupported", "failed"
	// (disagreed with the references) or "error".
	Status string `json:"status,omitempty"`
	// Seconds: setup's estimate of one GEMV; sample's elapsed time.
	Seconds float64 `json:"seconds,omitempty"`
	// CPUSeconds is the CPU time of the sample's process (all threads)
	// while the sample ran; -1 when the system cannot say.
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	// ProcessCPU is the server process's CPU time so far (all threads,
	// warm-up and protocol included), after the sample; -1 when unknown.
	ProcessCPU float64 `json:"process_cpu_seconds,omitempty"`
	// ActiveThreads is how many threads got rows (setup).
	ActiveThreads int `json:"active_threads,omitempty"`
	// Slowdown is the relative delay the test hook adds to this cell (setup).
	Slowdown float64 `json:"slowdown,omitempty"`
	// Source says how setup's workload was generated (workloads.Spec.Source).
	Source string `json:"source,omitempty"`
}

// ServerKernel is a kernel as a sample server's build knows it.
type ServerKernel struct {
	ID        string `json:"id"`
	Mode      string `json:"mode"`
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"`
}

// EnvSlowdown names the test hook: "KERNEL=FRACTION[,KERNEL=FRACTION]"
// makes a sample server slow those kernels by FRACTION (0.05: 5% slower):
// each timed sample busy-waits, after its GEMVs, for FRACTION of the time
// they took, a delay of FRACTION of a GEMV per GEMV. It exists to calibrate
// and test the gate; a gate prints a warning whenever a server reports it
// on.
const EnvSlowdown = "QKBENCH_GATE_SLOWDOWN"

// SlowdownHook is the test hook's setting compiled into a build; the
// environment variable wins when set. It is "" in every real build.
var SlowdownHook = ""

// maxMatrixBytes bounds the weights one server prepares for a cell (all
// copies in cold mode), so that a wrong request cannot exhaust memory.
const maxMatrixBytes = 8 << 30

// server is a sample server's state.
type server struct {
	cells     map[int]*serverCell
	workloads map[string]*bench.Case
	slow      map[string]float64
}

type serverCell struct {
	runner *bench.Runner
	x, y   []float32
	slow   float64 // the test hook's relative delay (0: off)
}

// Serve runs a sample server on r and w until "quit" or the end of r.
func Serve(r io.Reader, w io.Writer) error {
	slow, err := parseSlowdown(hookSetting())
	if err != nil {
		return err
	}
	s := &server{cells: map[int]*serverCell{}, workloads: map[string]*bench.Case{}, slow: slow}
	defer s.closeAll()
	in := bufio.NewScanner(r)
	in.Buffer(make([]byte, 64<<10), 1<<20)
	out := bufio.NewWriter(w)
	enc := json.NewEncoder(out)
	for in.Scan() {
		var req Request
		var resp Response
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			resp = Response{Error: fmt.Sprintf("bad request %q: %v", truncate(in.Text(), 200), err)}
		} else {
			resp = s.handle(req)
		}
		if err := enc.Encode(resp); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
		if req.Op == "quit" {
			return nil
		}
	}
	return in.Err()
}

func hookSetting() string {
	if v, ok := os.LookupEnv(EnvSlowdown); ok {
		return v
	}
	return SlowdownHook
}

// parseSlowdown reads "id=0.05,id2=0.1".
func parseSlowdown(s string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		id, v, ok := strings.Cut(f, "=")
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || err != nil || !(x > 0 && x <= 10) {
			return nil, fmt.Errorf("%s: %q: want KERNEL=FRACTION with a fraction in (0, 10], e.g. avx2-i8=0.05", EnvSlowdown, f)
		}
		out[strings.TrimSpace(id)] = x
	}
	return out, nil
}

func (s *server) handle(req Request) Response {
	switch req.Op {
	case "hello":
		resp := Response{OK: true, Protocol: Protocol, Go: runtime.Version()}
		for _, k := range kernels.List() {
			i := k.Info()
			sk := ServerKernel{ID: i.ID, Mode: i.Mode.String(), Available: true}
			if err := kernels.Usable(k); err != nil {
				sk.Available, sk.Reason = false, err.Error()
			}
			resp.Kernels = append(resp.Kernels, sk)
		}
		return resp
	case "setup":
		return s.setup(req)
	case "sample":
		c := s.cells[req.Cell]
		if c == nil {
			return Response{Error: fmt.Sprintf("sample: cell %d is not set up", req.Cell)}
		}
		if req.Iters < 1 || req.Iters > 1<<30 {
			return Response{Error: fmt.Sprintf("sample: iters %d, want 1..%d", req.Iters, 1<<30)}
		}
		d, cpu, err := c.time(req.Iters, true)
		if err != nil {
			return Response{Error: err.Error()}
		}
		return Response{OK: true, Seconds: d.Seconds(), CPUSeconds: cpu, ProcessCPU: bench.ProcessCPU()}
	case "drop":
		if c := s.cells[req.Cell]; c != nil {
			c.runner.Close()
			delete(s.cells, req.Cell)
		}
		return Response{OK: true}
	case "quit":
		return Response{OK: true}
	}
	return Response{Error: fmt.Sprintf("unknown op %q; want hello, setup, sample, drop or quit", req.Op)}
}

// setup prepares and checks one cell.
func (s *server) setup(req Request) Response {
	fail := func(status string, err error) Response {
		return Response{OK: true, Status: status, Error: err.Error()}
	}
	if old := s.cells[req.Cell]; old != nil {
		old.runner.Close()
		delete(s.cells, req.Cell)
	}
	k, err := kernels.Lookup(req.Kernel)
	if err != nil {
		return fail("unavailable", err)
	}
	cb, err := kernels.ParseCodebook(req.Codebook)
	if err != nil {
		return Response{Error: err.Error()}
	}
	if req.Mode != "hot" && req.Mode != "cold" {
		return Response{Error: fmt.Sprintf("setup: mode %q, want hot or cold", req.Mode)}
	}
	if err := kernels.Usable(k); err != nil {
		return fail("unavailable", err)
	}
	if err := k.Supports(cb); err != nil {
		return fail("unsupported", err)
	}
	act := workloads.Gaussian
	if req.Activations != "" {
		if act, err = workloads.ParseActivations(req.Activations); err != nil {
			return Response{Error: "setup: " + err.Error()}
		}
	}
	c, err := s.workload(req.Rows, req.Cols, cb, req.Seed, act)
	if err != nil {
		return Response{Error: err.Error()}
	}
	m := c.W.M
	copies := 1
	if req.Mode == "cold" {
		copies = bench.ColdCopies(m.WeightBytes(), max(4*machine.Hardware().L3, 64<<20))
	}
	if m.WeightBytes()*int64(copies) > maxMatrixBytes {
		return Response{Error: fmt.Sprintf("setup: %d copies of %s (%d bytes each) exceed %d bytes", copies, m.Shape(), m.WeightBytes(), int64(maxMatrixBytes))}
	}
	var preps []kernels.Prepared
	for i := range copies {
		mi := m
		if i > 0 {
			mi = m.Clone()
		}
		p, err := k.Prepare(mi)
		if err != nil {
			return fail("error", err)
		}
		preps = append(preps, p)
	}
	r, err := bench.NewRotatingRunner(preps, req.Threads)
	if err != nil {
		return Response{Error: err.Error()}
	}
	for range preps {
		a, err := bench.Verify(r, c)
		if err != nil {
			r.Close()
			if a.Rows > 0 && !a.Pass {
				return fail("failed", err)
			}
			return fail("error", err)
		}
	}
	sc := &serverCell{runner: r, x: c.W.X, y: make([]float32, m.Rows)}
	est, err := sc.estimate()
	if err != nil {
		r.Close()
		return fail("error", err)
	}
	resp := Response{OK: true, Status: "ok", Seconds: est, ActiveThreads: r.Threads(), Source: c.W.Source}
	if f := s.slow[req.Kernel]; f > 0 {
		sc.slow, resp.Slowdown = f, f
	}
	s.cells[req.Cell] = sc
	runtime.GC() // the garbage of setup is not collected during samples
	return resp
}

// workload returns the generated workload of a shape, made once per server.
func (s *server) workload(rows, cols int, cb kernels.Codebook, seed uint64, act workloads.Activations) (*bench.Case, error) {
	key := fmt.Sprintf("%dx%d/%s/%d/%s", rows, cols, cb.Name(), seed, act)
	if c, ok := s.workloads[key]; ok {
		return c, nil
	}
	sp := workloads.SpecFor(workloads.Shape{Rows: rows, Cols: cols}, cb, seed)
	sp.Activations = act
	c, err := bench.NewCase(sp)
	if err != nil {
		return nil, err
	}
	s.workloads[key] = c
	return c, nil
}

func (s *server) closeAll() {
	for _, c := range s.cells {
		c.runner.Close()
	}
}

// time runs n GEMVs and returns the elapsed time; warm first runs one
// untimed GEMV. With the test hook on, it then busy-waits for the hook's
// fraction of the time the GEMVs took, so that the sample is exactly that
// fraction slower than its GEMVs, whatever state the host was in.
//
// It also returns the CPU time the process used meanwhile (-1: unknown).
func (c *serverCell) time(n int, warm bool) (time.Duration, float64, error) {
	if warm {
		if err := c.runner.GEMV(c.x, c.y); err != nil {
			return 0, 0, err
		}
	}
	cpu0 := bench.ProcessCPU()
	t0 := time.Now()
	for range n {
		if err := c.runner.GEMV(c.x, c.y); err != nil {
			return 0, 0, err
		}
	}
	d := time.Since(t0)
	if c.slow > 0 {
		end := time.Duration(float64(d) * (1 + c.slow))
		for time.Since(t0) < end {
		}
		d = time.Since(t0)
	}
	cpu1 := bench.ProcessCPU()
	if cpu0 < 0 || cpu1 < 0 {
		return d, -1, nil
	}
	return d, cpu1 - cpu0, nil
}

// estimate returns the seconds per GEMV of a run of at least 20 ms.
func (c *serverCell) estimate() (float64, error) {
	for n := 1; ; n *= 2 {
		d, _, err := c.time(n, n == 1)
		if err != nil {
			return 0, err
		}
		if d >= 20*time.Millisecond || n >= 1<<20 {
			return d.Seconds() / float64(n), nil
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
