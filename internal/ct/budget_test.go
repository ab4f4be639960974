package ct

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	b := newBudget(10)
	ctx := context.Background()
	if err := b.acquire(ctx, 6); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() { got <- b.acquire(ctx, 6) }()
	select {
	case err := <-got:
		t.Fatalf("acquired 6 of 4 free entries (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	b.release(6)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// Waiting ends with the context.
	cctx, cancel := context.WithCancel(ctx)
	go func() { got <- b.acquire(cctx, 5) }()
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire after cancel: %v", err)
	}
	// A nil budget never waits.
	var nb *budget
	if err := nb.acquire(ctx, 1<<40); err != nil {
		t.Fatal(err)
	}
	nb.release(3)
}
