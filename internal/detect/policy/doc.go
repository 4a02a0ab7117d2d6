// Package policy is the Policy violation engine: it learns the baseline (devices, connections, protocols, functions, operation classes, ranges) and, once operational, alerts on what deviates from it.
package policy
