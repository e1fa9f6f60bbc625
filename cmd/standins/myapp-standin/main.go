// Command myapp-standin is podsim's stand-in for the article's `myapp`, the
// application whose init container fetched a secret from Vault into a
// shared emptyDir volume.
//
// It does what the article says the app relies on: at start it reads the
// secret file (/secrets/my-secret, or $SECRET_FILE), waiting a little for it
// ($SECRET_WAIT, default 5s). If the file is there it logs
// "found secret (N bytes)" (never the secret itself), then serves a one-line
// status page on $LISTEN_ADDR (default :8080; empty to not listen) until
// SIGTERM. If the file never appears it logs an error and exits 1, which is
// what an app missing its secret does, so a broken init container shows up as
// a crash-looping app.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.LookupEnv, os.Stdout, nil))
}

type logger struct{ w io.Writer }

func (l logger) printf(format string, args ...any) {
	fmt.Fprintf(l.w, "%s myapp (podsim stand-in): %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

// run is main without the process; ready, when set, is told the listening
// address (tests).
func run(ctx context.Context, lookupEnv func(string) (string, bool), out io.Writer, ready func(addr string)) int {
	log := logger{out}
	path, _ := lookupEnv("SECRET_FILE")
	if path == "" {
		path = "/secrets/my-secret"
	}
	wait := 5 * time.Second
	if s, _ := lookupEnv("SECRET_WAIT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			log.printf("invalid SECRET_WAIT %q: %v", s, err)
			return 2
		}
		wait = d
	}
	addr, set := lookupEnv("LISTEN_ADDR")
	if !set {
		addr = ":8080"
	}

	log.printf("starting; reading secret from %s", path)
	n, err := waitForSecret(ctx, path, wait)
	if err != nil {
		log.printf("ERROR: no secret: %v (was the init container that writes it run?)", err)
		return 1
	}
	log.printf("found secret (%d bytes)", n)

	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			// Not fatal: the app's job in the article is to have its
			// secret; keep running without the status page.
			log.printf("cannot listen on %s: %v; running without the status page", addr, err)
		} else {
			srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "myapp (podsim stand-in): secret %s loaded (%d bytes)\n", path, n)
			})}
			go srv.Serve(ln)
			defer srv.Close()
			log.printf("serving status on %s", ln.Addr())
			if ready != nil {
				ready(ln.Addr().String())
			}
		}
	}
	<-ctx.Done()
	log.printf("stopping")
	return 0
}

// waitForSecret polls for the secret file until it exists or wait is over,
// and returns its size.
func waitForSecret(ctx context.Context, path string, wait time.Duration) (int, error) {
	deadline := time.Now().Add(wait)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			return len(b), nil
		}
		if !errors.Is(err, fs.ErrNotExist) || time.Now().After(deadline) {
			return 0, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
