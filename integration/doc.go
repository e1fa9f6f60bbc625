// Package integration holds podsim's root-only end-to-end tests (make
// integration): they build real pods and check the kernel independently of
// podsim, so they exist on Linux only.
package integration
