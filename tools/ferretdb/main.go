// Command ferretdb-for-tests runs FerretDB with its SQLite backend for the test suites.
//
// It wraps FerretDB's embeddable package instead of building cmd/ferretdb: a build of
// cmd/ferretdb outside FerretDB's own repository panics at start-up, because its
// version check expects a version.txt that only their release tooling generates.
//
// It listens on -listen-addr (port 0 picks a free one), prints the MongoDB URI on
// stdout once the listener is ready, and stops cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:0", "TCP address to listen on")
	dataDir := flag.String("data-dir", "", "directory for the SQLite databases (required)")
	logLevel := flag.String("log-level", "warn", "one of debug, info, warn, error")
	flag.Parse()

	if *dataDir == "" {
		fmt.Fprintln(os.Stderr, "ferretdb-for-tests: -data-dir is required")
		os.Exit(2)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-for-tests: -log-level: %v\n", err)
		os.Exit(2)
	}

	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-for-tests: -data-dir: %v\n", err)
		os.Exit(2)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	server, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listenAddr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-for-tests: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- server.Run(ctx) }()

	// MongoDBURI blocks until the listener is bound, so the printed port is real.
	fmt.Println(server.MongoDBURI())

	if err := <-done; err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-for-tests: %v\n", err)
		os.Exit(1)
	}
}
