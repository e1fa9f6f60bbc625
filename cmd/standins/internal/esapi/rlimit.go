package esapi

import "syscall"

// maxFDs is the process's open-files limit, which Elasticsearch reports as
// max_file_descriptors (and checks at start: it wants at least 65535).
func maxFDs() int64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return -1
	}
	return int64(rl.Cur)
}
