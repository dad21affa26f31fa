// Package initramfs fills a tmpfs root from a newc cpio archive (plain or
// gzip-compressed, detected by magic), parsed here, or from a host
// directory tree (uk run --rootfs DIR). Everything goes through the
// VFS with root credentials, so the result is what a privileged process
// creating the same files would get; modes, owners and mtimes are kept.
//
// Archives are untrusted input: a corrupt or truncated archive yields an
// error naming the byte offset of the bad record, never a panic.
package initramfs

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// MaxArchiveSize bounds the uncompressed size of an archive (a gzip bomb
// fails with an error instead of exhausting memory).
var MaxArchiveSize int64 = 4 << 30

// LoadFile reads the archive at hostPath into root.
func LoadFile(v *vfs.VFS, root vfs.Path, hostPath string) error {
	f, err := os.Open(hostPath)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	defer f.Close()
	if err := Load(v, root, f); err != nil {
		return fmt.Errorf("%s: %w", hostPath, err)
	}
	return nil
}

// Load reads a newc archive, plain or gzip-compressed, into root.
func Load(v *vfs.VFS, root vfs.Path, r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, MaxArchiveSize+1))
	if err != nil {
		return fmt.Errorf("initramfs: read archive: %w", err)
	}
	return LoadBytes(v, root, data)
}

// LoadBytes is Load for an archive in memory.
func LoadBytes(v *vfs.VFS, root vfs.Path, data []byte) error {
	compressed := ""
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("initramfs: gzip header: %w", err)
		}
		data, err = io.ReadAll(io.LimitReader(zr, MaxArchiveSize+1))
		if err != nil {
			return fmt.Errorf("initramfs: gzip stream at uncompressed byte %d: %w", len(data), err)
		}
		compressed = "uncompressed "
	}
	if int64(len(data)) > MaxArchiveSize {
		return fmt.Errorf("initramfs: archive larger than %d bytes", MaxArchiveSize)
	}
	l := &loader{v: v, at: vfs.At{Root: root, Dir: root}, links: make(map[linkKey]string), where: compressed}
	return l.run(data)
}

const (
	headerLen = 110 // "070701" + 13 fields of 8 hex digits
	trailer   = "TRAILER!!!"
)

type linkKey struct {
	ino, major, minor uint64
}

type loader struct {
	v     *vfs.VFS
	at    vfs.At
	ctx   vfs.KernelContext
	links map[linkKey]string
	dirs  []dirTime // mtimes applied last, children change them
	where string    // "uncompressed " for gzip archives
}

type dirTime struct {
	name  string
	mtime int64
}

// hexField decodes header field i (0-based, after the magic).
func hexField(h []byte, i int) (uint64, error) {
	s := h[6+8*i : 6+8*i+8]
	var b [4]byte
	if _, err := hex.Decode(b[:], s); err != nil {
		return 0, fmt.Errorf("bad hex digits %q", s)
	}
	return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3]), nil
}

func round4(n int64) int64 { return (n + 3) &^ 3 }

// record is one newc archive member. Its fields are the header's, in
// header order; Name is normalized as pkg/cpio and the kernel do (leading
// slashes dropped, cleaned); Data aliases the archive.
type record struct {
	Ino, Mode, UID, GID, NLink, MTime, FileSize uint64
	Major, Minor, Rmajor, Rminor                uint64
	Name                                        string
	Data                                        []byte
}

// parseRecord reads the record at pos, checking every length against the
// archive before using it, and returns where the next record starts.
func parseRecord(data []byte, pos int64) (rec record, next int64, err error) {
	rest := int64(len(data)) - pos
	if rest < headerLen {
		return rec, 0, fmt.Errorf("truncated header (%d of %d bytes)", rest, headerLen)
	}
	h := data[pos : pos+headerLen]
	if string(h[:6]) != "070701" {
		if string(h[:6]) == "070707" || string(h[:6]) == "070702" {
			return rec, 0, fmt.Errorf("unsupported cpio format %q (only newc 070701)", h[:6])
		}
		return rec, 0, fmt.Errorf("bad magic %q (want newc 070701)", h[:6])
	}
	var f [13]uint64
	for i := range f {
		if f[i], err = hexField(h, i); err != nil {
			return rec, 0, err
		}
	}
	size, nameLen := f[6], f[11]
	if nameLen == 0 || nameLen > vfs.PathMax {
		return rec, 0, fmt.Errorf("bad name length %d", nameLen)
	}
	nameEnd := pos + headerLen + int64(nameLen)
	if nameEnd > int64(len(data)) {
		return rec, 0, fmt.Errorf("truncated name (needs %d bytes, archive has %d)", nameLen, int64(len(data))-pos-headerLen)
	}
	if data[nameEnd-1] != 0 {
		return rec, 0, fmt.Errorf("name not NUL-terminated")
	}
	name := data[pos+headerLen : nameEnd-1]
	dataStart := round4(nameEnd)
	end := dataStart + int64(size)
	if end > int64(len(data)) {
		return rec, 0, fmt.Errorf("truncated contents of %q (needs %d bytes, archive has %d)",
			name, size, max(0, int64(len(data))-dataStart))
	}
	rec = record{
		Ino: f[0], Mode: f[1], UID: f[2], GID: f[3], NLink: f[4], MTime: f[5], FileSize: size,
		Major: f[7], Minor: f[8], Rmajor: f[9], Rminor: f[10],
		Name: path.Clean(strings.TrimLeft(string(name), "/")),
		Data: data[dataStart:end],
	}
	return rec, round4(end), nil
}

