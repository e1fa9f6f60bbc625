// Package app is podsim's command line: one file per verb, kubectl-shaped so
// that the article's commands work with podsim in place of kubectl. Every
// command drives Linux kernel objects (namespaces, cgroups, containerd's
// runc shim), so the commands are built on Linux only; elsewhere Run says
// that podsim needs Linux (app_other.go).
package app

// Version is set at build time with -ldflags "-X .../app.Version=...".
var Version = "dev"
