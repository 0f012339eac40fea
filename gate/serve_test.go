package gate

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/qkbench/qkbench/kernels/all"
)

// The test binary doubles as a sample server (and as a server that hangs
// or dies) when the environment asks for one.
func TestMain(m *testing.M) {
	switch os.Getenv("GATE_TEST_SERVER") {
	case "serve":
		if err := Serve(os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(1)
		}
		os.Exit(0)
	case "hang":
		time.Sleep(time.Hour)
	case "die":
		os.Stderr.WriteString("simulated crash: SIGSEGV in a kernel\n")
		os.Exit(3)
	case "hello-then-die":
		bufio.NewReader(os.Stdin).ReadString('\n')
		os.Stdout.WriteString(fmt.Sprintf(`{"ok":true,"protocol":%d}`+"\n", Protocol))
		bufio.NewReader(os.Stdin).ReadString('\n')
		os.Stderr.WriteString("fatal error: out of memory\n")
		os.Exit(2)
	case "old-protocol":
		bufio.NewReader(os.Stdin).ReadString('\n')
		os.Stdout.WriteString(`{"ok":true,"protocol":99}` + "\n")
		time.Sleep(time.Hour)
	}
	os.Exit(m.Run())
}

// session runs requests through Serve in-process and returns the answers.
func session(t *testing.T, reqs ...string) []Response {
	t.Helper()
	var out strings.Builder
	if err := Serve(strings.NewReader(strings.Join(reqs, "\n")+"\n"), &out); err != nil {
		t.Fatal(err)
	}
	var resps []Response
	dec := json.NewDecoder(strings.NewReader(out.String()))
	for {
		var r Response
		if err := dec.Decode(&r); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("server wrote something that is not a response: %v\n%s", err, out.String())
		}
		resps = append(resps, r)
	}
	if len(resps) != len(reqs) {
		t.Fatalf("%d requests, %d answers:\n%s", len(reqs), len(resps), out.String())
	}
	return resps
}

func TestServeProtocol(t *testing.T) {
	r := session(t,
		`{"op":"hello"}`,
		`{"op":"setup","cell":1,"kernel":"go-i8","rows":40,"cols":300,"threads":2,"codebook":"ternary","mode":"hot","seed":42}`,
		`{"op":"sample","cell":1,"iters":3}`,
		`{"op":"sample","cell":2,"iters":3}`,
		`{"op":"sample","cell":1,"iters":0}`,
		`{"op":"setup","cell":2,"kernel":"no-such-kernel","rows":40,"cols":300,"threads":1,"codebook":"ternary","mode":"hot"}`,
		`{"op":"setup","cell":3,"kernel":"go-i8","rows":40,"cols":300,"threads":1,"codebook":"bogus","mode":"hot"}`,
		`{"op":"setup","cell":3,"kernel":"go-i8","rows":40,"cols":300,"threads":1,"codebook":"ternary","mode":"lukewarm"}`,
		`{"op":"setup","cell":3,"kernel":"go-i8","rows":0,"cols":300,"threads":1,"codebook":"ternary","mode":"hot"}`,
		`not json`,
		`{"op":"frobnicate"}`,
		`{"op":"drop","cell":1}`,
		`{"op":"sample","cell":1,"iters":3}`,
		`{"op":"quit"}`,
	)
	if !r[0].OK || r[0].Protocol != Protocol || len(r[0].Kernels) == 0 {
		t.Errorf("hello: %+v", r[0])
	}
	if !r[1].OK || r[1].Status != "ok" || !(r[1].Seconds > 0) || r[1].ActiveThreads != 2 {
		t.Errorf("setup go-i8: %+v", r[1])
	}
	if !r[2].OK || !(r[2].Seconds > 0) {
		t.Errorf("sample: %+v", r[2])
	}
	wantErr := func(i int, part string) {
		t.Helper()
		if r[i].OK && r[i].Status == "ok" || !strings.Contains(r[i].Error, part) {
			t.Errorf("answer %d: %+v, want an error mentioning %q", i, r[i], part)
		}
	}
	wantErr(3, "not set up")
	wantErr(4, "iters 0")
	wantErr(5, "unknown kernel")
	if r[5].Status != "unavailable" {
		t.Errorf("unknown kernel: status %q, want unavailable", r[5].Status)
	}
	wantErr(6, "bogus")
	wantErr(7, "lukewarm")
	wantErr(8, "0x300")
	wantErr(9, "bad request")
	wantErr(10, "unknown op")
	if !r[11].OK {
		t.Errorf("drop: %+v", r[11])
	}
	wantErr(12, "not set up")
}

