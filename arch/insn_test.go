package arch

import "testing"

func TestInstructionWrites(t *testing.T) {
	tests := []struct {
		name  string
		code  []byte
		write bool
	}{
		{"mov [rax], ecx", []byte{0x89, 0x08}, true},
		{"mov ecx, [rax]", []byte{0x8b, 0x08}, false},
		{"cmp [rax], ecx", []byte{0x39, 0x08}, false},
		{"push rax", []byte{0x50}, true},
		{"call rel32", []byte{0xe8, 0, 0, 0, 0}, true},
		{"rep stosb", []byte{0xf3, 0xaa}, true},
		{"inc dword [rax]", []byte{0xff, 0x00}, true},
		{"add [rdi], rax", []byte{0x48, 0x01, 0x07}, true},
		{"lock cmpxchg [rdi], rcx", []byte{0xf0, 0x48, 0x0f, 0xb1, 0x0f}, true},
		{"movdqu xmm0, [rsi]", []byte{0xf3, 0x0f, 0x6f, 0x06}, false},
		{"movdqu [rdi], xmm0", []byte{0xf3, 0x0f, 0x7f, 0x07}, true},
		{"jmp [rax]", []byte{0xff, 0x20}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, ok := InstructionWrites(tc.code)
			if !ok {
				t.Fatalf("did not decode")
			}
			if w != tc.write {
				t.Errorf("InstructionWrites = %v, want %v", w, tc.write)
			}
		})
	}
	if _, ok := InstructionWrites(nil); ok {
		t.Errorf("truncated instruction decoded")
	}
}
