// Package all links every store backend into a program: import it for
// its side effect where store.Open is called.
package all

import (
	_ "github.com/otwatch/otwatch/internal/store/postgres" // registers "postgres"
	_ "github.com/otwatch/otwatch/internal/store/sqlite"   // registers "sqlite"
)
