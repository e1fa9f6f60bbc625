// Command vault-standin is podsim's stand-in for HashiCorp Vault's `vault`
// command line, for the article's init container that fetches a secret:
//
//	vault read secret/my-secret > /secrets/my-secret
//
// There is no Vault server: podsim runs offline and the article's point is
// the init container and the shared emptyDir, not Vault. The stand-in knows
// the article's secret/my-secret, and any other paths listed in
// $PODSIM_VAULT_SECRETS (comma-separated). `vault read PATH` (and
// `vault kv get PATH`) print a fixed secret derived from PATH in the real
// CLI's table format, so the same path always gives the same value; an
// unknown path fails like Vault does ("No value found at ...", exit 2),
// which makes an init container fail.
// Every command says on stderr that it is a stand-in; stdout carries only
// what the real CLI would print, so redirecting it into a file gives a
// realistic secret file.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
)

// version is the last Vault release published as the Docker library's
// `vault` image.
const version = "1.13.3"

const note = "vault (podsim stand-in): no Vault server is contacted"

// articleSecret is the secret the article's init container reads.
const articleSecret = "secret/my-secret"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 127
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "version", "-version", "--version", "-v":
		fmt.Fprintf(stdout, "Vault v%s (podsim stand-in: no server; `vault read` returns fixed secrets)\n", version)
		return 0
	case "read":
		return read(rest, knownPaths(getenv), stdout, stderr)
	case "kv":
		if len(rest) > 0 && rest[0] == "get" {
			return read(rest[1:], knownPaths(getenv), stdout, stderr)
		}
		fmt.Fprintf(stderr, "%s; only `vault kv get` is implemented\n", note)
		return 1
	case "server":
		// The image's default command is `vault server -dev`. Keep the
		// container running (as a server would) but say what it is.
		fmt.Fprintf(stderr, "%s; `vault server` is not implemented either: sleeping until stopped\n", note)
		<-ctx.Done()
		return 0
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "%s; `vault %s` is not implemented (only read, kv get, version)\n", note, cmd)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `Usage: vault <command> [args]

podsim's stand-in for the Vault CLI (no server). Commands:
    read [-field=NAME] [-format=table|json] PATH   print the secret at PATH
    kv get [-field=NAME] [-format=table|json] PATH same
Known paths: secret/my-secret and those in $PODSIM_VAULT_SECRETS (a,b,...).
    version                                        print the version
    server                                         sleep until stopped
`)
}

// knownPaths are the paths the stand-in has a secret for.
func knownPaths(getenv func(string) string) map[string]bool {
	known := map[string]bool{articleSecret: true}
	for _, p := range strings.Split(getenv("PODSIM_VAULT_SECRETS"), ",") {
		if p = strings.Trim(strings.TrimSpace(p), "/"); p != "" {
			known[p] = true
		}
	}
	return known
}

// secret returns the stand-in's data for a path: a "value" derived from the
// path, so it looks random but is the same on every run and machine.
func secret(path string) map[string]string {
	sum := sha256.Sum256([]byte("podsim vault stand-in\x00" + path))
	return map[string]string{"value": "s3cr3t-" + hex.EncodeToString(sum[:12])}
}

func read(args []string, known map[string]bool, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("read", flag.ContinueOnError)
	fs.SetOutput(stderr)
	field := fs.String("field", "", "Print only the field with the given name.")
	format := fs.String("format", "table", "Print the output in the given format: table or json.")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "Not enough arguments (expected 1, got %d)\n", fs.NArg())
		return 1
	}
	path := strings.Trim(fs.Arg(0), "/")
	if !known[path] {
		fmt.Fprintf(stderr, "%s; it knows %s and $PODSIM_VAULT_SECRETS only\n", note, articleSecret)
		fmt.Fprintf(stderr, "No value found at %s\n", path)
		return 2
	}
	fmt.Fprintf(stderr, "%s; returning a fixed secret for %s\n", note, path)
	data := secret(path)

	if *field != "" {
		v, ok := data[*field]
		if !ok {
			fmt.Fprintf(stderr, "Field %q not present in secret\n", *field)
			return 1
		}
		// The bare value, as the real CLI prints it.
		fmt.Fprintln(stdout, v)
		return 0
	}
	switch *format {
	case "json":
		out := map[string]any{
			"request_id":     requestID(path),
			"lease_id":       "",
			"lease_duration": 2764800,
			"renewable":      false,
			"data":           data,
			"warnings":       nil,
		}
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
	case "table":
		tw := tabwriter.NewWriter(stdout, 0, 0, 4, ' ', 0)
		fmt.Fprintln(tw, "Key\tValue")
		fmt.Fprintln(tw, "---\t-----")
		fmt.Fprintln(tw, "refresh_interval\t768h")
		fmt.Fprintf(tw, "value\t%s\n", data["value"])
		tw.Flush()
	default:
		fmt.Fprintf(stderr, "Invalid output format: %s\n", *format)
		return 1
	}
	return 0
}

// requestID is a UUID-shaped ID derived from the path (deterministic).
func requestID(path string) string {
	s := sha256.Sum256([]byte("request\x00" + path))
	h := hex.EncodeToString(s[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
