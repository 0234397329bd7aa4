package safety

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// EncodeOps writes a history as JSON lines, one op per line, so that child
// processes can hand their part of a history to the parent.
func EncodeOps(w io.Writer, ops []Op) error {
	enc := json.NewEncoder(w)
	for _, op := range ops {
		if err := enc.Encode(op); err != nil {
			return fmt.Errorf("encode op: %w", err)
		}
	}
	return nil
}

// DecodeOps reads what EncodeOps wrote. It rejects unknown fields, kinds
// and outcomes, and inverted call/return stamps or clock windows, so that
// a garbled child output cannot pass as a (trivially linearizable) history.
func DecodeOps(r io.Reader) ([]Op, error) {
	var ops []Op
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var op Op
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&op); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("line %d: trailing data", line)
		}
		if err := validOp(op); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		ops = append(ops, op)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read ops: %w", err)
	}
	return ops, nil
}

func validOp(op Op) error {
	switch {
	case op.Input.Kind < KindAcquire || op.Input.Kind > KindGet:
		return fmt.Errorf("unknown kind %d", op.Input.Kind)
	case op.Output.Outcome < OutcomeOK || op.Output.Outcome > OutcomeClockSkew:
		return fmt.Errorf("unknown outcome %d", op.Output.Outcome)
	case op.Input.Key == "":
		return fmt.Errorf("empty key")
	case op.Call > op.Return:
		return fmt.Errorf("call %d after return %d", op.Call, op.Return)
	case op.Output.StartMs > op.Output.EndMs:
		return fmt.Errorf("clock window [%d,%d] inverted", op.Output.StartMs, op.Output.EndMs)
	}
	return nil
}
