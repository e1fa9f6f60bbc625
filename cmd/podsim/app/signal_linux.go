package app

import (
	"os"
	"os/signal"
	"syscall"
)

func notifySIGPIPE(ch chan os.Signal) { signal.Notify(ch, syscall.SIGPIPE) }