func (l *loader) run(data []byte) error {
	var pos int64
	sawRecord := false
	for {
		// Between concatenated archives (and after the last) there may be
		// NUL padding, as the kernel accepts.
		for pos < int64(len(data)) && data[pos] == 0 {
			pos++
		}
		if pos >= int64(len(data)) {
			break
		}
		pos &^= 3 // records start 4-aligned; padding ends on the boundary
		rec, next, err := parseRecord(data, pos)
		if err != nil {
			return fmt.Errorf("initramfs: record at %sbyte %d: %w", l.where, pos, err)
		}
		if rec.Name == trailer {
			pos = next
			sawRecord = true
			continue
		}
		if err := l.record(rec); err != nil {
			return fmt.Errorf("initramfs: record at %sbyte %d (%q): %w", l.where, pos, rec.Name, err)
		}
		sawRecord = true
		pos = next
	}
	if !sawRecord {
		return errors.New("initramfs: empty archive")
	}
	for i := len(l.dirs) - 1; i >= 0; i-- {
		d := l.dirs[i]
		l.setTime(d.name, d.mtime)
	}
	return nil
}

func (l *loader) setTime(name string, mtime int64) error {
	ts := [2]unix.Timespec{{Sec: mtime}, {Sec: mtime}}
	return l.v.UtimensAt(l.ctx, l.at, name, &ts, unix.AT_SYMLINK_NOFOLLOW)
}

// mkdirAll creates the parents of name.
func (l *loader) mkdirAll(dir string) error {
	if dir == "." || dir == "/" || dir == "" {
		return nil
	}
	st, err := l.v.StatAt(l.ctx, l.at, dir, 0)
	if err == nil {
		if !st.IsDir() {
			return fmt.Errorf("parent %q is not a directory", dir)
		}
		return nil
	}
	if err := l.mkdirAll(path.Dir(dir)); err != nil {
		return err
	}
	if err := l.v.MkdirAt(l.ctx, l.at, dir, 0o755); err != nil && err != unix.EEXIST {
		return fmt.Errorf("mkdir %q: %w", dir, err)
	}
	return nil
}

// clear removes an existing non-directory (or empty directory) at name so
// a record can replace it, as Linux's initramfs does.
func (l *loader) clear(name string, keepDir bool) error {
	st, err := l.v.StatAt(l.ctx, l.at, name, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return nil
	}
	if st.IsDir() {
		if keepDir {
			return nil
		}
		return l.v.UnlinkAt(l.ctx, l.at, name, unix.AT_REMOVEDIR)
	}
	return l.v.UnlinkAt(l.ctx, l.at, name, 0)
}

func (l *loader) record(rec record) error {
	name := rec.Name
	if name == ".." || strings.HasPrefix(name, "../") {
		return fmt.Errorf("name escapes the root")
	}
	mode := uint32(rec.Mode)
	perm := mode & 0o7777
	if name != "." {
		if err := l.mkdirAll(path.Dir(name)); err != nil {
			return err
		}
	}
	typ := mode & unix.S_IFMT
	if err := l.clear(name, typ == unix.S_IFDIR); err != nil && name != "." {
		return fmt.Errorf("replace existing: %w", err)
	}
	switch typ {
	case unix.S_IFDIR:
		if name != "." {
			if err := l.v.MkdirAt(l.ctx, l.at, name, perm); err != nil && err != unix.EEXIST {
				return err
			}
		}
	case unix.S_IFREG:
		if err := l.regular(rec, name, perm); err != nil {
			return err
		}
	case unix.S_IFLNK:
		if rec.FileSize > vfs.PathMax {
			return fmt.Errorf("symlink target of %d bytes", rec.FileSize)
		}
		if err := l.v.SymlinkAt(l.ctx, string(rec.Data), l.at, name); err != nil {
			return err
		}
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO, unix.S_IFSOCK:
		rdev := unix.Mkdev(uint32(rec.Rmajor), uint32(rec.Rminor))
		if err := l.v.MknodAt(l.ctx, l.at, name, typ|perm, rdev); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown file type %#o", typ)
	}
	// chown before chmod: a change of owner clears set-user-ID.
	if err := l.v.ChownAt(l.ctx, l.at, name, int64(uint32(rec.UID)), int64(uint32(rec.GID)), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	if typ != unix.S_IFLNK {
		if err := l.v.ChmodAt(l.ctx, l.at, name, perm, 0); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	if typ == unix.S_IFDIR {
		l.dirs = append(l.dirs, dirTime{name, int64(rec.MTime)})
		return nil
	}
	return l.setTime(name, int64(rec.MTime))
}

// regular creates a file or, for a later record of a hard-linked set,
// links it to the first (only when nlink > 1 and ino != 0: u-root images
// have ino 0 everywhere).
func (l *loader) regular(rec record, name string, perm uint32) error {
	if rec.NLink > 1 && rec.Ino != 0 {
		k := linkKey{rec.Ino, rec.Major, rec.Minor}
		if first, ok := l.links[k]; ok {
			if err := l.v.LinkAt(l.ctx, l.at, first, l.at, name, 0); err != nil {
				return fmt.Errorf("hard link to %q: %w", first, err)
			}
			if rec.FileSize == 0 {
				return nil // the data comes with another link of the set
			}
		} else {
			l.links[k] = name
		}
	}
	fd, err := l.v.OpenAt(l.ctx, l.at, name, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, perm)
	if err != nil {
		return err
	}
	defer fd.DecRef()
	if len(rec.Data) == 0 {
		return nil
	}
	if w, err := fd.Write(l.ctx, rec.Data); err != nil || w != len(rec.Data) {
		return fmt.Errorf("write contents: %d of %d bytes: %w", w, len(rec.Data), errOr(err, unix.ENOSPC))
	}
	return nil
}

func errOr(err, dflt error) error {
	if err != nil {
		return err
	}
	return dflt
}
