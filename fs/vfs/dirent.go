package vfs

import "encoding/binary"

// Dirent is one directory entry as getdents reports it.
type Dirent struct {
	Name string
	Ino  uint64
	Type uint8 // unix.DT_* value
	// Next is the directory offset of the entry after this one (d_off):
	// lseek to it, or a later getdents, continues after this entry.
	Next int64
}

// AppendDirent64 appends d as a struct linux_dirent64 to buf if it fits in
// cap(buf); ok is false (and buf unchanged) when it does not. The syscall
// layer uses it from its Getdents emit callback with a buffer the size of
// the caller's.
func AppendDirent64(buf []byte, d Dirent) (out []byte, ok bool) {
	// d_ino(8) d_off(8) d_reclen(2) d_type(1) name NUL, padded to 8.
	buf, rec, ok := appendDirentHeader(buf, d, (19+len(d.Name)+1+7)&^7)
	if ok {
		rec[18] = d.Type
		copy(rec[19:], d.Name)
	}
	return buf, ok
}

// AppendDirentOld appends d as the old struct linux_dirent of getdents(2):
// d_ino, d_off, d_reclen, the name with its NUL, padding, and d_type in the
// record's last byte.
func AppendDirentOld(buf []byte, d Dirent) (out []byte, ok bool) {
	buf, rec, ok := appendDirentHeader(buf, d, (18+len(d.Name)+2+7)&^7)
	if ok {
		copy(rec[18:], d.Name)
		rec[len(rec)-1] = d.Type
	}
	return buf, ok
}

// appendDirentHeader grows buf by a zeroed record of reclen bytes holding
// the header both layouts share (d_ino, d_off, d_reclen), if it fits.
func appendDirentHeader(buf []byte, d Dirent, reclen int) (out, rec []byte, ok bool) {
	if cap(buf)-len(buf) < reclen {
		return buf, nil, false
	}
	n := len(buf)
	buf = buf[:n+reclen]
	rec = buf[n:]
	clear(rec)
	binary.LittleEndian.PutUint64(rec[0:], d.Ino)
	binary.LittleEndian.PutUint64(rec[8:], uint64(d.Next))
	binary.LittleEndian.PutUint16(rec[16:], uint16(reclen))
	return buf, rec, true
}