// A kernel that disagrees with the references is reported failed at setup
// and cannot be sampled.
func TestServeDisagreement(t *testing.T) {
	brokenOn.Store(true)
	defer brokenOn.Store(false)
	r := session(t, `{"op":"setup","cell":1,"kernel":"test-gate-broken-i8","rows":40,"cols":300,"threads":1,"codebook":"ternary","mode":"hot"}`,
		`{"op":"sample","cell":1,"iters":3}`)
	if r[0].Status != "failed" || !strings.Contains(r[0].Error, "disagrees") {
		t.Errorf("broken kernel: %+v, want status failed", r[0])
	}
	if r[1].OK {
		t.Errorf("sampling a failed cell: %+v", r[1])
	}
}

// The test hook slows a kernel by about the fraction asked for, and says so.
func TestServeSlowdownHook(t *testing.T) {
	t.Setenv(EnvSlowdown, "go-f32=0.5")
	r := session(t,
		`{"op":"setup","cell":1,"kernel":"go-f32","rows":64,"cols":1024,"threads":1,"codebook":"ternary","mode":"hot"}`,
		`{"op":"setup","cell":2,"kernel":"go-i8","rows":64,"cols":1024,"threads":1,"codebook":"ternary","mode":"hot"}`)
	if r[0].Slowdown != 0.5 || r[1].Slowdown != 0 {
		t.Errorf("slowdown reported %g and %g, want 0.5 for go-f32 and 0 for go-i8", r[0].Slowdown, r[1].Slowdown)
	}
	for _, bad := range []string{"go-f32", "go-f32=x", "go-f32=0", "go-f32=-1", "go-f32=NaN", "go-f32=11"} {
		t.Setenv(EnvSlowdown, bad)
		if err := Serve(strings.NewReader(""), io.Discard); err == nil || !strings.Contains(err.Error(), EnvSlowdown) {
			t.Errorf("%s=%q: error %v, want one naming the variable", EnvSlowdown, bad, err)
		}
	}
}

func testServer(t *testing.T, mode string) (*Server, error) {
	t.Helper()
	env := append(os.Environ(), "GATE_TEST_SERVER="+mode)
	return StartServer(context.Background(), "test", os.Args[0], t.TempDir(), env)
}

func TestServerProcess(t *testing.T) {
	s, err := testServer(t, "serve")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Call(context.Background(), Request{Op: "setup", Cell: 1, Kernel: "go-i8", Rows: 40, Cols: 300, Threads: 1, Codebook: "ternary", Mode: "hot"}); err != nil {
		t.Fatal(err)
	}
	resp, err := s.Call(context.Background(), Request{Op: "sample", Cell: 1, Iters: 2})
	if err != nil || !(resp.Seconds > 0) {
		t.Fatalf("sample: %+v, %v", resp, err)
	}
	if _, err := s.Call(context.Background(), Request{Op: "frobnicate"}); err == nil || !strings.Contains(err.Error(), "unknown op") {
		t.Errorf("bad op: %v", err)
	}
}

func TestServerFaults(t *testing.T) {
	if _, err := testServer(t, "die"); err == nil || !strings.Contains(err.Error(), "simulated crash") || !strings.Contains(err.Error(), "serve verb") {
		t.Errorf("a server that dies at once: %v; want its stderr and the hint about old builds", err)
	}
	if _, err := testServer(t, "old-protocol"); err == nil || !strings.Contains(err.Error(), "protocol 99") {
		t.Errorf("a server of another protocol: %v", err)
	}
	s, err := testServer(t, "hello-then-die")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Call(context.Background(), Request{Op: "sample", Cell: 1, Iters: 1}); err == nil || !strings.Contains(err.Error(), "out of memory") {
		t.Errorf("a server that dies mid-run: %v; want its stderr", err)
	}
	old := CallTimeout
	CallTimeout = 300 * time.Millisecond
	defer func() { CallTimeout = old }()
	t0 := time.Now()
	if _, err := testServer(t, "hang"); err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("a hung server: %v", err)
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Errorf("a hung server took %v to give up on", d)
	}
	// Cancelling the context ends a call at once.
	ctx, cancel := context.WithCancel(context.Background())
	CallTimeout = time.Hour
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	if _, err := StartServer(ctx, "test", os.Args[0], t.TempDir(), append(os.Environ(), "GATE_TEST_SERVER=hang")); err == nil {
		t.Error("a cancelled call returned no error")
	}
}

