package arch

import (
	"reflect"
	"testing"
)

func TestMemAccesses(t *testing.T) {
	r := Registers{Rip: 0x1000, Rsp: 0x7000, Rbp: 0x7100, Rbx: 0x2000, Rcx: 3, Rdi: 0x3000, FsBase: 0x9000}
	for _, c := range []struct {
		name string
		code []byte
		want []MemAccess
	}{
		{"mov eax, [rip+0x10]", []byte{0x8b, 0x05, 0x10, 0, 0, 0}, []MemAccess{{0x1016, 4, false}}},
		{"mov [rbx+rcx*4+8], edx", []byte{0x89, 0x54, 0x8b, 0x08}, []MemAccess{{0x2014, 4, true}}},
		{"add dword [rdi], 1", []byte{0x83, 0x07, 0x01}, []MemAccess{{0x3000, 4, true}, {0x3000, 4, false}}},
		{"cmp byte [rdi-1], 0", []byte{0x80, 0x7f, 0xff, 0x00}, []MemAccess{{0x2fff, 1, false}}},
		{"lea rax, [rdi+8]", []byte{0x48, 0x8d, 0x47, 0x08}, nil},
		{"nop word [rax+rax]", []byte{0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00}, nil},
		{"push rbx", []byte{0x53}, []MemAccess{{0x6ff8, 8, true}}},
		{"ret", []byte{0xc3}, []MemAccess{{0x7000, 8, false}}},
		{"leave", []byte{0xc9}, []MemAccess{{0x7100, 8, false}}},
		{"mov rax, fs:[0x28]", []byte{0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0}, []MemAccess{{0x9028, 8, false}}},
		{"mov eax, ebx", []byte{0x89, 0xd8}, nil},
	} {
		got, ok := MemAccesses(c.code, &r)
		if !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, %v; want %v", c.name, got, ok, c.want)
		}
	}
	if _, ok := MemAccesses([]byte{0x8b}, &r); ok {
		t.Error("a truncated instruction decoded")
	}
}
