package sandbox

import "github.com/podsim/podsim/sandbox/crilog"

// LoggerFlag marks an invocation as a container log driver (see crilog).
const LoggerFlag = crilog.LoggerFlag

// IsLoggerInvocation reports whether args ask for the log driver.
func IsLoggerInvocation(args []string) bool { return crilog.IsLoggerInvocation(args) }

// RunCRILogger runs the log driver (used when podsim itself is the driver).
func RunCRILogger(args []string) int { return crilog.Run(args) }
