// Package storetest is the conformance suite and the benchmarks every
// store backend runs: Run checks every query, filter, order, page, facet
// count and lifecycle transition against answers the suite computes by
// brute force over its own fixture; RunReopen checks what survives
// closing a store and opening it again; Bench measures ingest and the
// console's two hot queries at a scale set by OTWATCH_BENCH_SCALE.
package storetest
