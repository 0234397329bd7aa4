package api

import (
	"context"
	"fmt"
	"strings"
)

// Mux is a Face made of faces: it serves each request by the face whose
// path prefix the request starts with (the longest prefix wins) and the
// rest by its fallback. The prefix is matched against the route template
// the gateway matched, then against the path as sent, so a function behind
// a catch-all route routes like the local server. Adapters take a Mux like
// any Face; a second face is one Handle call.
type Mux struct {
	fallback Face
	faces    []prefixed
}

type prefixed struct {
	prefix string
	face   Face
}

// NewMux returns a Mux that serves everything by fallback until faces are
// added.
func NewMux(fallback Face) *Mux { return &Mux{fallback: fallback} }

// Handle serves requests under prefix (for example "/v1/reddb/") by face.
// It panics on an empty or repeated prefix or a nil face: wiring mistakes
// that must not reach a deployment.
func (m *Mux) Handle(prefix string, face Face) *Mux {
	if prefix == "" || face == nil {
		panic("api: Mux.Handle needs a prefix and a face")
	}
	for _, f := range m.faces {
		if f.prefix == prefix {
			panic(fmt.Sprintf("api: Mux prefix %q handled twice", prefix))
		}
	}
	m.faces = append(m.faces, prefixed{prefix: prefix, face: face})
	return m
}

// Serve implements Face.
func (m *Mux) Serve(ctx context.Context, req Request) Response {
	return m.faceOf(req).Serve(ctx, req)
}

func (m *Mux) faceOf(req Request) Face {
	for _, p := range []string{req.Route, req.Path} {
		var best *prefixed
		for i, f := range m.faces {
			if strings.HasPrefix(p, f.prefix) && (best == nil || len(f.prefix) > len(best.prefix)) {
				best = &m.faces[i]
			}
		}
		if best != nil {
			return best.face
		}
	}
	return m.fallback
}
