package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestWaitExeced: stopTask must not signal a container while it is still
// runc's init (the signal would be lost to runc's handlers). A shell that
// names itself like runc init and then execs `sleep` stands in for it:
// waitExeced waits for the exec, and no longer than its limit.
func TestWaitExeced(t *testing.T) {
	start := func(script string) *exec.Cmd {
		t.Helper()
		cmd := exec.Command("sh", "-c", `printf 'runc:[2:INIT]' > /proc/$$/comm; `+script)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		comm := fmt.Sprintf("/proc/%d/comm", cmd.Process.Pid)
		for i := 0; i < 100; i++ {
			if b, _ := os.ReadFile(comm); strings.HasPrefix(string(b), "runc:[") {
				return cmd
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Skip("the shell could not rename itself")
		return nil
	}
	cmd := start("sleep 0.3; exec sleep 10")
	t0 := time.Now()
	waitExeced(cmd.Process.Pid, 5*time.Second)
	if d := time.Since(t0); d < 200*time.Millisecond || d > 4*time.Second {
		t.Errorf("waitExeced returned after %v; want it to wait for the exec (~300ms)", d)
	}
	if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", cmd.Process.Pid)); strings.TrimSpace(string(b)) != "sleep" {
		t.Errorf("returned before the exec: comm %q", b)
	}
	// Still runc init: give up at the limit.
	cmd = start("sleep 10")
	t0 = time.Now()
	waitExeced(cmd.Process.Pid, 100*time.Millisecond)
	if d := time.Since(t0); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("waitExeced with a 100ms limit returned after %v", d)
	}
	// A process that is gone: at once.
	t0 = time.Now()
	waitExeced(1<<22+7, time.Second)
	if d := time.Since(t0); d > 100*time.Millisecond {
		t.Errorf("waitExeced of a missing pid took %v", d)
	}
}

// TestProcState: the kill error names what the kernel shows of the task's
// process: running, a zombie nobody reaped, or gone.
func TestProcState(t *testing.T) {
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if s := procState(pid); !strings.Contains(s, "still there, state ") {
		t.Errorf("sleeping process: %q", s)
	}
	_ = cmd.Process.Kill()
	for i := 0; i < 200 && !strings.Contains(procState(pid), "zombie"); i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if s := procState(pid); !strings.Contains(s, "zombie") {
		t.Errorf("killed, not yet waited for: %q", s)
	}
	_ = cmd.Wait()
	if s := procState(pid); !strings.Contains(s, "no process") {
		t.Errorf("reaped: %q", s)
	}
}
