package kernel

import (
	"bytes"
	"io"
	"strings"

	"golang.org/x/sys/unix"
)

// openFollowingScripts opens the program execve would load for path: path
// itself, or, while the file starts with "#!", the interpreter its first
// line names (at most maxInterpNest deep, as Linux). argv is what the
// loaded program gets: for a script, the interpreter, the line's optional
// argument (the rest of the line, as one), the script's path, then the
// original arguments after argv[0]. abs is the loaded file's absolute path.
// Errors are errno values: the open's, ELOOP, or ENOEXEC for a "#!" line
// that names nothing.
func (t *Task) openFollowingScripts(path string, argv []string) (r io.ReaderAt, size int64, abs string, _ []string, err error) {
	for depth := 0; ; depth++ {
		r, size, abs, err = t.OpenExecutable(path)
		if err != nil {
			return nil, 0, "", nil, err
		}
		head := make([]byte, maxInterpLine)
		n, _ := r.ReadAt(head, 0)
		head = head[:n]
		if !bytes.HasPrefix(head, []byte("#!")) {
			return r, size, abs, argv, nil
		}
		if depth == maxInterpNest {
			return nil, 0, "", nil, unix.ELOOP
		}
		line := head[2:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			return nil, 0, "", nil, unix.ENOEXEC
		}
		interp := fields[0]
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(line)), interp))
		nargv := []string{interp}
		if rest != "" {
			nargv = append(nargv, rest)
		}
		nargv = append(nargv, path)
		if len(argv) > 1 {
			nargv = append(nargv, argv[1:]...)
		}
		argv, path = nargv, interp
	}
}
