package sandbox

import (
	"fmt"
	"time"
)

// ShortDuration prints how long the step took with three significant
// digits, for the text trace and the tour.
func (ev Event) ShortDuration() string {
	d := ev.Duration
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
