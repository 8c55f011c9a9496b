package runner

import (
	"testing"

	"github.com/wordish-go/wordish/parser"
)

func TestStepName(t *testing.T) {
	tests := []struct {
		line    int
		command string
		want    string
	}{
		{90, "pvcreate /dev/loop1", "L90_pvcreate_dev_loop1"},
		{1, "ls", "L1_ls"},
		{7, "", "L7"},
		{7, "|| &&", "L7"},                       // nothing left of the command
		{3, "  Echo  HELLO!  ", "L3_echo_hello"}, // case folded, ends trimmed
		{4, "grep -c 'a b' f.txt", "L4_grep_c_a_b_f_txt"},
		{5, "echo héllo wörld", "L5_echo_h_llo_w_rld"}, // non-ASCII is a separator
		{6, "for i in 1 2; do\n  echo $i\ndone", "L6_for_i_in_1_2_do"},
		{8, "rm -rf x # wordish: cleanup", "L8_rm_rf_x"},
		// 30 characters at most, cut at a word boundary.
		{9, "lvcreate --size 100M --name data volume_group_one", "L9_lvcreate_size_100m_name_data"},
		{10, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "L10_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		{11, "abcdefghijklmnopqrstuvwxyz0123 next", "L11_abcdefghijklmnopqrstuvwxyz0123"},
	}
	for _, tt := range tests {
		got := StepName(&parser.Step{Line: tt.line, Command: tt.command})
		if got != tt.want {
			t.Errorf("StepName(%d, %q) = %q, want %q", tt.line, tt.command, got, tt.want)
		}
		if len(got) > len("L")+len("99999")+1+slugMax {
			t.Errorf("StepName(%q) = %q: too long", tt.command, got)
		}
	}
}
