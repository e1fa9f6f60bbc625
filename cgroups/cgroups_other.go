//go:build !linux

package cgroups

func Mode() string                                 { return "unavailable" }
func CreatePod(podPath string, l Limits) error     { return ErrNotLinux }
func Dirs(cgPath string) []string                  { return nil }
func Remove(cgPath string) error                   { return ErrNotLinux }
func Procs(cgPath string) []int                    { return nil }
func ControllersMissing() []string                 { return nil }
func RemoveParent()                                {}
func ReadFile(cgPath, name string) (string, error) { return "", ErrNotLinux }
func LimitFiles() []string                         { return nil }
func OOMKills(cgPath string) int                   { return 0 }
func PodDirs() []string                            { return nil }
func OfProcess(pid int) string                     { return "" }
