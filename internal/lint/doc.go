// Package lint holds checks over the whole repository that run as ordinary
// tests: every package has a package comment, every exported name has a doc
// comment that starts with its name, and every dissector package is linked
// into the binary through internal/dissect/all.
package lint
