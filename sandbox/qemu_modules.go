//go:build linux && amd64

package sandbox

// The modules of the qemu guest's kernel: which ones the cache keeps from
// the kernel package, which ones the initramfs loads and in what order,
// and how each is made lighter to load under TCG.

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// qemuBootModules are loaded by the initramfs, with their dependencies
// first: the virtio PCI transport, 9p, overlayfs and virtio-serial reach
// the host's /; loop, device-mapper and ext4 are loaded here too, so that
// nothing needs modprobe, which reads modules.dep over 9p (slowly).
// crc32c_generic is what ext4 asks the crypto API for.
var qemuBootModules = []string{
	"virtio_pci", "virtio_console", "9pnet_virtio", "9p", "overlay",
	"loop", "dm_mod", "dm_snapshot", "ext4", "crc32c_generic",
}

// qemuKeptModules are the module directories kept from the kernel package
// (with whatever the modules in them depend on): what a guest with no
// hardware but virtio can load. The rest (GPU, network, sound, media...)
// is 300 MB that no sandbox uses.
var qemuKeptModules = []string{
	"kernel/arch/", "kernel/block/", "kernel/crypto/", "kernel/fs/", "kernel/lib/", "kernel/mm/",
	"kernel/drivers/block/", "kernel/drivers/char/", "kernel/drivers/md/", "kernel/drivers/virtio/",
	"kernel/net/9p/",
}

// qemuModule is one module file of a tree.
type qemuModule struct {
	Path    string   // relative to the tree, e.g. kernel/fs/ext4/ext4.ko
	Depends []string // module names from its .modinfo
}

// qemuModName is a module's name as the kernel spells it: file name
// without .ko, dashes as underscores.
func qemuModName(p string) string {
	return strings.ReplaceAll(strings.TrimSuffix(path.Base(p), ".ko"), "-", "_")
}

// qemuScanModules reads the depends= of every .ko under tree.
func qemuScanModules(tree string) (map[string]*qemuModule, error) {
	mods := map[string]*qemuModule{}
	err := filepath.WalkDir(tree, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".ko") {
			return err
		}
		rel, _ := filepath.Rel(tree, p)
		deps, err := qemuModDepends(p)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		mods[qemuModName(rel)] = &qemuModule{Path: filepath.ToSlash(rel), Depends: deps}
		return nil
	})
	return mods, err
}

// qemuModDepends returns the depends= field of a module's .modinfo.
func qemuModDepends(file string) ([]string, error) {
	f, err := elf.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := f.Section(".modinfo")
	if s == nil {
		return nil, errors.New("no .modinfo section")
	}
	data, err := s.Data()
	if err != nil {
		return nil, err
	}
	for _, kv := range bytes.Split(data, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok {
			var deps []string
			for _, d := range strings.Split(string(v), ",") {
				if d != "" {
					deps = append(deps, strings.ReplaceAll(d, "-", "_"))
				}
			}
			return deps, nil
		}
	}
	return nil, nil
}

// qemuLoadOrder returns the modules to load for want, each after what it
// depends on; names built into the kernel (builtin) are left out.
func qemuLoadOrder(mods map[string]*qemuModule, builtin map[string]bool, want []string) ([]*qemuModule, error) {
	var order []*qemuModule
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name, from string) error
	visit = func(name, from string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("module dependency loop at %s", name)
		case 2:
			return nil
		}
		m := mods[name]
		if m == nil {
			if builtin[name] {
				state[name] = 2
				return nil
			}
			if from != "" {
				return fmt.Errorf("module %s (needed by %s) is not in the kernel package", name, from)
			}
			return fmt.Errorf("module %s is not in the kernel package", name)
		}
		state[name] = 1
		for _, d := range m.Depends {
			if err := visit(d, name); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, m)
		return nil
	}
	for _, w := range want {
		if err := visit(strings.ReplaceAll(w, "-", "_"), ""); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// qemuBuiltin reads modules.builtin: the names of what is built in.
func qemuBuiltin(tree string) map[string]bool {
	b := map[string]bool{}
	data, _ := os.ReadFile(filepath.Join(tree, "modules.builtin"))
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			b[qemuModName(l)] = true
		}
	}
	return b
}

// qemuPruneModules deletes the modules outside qemuKeptModules that no
// kept module depends on.
func qemuPruneModules(tree string) error {
	mods, err := qemuScanModules(tree)
	if err != nil {
		return err
	}
	var want []string
	for name, m := range mods {
		for _, k := range qemuKeptModules {
			if strings.HasPrefix(m.Path, k) {
				want = append(want, name)
				break
			}
		}
	}
	sort.Strings(want)
	keep, err := qemuLoadOrder(mods, qemuBuiltin(tree), want)
	if err != nil {
		return err
	}
	kept := map[string]bool{}
	for _, m := range keep {
		kept[m.Path] = true
	}
	for _, m := range mods {
		if !kept[m.Path] {
			if err := os.Remove(filepath.Join(tree, filepath.FromSlash(m.Path))); err != nil {
				return err
			}
		}
	}
	return nil
}

// qemuFastModule returns a module that loads faster under TCG: without
// its appended signature (checking it is slow, and the kernel only notes
// "module verification failed" once and loads it) and with its .BTF
// section renamed so that the kernel does not parse it. Anything it does not understand is left as it is.
func qemuFastModule(data []byte) []byte {
	data = append([]byte(nil), qemuStripSignature(data)...)
	qemuHideSection(data, ".BTF", ".btf")
	return data
}

// qemuStripSignature drops a module signature appended after the ELF
// file: struct module_signature (12 bytes, the signature's length
// big-endian in its last 4) and the magic string follow the signature.
func qemuStripSignature(data []byte) []byte {
	const magic = "~Module signature appended~\n"
	if !bytes.HasSuffix(data, []byte(magic)) {
		return data
	}
	end := len(data) - len(magic)
	if end < 12 {
		return data
	}
	info := data[end-12 : end]
	n := 12 + int(info[3]) + int(info[4]) + int(binary.BigEndian.Uint32(info[8:]))
	if n > end {
		return data
	}
	return data[:end-n]
}

// qemuHideSection renames, in place, the section called from (in a 64-bit
// little-endian ELF file) to the name to, of the same length.
func qemuHideSection(data []byte, from, to string) bool {
	if len(from) != len(to) || len(data) < 64 || string(data[:4]) != "\x7fELF" || data[4] != 2 || data[5] != 1 {
		return false
	}
	le := binary.LittleEndian
	shoff := le.Uint64(data[0x28:])
	shentsize := uint64(le.Uint16(data[0x3a:]))
	shnum := uint64(le.Uint16(data[0x3c:]))
	shstrndx := uint64(le.Uint16(data[0x3e:]))
	size := uint64(len(data))
	if shentsize < 64 || shstrndx >= shnum || shoff > size || shnum*shentsize > size-shoff {
		return false
	}
	sh := func(i uint64) []byte { return data[shoff+i*shentsize : shoff+(i+1)*shentsize] }
	strOff, strSize := le.Uint64(sh(shstrndx)[0x18:]), le.Uint64(sh(shstrndx)[0x20:])
	if strOff > size || strSize > size-strOff {
		return false
	}
	strtab := data[strOff : strOff+strSize]
	for i := uint64(0); i < shnum; i++ {
		n := uint64(le.Uint32(sh(i)))
		if n+uint64(len(from))+1 <= strSize && string(strtab[n:n+uint64(len(from))+1]) == from+"\x00" {
			copy(strtab[n:], to)
			return true
		}
	}
	return false
}
