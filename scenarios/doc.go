// Package scenarios holds the article's multi-container pod patterns as
// runnable demonstrations: each is a pod manifest (the article's YAML where it
// has one) and ordered checks. A check states a claim, runs a command in a
// container (as the article does with kubectl exec) and/or reads the kernel
// directly (/proc/<pid>/ns/*, /proc/<pid>/net/tcp), and says PASS or FAIL.
// Checks compare namespace inodes, so they fail on a machine where the
// containers were not really isolated or not really sharing.
//
// Scenarios read the kernel directly, so they are built on Linux only.
package scenarios
