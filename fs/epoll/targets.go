package epoll

import "uk/fs/vfs"

// Targets returns the files the instance watches under descriptor number
// fd, in no particular order (kcmp's KCMP_EPOLL_TFD orders them). One
// number names several files when it was closed and reused while the
// first file stayed open elsewhere (its entry lives on, as in Linux).
func (ep *Epoll) Targets(fd int32) []*vfs.FileDescription {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	var files []*vfs.FileDescription
	for k, e := range ep.entries {
		if k.fd == fd && !e.dead {
			files = append(files, k.file)
		}
	}
	return files
}
