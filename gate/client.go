package gate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Server is a running sample server: one build's `qkbench serve` process.
type Server struct {
	Name  string // for messages: "base (abc1234)"
	Hello Response

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte // the server's stdout, line by line
	stderr *tailBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // the process's exit error, once done
	mu     sync.Mutex
	stop   chan struct{} // closed by Kill: nobody reads lines any more
	once   sync.Once
}

// CallTimeout bounds how long one request may take; a server that does not
// answer within it is killed (a hung kernel must not hang the gate).
var CallTimeout = 5 * time.Minute

// StartServer starts `bin serve` in dir with the given environment (nil:
// the gate's own) and checks that it speaks this Protocol.
func StartServer(ctx context.Context, name, bin, dir string, env []string) (*Server, error) {
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = env
	s := &Server{Name: name, cmd: cmd, lines: make(chan []byte, 1), stderr: &tailBuffer{max: 8 << 10},
		done: make(chan struct{}), stop: make(chan struct{})}
	cmd.Stderr = s.stderr
	var err error
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("gate: starting the %s sample server %s: %w", name, bin, err)
	}
	go func() {
		// Read stdout to its end (never blocking once Kill stopped the
		// reader), and only then Wait, as os/exec asks.
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			select {
			case s.lines <- append([]byte(nil), sc.Bytes()...):
			case <-s.stop:
			}
		}
		close(s.lines)
		io.Copy(io.Discard, stdout)
		s.err = cmd.Wait()
		close(s.done)
	}()
	hello, err := s.Call(ctx, Request{Op: "hello"})
	if err != nil {
		s.Kill()
		return nil, fmt.Errorf("%w\n(a build from before `qkbench gate` existed has no sample server: choose a base revision that has cmd/qkbench's serve verb)", err)
	}
	if hello.Protocol != Protocol {
		s.Kill()
		return nil, fmt.Errorf("gate: the %s sample server speaks protocol %d, this gate %d", name, hello.Protocol, Protocol)
	}
	s.Hello = hello
	return s, nil
}

// Call sends one request and waits for its answer. A response with ok
// false becomes an error.
func (s *Server) Call(ctx context.Context, req Request) (Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := json.Marshal(req)
	if err != nil {
		return Response{}, err
	}
	if _, err := s.stdin.Write(append(b, '\n')); err != nil {
		return Response{}, s.died(fmt.Sprintf("sending %s", req.Op), err)
	}
	timer := time.NewTimer(CallTimeout)
	defer timer.Stop()
	select {
	case line, ok := <-s.lines:
		if !ok {
			return Response{}, s.died(fmt.Sprintf("waiting for the answer to %s", req.Op), nil)
		}
		var resp Response
		if err := json.Unmarshal(line, &resp); err != nil {
			return Response{}, fmt.Errorf("gate: %s sample server: answer to %s is not protocol JSON (%v): %q", s.Name, req.Op, err, truncate(string(line), 200))
		}
		if !resp.OK {
			return resp, fmt.Errorf("gate: %s sample server: %s: %s", s.Name, req.Op, resp.Error)
		}
		return resp, nil
	case <-ctx.Done():
		s.Kill()
		return Response{}, ctx.Err()
	case <-timer.C:
		s.Kill()
		return Response{}, fmt.Errorf("gate: %s sample server did not answer %s within %v; killed it", s.Name, req.Op, CallTimeout)
	}
}

// died describes a server that stopped answering.
func (s *Server) died(what string, err error) error {
	select {
	case <-s.done:
	case <-time.After(2 * time.Second):
	}
	msg := fmt.Sprintf("gate: %s sample server stopped while %s", s.Name, what)
	if s.err != nil {
		msg += ": " + s.err.Error()
	} else if err != nil {
		msg += ": " + err.Error()
	}
	if t := strings.TrimSpace(s.stderr.String()); t != "" {
		msg += "\n" + t
	}
	return errors.New(msg)
}

// Close asks the server to quit and waits for it (killing it after a few
// seconds).
func (s *Server) Close() {
	s.stdin.Close() // EOF ends the server's loop
	s.once.Do(func() { close(s.stop) })
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.Kill()
	}
}

// CPU is the CPU time (user and system, all threads) the server's process
// used over its whole life: start-up, set-ups and checks, samples. It is
// known once the process has exited (after Close or Kill); before, 0.
func (s *Server) CPU() time.Duration {
	select {
	case <-s.done:
	default:
		return 0
	}
	if st := s.cmd.ProcessState; st != nil {
		return st.UserTime() + st.SystemTime()
	}
	return 0
}

// Kill ends the server at once.
func (s *Server) Kill() {
	s.once.Do(func() { close(s.stop) })
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
	}
	s.stdin.Close()
	<-s.done
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
