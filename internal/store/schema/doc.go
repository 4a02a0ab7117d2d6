// Package schema reads the versioned schema migrations a store backend
// embeds: files named NNNN_name.sql, each taking the schema from version
// NNNN-1 to NNNN, applied in order.
package schema
