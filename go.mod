module github.com/wordish-go/wordish

go 1.26.0

require (
	github.com/PuerkitoBio/goquery v1.13.0
	github.com/bmatcuk/doublestar/v4 v4.10.4
	github.com/creack/pty v1.1.24
	github.com/fsnotify/fsnotify v1.10.1
	github.com/google/go-cmp v0.7.0
	github.com/yuin/goldmark v1.8.7
	golang.org/x/net v0.58.0
	golang.org/x/sys v0.50.0
	mvdan.cc/sh/v3 v3.14.1
)

require github.com/andybalholm/cascadia v1.3.4 // indirect