// The gate tells the user how much CPU other processes took while it
// sampled; its own servers' start-up and set-up (building the workload,
// checking the kernel against the references) are its own, not others'.
func TestSessionOwnCPUCountsSetup(t *testing.T) {
	env := append(os.Environ(), "GATE_TEST_SERVER=serve")
	b := Build{Bin: os.Args[0], Dir: t.TempDir(), Env: env}
	base, head := b, b
	base.Label, head.Label = "base", "head"
	s := &Session{Builds: [2]Build{base, head}, SampleTime: time.Millisecond,
		Cells: []CellSpec{{Kernel: "go-f32", Shape: "512x2048", Rows: 512, Cols: 2048, Threads: 1, Codebook: "ternary", Mode: "hot", Seed: 1}}}
	ctx := context.Background()
	if err := s.Check(ctx, [][]int{{0}}); err != nil {
		t.Fatal(err)
	}
	smp, closeFn, err := s.Open(ctx, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	var lived float64 // the servers' CPU up to their last sample, as they report it
	for side := range 2 {
		if _, err := smp.Sample(ctx, Side(side), 0); err != nil {
			t.Fatal(err)
		}
		resp, err := smp.(*sessionSampler).srv[side].Call(ctx, Request{Op: "sample", Cell: 0, Iters: 1})
		if err != nil {
			t.Fatal(err)
		}
		lived += resp.ProcessCPU
	}
	closeFn()
	if own := s.OwnCPU(); !(own >= lived) || lived <= 0 {
		t.Errorf("OwnCPU = %.4fs; the servers had used %.4fs by their last sample (set-up included)", own, lived)
	}
}

// TestServeActivations: setup generates the x it is asked for and says so
// in Source; an unknown generator is an error; and the gate refuses a
// server whose answer does not show the activations asked for (one from
// before the field generates gaussian x whatever it is asked).
func TestServeActivations(t *testing.T) {
	r := session(t,
		`{"op":"setup","cell":1,"kernel":"go-i8","rows":40,"cols":300,"threads":1,"codebook":"ternary","mode":"hot","seed":42,"activations":"extreme"}`,
		`{"op":"setup","cell":2,"kernel":"go-i8","rows":40,"cols":300,"threads":1,"codebook":"ternary","mode":"hot","seed":42}`,
		`{"op":"setup","cell":3,"kernel":"go-i8","rows":40,"cols":300,"threads":1,"codebook":"ternary","mode":"hot","seed":42,"activations":"laplace"}`,
	)
	if r[0].Status != "ok" || !strings.Contains(r[0].Source, "activations=extreme ") {
		t.Errorf("setup extreme: %+v", r[0])
	}
	if r[1].Status != "ok" || !strings.Contains(r[1].Source, "activations=gaussian ") {
		t.Errorf("setup without activations: %+v, want gaussian", r[1])
	}
	if r[2].OK || !strings.Contains(r[2].Error, "laplace") {
		t.Errorf("setup laplace: %+v, want an error naming it", r[2])
	}
	b := Build{Label: "base", Rev: "HEAD~5"}
	c := CellSpec{Kernel: "go-i8", Activations: "extreme"}
	if err := c.checkSource(b, r[0]); err != nil {
		t.Errorf("extreme answered with extreme: %v", err)
	}
	for _, old := range []Response{{OK: true, Status: "ok"}, r[1]} {
		if err := c.checkSource(b, old); err == nil || !strings.Contains(err.Error(), "HEAD~5") || !strings.Contains(err.Error(), "extreme") {
			t.Errorf("extreme answered by %+v: %v, want an error naming the build and the activations", old, err)
		}
	}
	for _, act := range []string{"", "gaussian"} {
		if err := (CellSpec{Activations: act}).checkSource(b, Response{OK: true, Status: "ok"}); err != nil {
			t.Errorf("%q from a server without Source: %v", act, err)
		}
	}
}

// TestSummaryNamesActivations: a paired gate on other than gaussian x says
// so in summary.md; on gaussian x it says nothing of it.
func TestSummaryNamesActivations(t *testing.T) {
	for _, act := range []string{"gaussian", "extreme"} {
		r := &Report{Method: "paired", Base: BuildInfo{Rev: "HEAD~1"}, Head: BuildInfo{Rev: "HEAD"},
			Cells: []CellReport{{Kernel: "avx2lut-i8", Shape: "64x256", Threads: 1, Activations: act, Verdict: Same, Ratio: 1, Low: 0.99, High: 1.01}}}
		var b strings.Builder
		if err := r.WriteSummary(&b); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(b.String(), "--activations extreme"); got != (act == "extreme") {
			t.Errorf("%s activations: summary mentions them %v\n%s", act, got, b.String())
		}
	}
}
