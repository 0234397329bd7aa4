package objects_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects"
)

func TestBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   io.Reader
		size   int64
		want   string
		reason string // "" for success
	}{
		{"exact", strings.NewReader("hello"), 5, "hello", ""},
		{"unknown size", strings.NewReader("hello"), objects.UnknownSize, "hello", ""},
		{"empty", strings.NewReader(""), 0, "", ""},
		{"nil", nil, 0, "", ""},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader("hello")), 5, "hello", ""},
		{"short", strings.NewReader("hel"), 5, "", "ended after 3 of its declared 5 bytes"},
		{"long", strings.NewReader("hello!"), 5, "", "is longer than its declared 5 bytes"},
		{"broken", iotest.TimeoutReader(strings.NewReader("hello")), 5, "", "could not be read completely"},
		{"unexpected EOF", io.MultiReader(strings.NewReader("he"), iotest.ErrReader(io.ErrUnexpectedEOF)), 5, "", "could not be read completely"},
	}
	for _, tc := range tests {
		b := objects.NewBody(tc.body, tc.size)
		got, err := io.ReadAll(b)
		if tc.reason == "" {
			if err != nil || string(got) != tc.want || b.Count() != int64(len(tc.want)) {
				t.Errorf("%s: %q, %v (count %d); want %q", tc.name, got, err, b.Count(), tc.want)
			}
			continue
		}
		var be *objects.BodyError
		if !errors.As(err, &be) || !strings.Contains(be.Error(), tc.reason) || !errors.Is(err, lease.ErrInvalid) {
			t.Errorf("%s: error %v, want a *BodyError (ErrInvalid) saying %q", tc.name, err, tc.reason)
		}
	}
	b := objects.NewBody(bytes.NewReader([]byte("abc")), 3)
	if _, err := io.ReadFull(b, make([]byte, 3)); err != nil || !b.Complete() {
		t.Errorf("after all declared bytes: Complete() = %v (%v), want true", b.Complete(), err)
	}
	if objects.NewBody(strings.NewReader(""), objects.UnknownSize).Complete() {
		t.Error("a body of unknown size is never Complete before its end was read")
	}
}
