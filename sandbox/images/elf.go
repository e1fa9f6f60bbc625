package images

import (
	"debug/elf"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ELFDeps is what the dynamic loader needs to start a program.
type ELFDeps struct {
	// Interpreter is the program's PT_INTERP, the dynamic loader the
	// kernel starts first (e.g. /lib64/ld-linux-x86-64.so.2). Empty for
	// static programs.
	Interpreter string
	// Libraries are the shared objects the program needs, directly or
	// through other libraries, in breadth-first order.
	Libraries []ELFLib
}

// ELFLib is one shared library.
type ELFLib struct {
	Name string // the DT_NEEDED name, e.g. "libc.so.6"
	Path string // where it was found: search directory + Name (symlinks not resolved)
}

// multiarchTuple maps an ELF machine to Debian's multiarch directory name.
// Debian installs libraries in /lib/<tuple> and /usr/lib/<tuple>, and its
// glibc searches those directories by default.
var multiarchTuple = map[elf.Machine]string{
	elf.EM_X86_64:  "x86_64-linux-gnu",
	elf.EM_AARCH64: "aarch64-linux-gnu",
	elf.EM_386:     "i386-linux-gnu",
	elf.EM_ARM:     "arm-linux-gnueabihf",
	elf.EM_RISCV:   "riscv64-linux-gnu",
	elf.EM_PPC64:   "powerpc64le-linux-gnu",
	elf.EM_S390:    "s390x-linux-gnu",
}

// defaultLibDirs is the loader's fallback search list for a machine/class:
// the directories it tries after RPATH, LD_LIBRARY_PATH, RUNPATH and
// /etc/ld.so.cache. We rely only on these because an image built by podsim
// has no ld.so.cache: a library is only found in the container if it sits in
// one of these directories (or in a directory named by RPATH/RUNPATH).
func defaultLibDirs(m elf.Machine, c elf.Class) []string {
	var dirs []string
	if t, ok := multiarchTuple[m]; ok {
		dirs = append(dirs, "/lib/"+t, "/usr/lib/"+t)
	}
	if c == elf.ELFCLASS64 {
		dirs = append(dirs, "/lib64", "/usr/lib64")
	}
	return append(dirs, "/lib", "/usr/lib")
}

// elfObject is what the resolver needs from one ELF file.
type elfObject struct {
	machine elf.Machine
	class   elf.Class
	interp  string
	soname  string
	needed  []string
	rpath   []string // DT_RPATH, only used when there is no DT_RUNPATH
	runpath []string // DT_RUNPATH
}

func readELF(p string) (*elfObject, error) {
	f, err := elf.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	o := &elfObject{machine: f.Machine, class: f.Class}
	for _, prog := range f.Progs {
		if prog.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, prog.Filesz)
		if _, err := prog.ReadAt(b, 0); err != nil {
			return nil, fmt.Errorf("%s: reading PT_INTERP: %w", p, err)
		}
		o.interp = strings.TrimRight(string(b), "\x00")
	}
	if !hasDynamic(f) {
		return o, nil // static: nothing more to find
	}
	if o.needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if s, _ := f.DynString(elf.DT_SONAME); len(s) > 0 {
		o.soname = s[0]
	}
	origin := filepath.Dir(p)
	split := func(tag elf.DynTag) []string {
		vals, _ := f.DynString(tag)
		var dirs []string
		for _, v := range vals {
			for _, d := range strings.Split(v, ":") {
				if d == "" {
					continue
				}
				// $ORIGIN is the directory of the object itself.
				d = strings.ReplaceAll(d, "${ORIGIN}", origin)
				d = strings.ReplaceAll(d, "$ORIGIN", origin)
				dirs = append(dirs, d)
			}
		}
		return dirs
	}
	o.runpath = split(elf.DT_RUNPATH)
	if len(o.runpath) == 0 {
		o.rpath = split(elf.DT_RPATH)
	}
	return o, nil
}

func hasDynamic(f *elf.File) bool {
	for _, p := range f.Progs {
		if p.Type == elf.PT_DYNAMIC {
			return true
		}
	}
	return false
}

// ResolveELF finds the ELF interpreter and all shared libraries (recursively)
// of the program at binary, the way glibc's loader would on this host but
// without /etc/ld.so.cache: for each DT_NEEDED name it tries, in order, the
// RPATH of the requesting object and of the program (when they have no
// RUNPATH), the requesting object's RUNPATH, then the default directories
// (/lib/<multiarch>, /usr/lib/<multiarch>, /lib64, /usr/lib64, /lib,
// /usr/lib). A candidate of the wrong machine or class (e.g. a 32-bit
// library) is skipped, as the loader does. Each library is reported once.
//
// Libraries loaded later with dlopen (NSS modules, plugins) can't be seen in
// the ELF headers; recipes must list those as files themselves.
func ResolveELF(binary string) (ELFDeps, error) {
	var deps ELFDeps
	exe, err := readELF(binary)
	if err != nil {
		return deps, err
	}
	deps.Interpreter = exe.interp

	// The loader treats a DT_NEEDED entry naming itself (libc.so.6
	// needs ld-linux-x86-64.so.2) as already loaded.
	loaded := map[string]bool{}
	if exe.interp != "" {
		loaded[path.Base(exe.interp)] = true
		if in, err := readELF(exe.interp); err == nil && in.soname != "" {
			loaded[in.soname] = true
		}
	}
	defaults := defaultLibDirs(exe.machine, exe.class)

	type pending struct {
		name string
		from *elfObject
	}
	var queue []pending
	for _, n := range exe.needed {
		queue = append(queue, pending{n, exe})
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if loaded[p.name] {
			continue
		}
		loaded[p.name] = true

		var dirs []string
		if strings.Contains(p.name, "/") {
			// A DT_NEEDED with a slash is a path, not searched.
			dirs = []string{""}
		} else {
			dirs = append(dirs, p.from.rpath...)
			if p.from != exe {
				dirs = append(dirs, exe.rpath...)
			}
			dirs = append(dirs, p.from.runpath...)
			dirs = append(dirs, defaults...)
		}
		found := false
		for _, d := range dirs {
			cand := p.name
			if d != "" {
				cand = filepath.Join(d, p.name)
			}
			if _, err := os.Stat(cand); err != nil {
				continue
			}
			lib, err := readELF(cand)
			if err != nil || lib.machine != exe.machine || lib.class != exe.class {
				continue
			}
			deps.Libraries = append(deps.Libraries, ELFLib{Name: p.name, Path: cand})
			for _, n := range lib.needed {
				queue = append(queue, pending{n, lib})
			}
			found = true
			break
		}
		if !found {
			return deps, fmt.Errorf("%s needs %s, which was not found in %s", binary, p.name, strings.Join(dirs, ", "))
		}
	}
	return deps, nil
}
