package wordish_test

import (
	"context"
	"fmt"
	"os"

	"github.com/wordish-go/wordish"
)

// Run replays articles as `wordish run` does: the text report goes to
// Stdout, and the Summary says what happened.
func ExampleRun() {
	cfg := wordish.Config{Stdout: os.Stdout}
	cfg.Report.Quiet = true // what went wrong, and the totals
	sum, err := wordish.Run(context.Background(), cfg, []string{"testdata/greeting.md"})
	if err != nil {
		fmt.Println(err) // a usage error: nothing ran
		return
	}
	fmt.Println("exit status", sum.Status)
	// Output:
	// FAIL testdata/greeting.md:7: $ echo "$greeting, moon"
	//     --- expected
	//     +++ actual
	//     @@ -1 +1 @@
	//     -hello, world
	//     +hello, moon
	// FAIL testdata/greeting.md: 2 passed, 1 failed, 0 errored, 0 skipped, 0 not run
	// 2 passed, 1 failed, 0 errored, 0 skipped, 0 not run
	// exit status 1
}
